"""The ``igny8`` command: the same services as the UI and API, no logic of its own.

Run as ``igny8 …`` (console script) or ``python -m igny8_app.cli …`` from the repo root.
Refused actions exit with status 1 and print the reason on stderr (as JSON with ``--json``).
The commands live by topic in ``setup``, ``runs`` and ``ops``; importing them registers them.
"""

from __future__ import annotations

# importing the topic modules registers their commands, in this order in --help
from igny8_app.cli import setup  # noqa: F401, I001
from igny8_app.cli import runs  # noqa: F401
from igny8_app.cli import ops  # noqa: F401
from igny8_app.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    app()
