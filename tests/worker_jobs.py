"""Job functions the worker tests enqueue (importable by `igny8 worker` started from the repo)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def sleep_then_touch(path: str, seconds: float) -> str:
    """Mark the start, work ``seconds``, then write ``path``: a job that is visibly finished or not."""
    Path(path + ".started").write_text(str(os.getpid()))  # the work horse
    time.sleep(seconds)
    Path(path).write_text("done")
    return "done"
