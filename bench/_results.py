"""Machine-readable results of one benchmark run: the figures it measured and its target rows.

A benchmark calls :func:`emit` once, at the end, with its figures (plain numbers) and one
:func:`row` per target it registers (``bench/run_all.py`` declares the ids, so a target that was
never measured still shows up, as "not measured"). ``run_all.py`` passes the file to write in
``IGNY8_BENCH_RESULT``; it adds the command, its verbatim output, the date and the load average,
stores the record under ``bench/results/`` and renders BENCHMARKS.md from the stored records only.
Run on its own (no ``IGNY8_BENCH_RESULT``), a benchmark just prints.

Standard library only: imported by every benchmark before the app is.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

RESULT_ENV = "IGNY8_BENCH_RESULT"
MET, MISSED, NO_TARGET = "met", "missed", "no target"
VERDICTS = (MET, MISSED, NO_TARGET)


def verdict(ok: bool) -> str:
    return MET if ok else MISSED


def row(target_id: str, *, measured: str, verdict: str, target: str | None = None) -> dict[str, Any]:
    """One target row. ``target`` overrides the declared target text when the run's parameters
    change it (e.g. a different item delay); ``measured`` is the figure as the table shows it."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, not {verdict!r}")
    out: dict[str, Any] = {"id": target_id, "measured": measured, "verdict": verdict}
    if target is not None:
        out["target"] = target
    return out


def _clean(value: Any) -> Any:  # JSON has no NaN/inf: store them as null
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def emit(figures: dict[str, Any], targets: list[dict[str, Any]]) -> None:
    """Write this run's figures and target rows where run_all.py asked for them (if it did)."""
    path = os.environ.get(RESULT_ENV)
    if not path:
        return
    Path(path).write_text(json.dumps({"figures": _clean(figures), "targets": targets}, indent=1,
                                     ensure_ascii=False) + "\n", encoding="utf-8")
