"""Render BENCHMARKS.md from the stored benchmark records (pure: no I/O, no clock).

A *record* is what ``bench/run_all.py`` stores in ``bench/results/<name>.json`` after running one
benchmark: the command, its verbatim output, when and on which commit it ran, the load average,
and what the benchmark emitted (``figures`` and ``targets``, see ``bench/_results.py``).

The targets table is built only from records: each benchmark declares the targets it registers
(:class:`Target`), and a declared target with no measured row in its benchmark's record reads
"not measured", never a figure. Rows a benchmark emits without declaring them are shown too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Target:
    id: str
    what: str  # what is measured
    target: str  # the target, in words


@dataclass(frozen=True)
class Bench:
    name: str
    what: str  # the section's description
    full: tuple[str, ...]  # argv after `python`, at the sizes the figures are quoted at
    quick: tuple[str, ...]  # smoke-run sizes
    targets: tuple[Target, ...] = ()


Record = Mapping[str, Any]


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _when(rec: Record) -> str:
    out = f"{rec.get('measured_at', '?')}, {rec.get('commit', '?')}"
    return out + (" (quick sizes)" if rec.get("quick") else "")


def _verdict(v: str) -> str:
    return "**missed**" if v == "missed" else v


def target_rows(benches: Sequence[Bench], records: Mapping[str, Record]) -> list[tuple[str, ...]]:
    """(benchmark, what is measured, target, measured, verdict, measured on) for every target row."""
    rows: list[tuple[str, ...]] = []
    for b in benches:
        rec = records.get(b.name)
        emitted = {r["id"]: r for r in (rec or {}).get("targets") or []}
        declared = {t.id: t for t in b.targets}
        for tid in [*declared, *(i for i in emitted if i not in declared)]:
            t, r = declared.get(tid), emitted.get(tid)
            what = t.what if t else r.get("what", tid)
            target = (r or {}).get("target") or (t.target if t else "")
            if r is not None:
                rows.append((b.name, what, target, r["measured"], _verdict(r["verdict"]), _when(rec)))
                continue
            if rec is None:
                why = "no stored result"
            elif rec.get("exit_code"):
                why = f"its run on {rec.get('measured_at', '?')} failed (exit code {rec['exit_code']})"
            else:
                why = f"its run on {rec.get('measured_at', '?')} did not report it"
            rows.append((b.name, what, target, f"{NOT_MEASURED}: {why}", NOT_MEASURED, "—"))
    return rows


def render_targets(benches: Sequence[Bench], records: Mapping[str, Record]) -> str:
    head = ("| Benchmark | What is measured | Target | Measured | Verdict | Measured on |\n"
            "|---|---|---|---|---|---|\n")
    return head + "".join("| " + " | ".join(_cell(c) for c in r) + " |\n" for r in target_rows(benches, records))


def render_section(bench: Bench, rec: Record | None, results_dir: str = "bench/results") -> str:
    head = f"## {bench.name}\n\n{bench.what}\n\n"
    if rec is None:
        return head + (f"Not measured: no stored result (`{results_dir}/{bench.name}.json`); "
                       f"`python bench/run_all.py --only {bench.name}` measures it.\n")
    out = rec.get("output", "").rstrip()
    if rec.get("exit_code"):
        out += f"\n\n(exit code {rec['exit_code']})\n{rec.get('stderr_tail', '')}".rstrip()
    return (head + f"```\n$ {rec.get('command', '?')}\n{out}\n```\n\n"
            f"Measured {_when(rec)}: took {rec.get('took_s', 0):.0f} s; load average before "
            f"{rec.get('load_before', '?')}, after {rec.get('load_after', '?')}; {rec.get('cores', '?')} cores, "
            f"Python {rec.get('python', '?')}.\n")


def render_document(benches: Sequence[Bench], records: Mapping[str, Record], *, rendered_at: str,
                    results_dir: str, command: str) -> str:
    header = (
        f"# Benchmarks\n\nRendered by `{command}` on {rendered_at} from the stored results in "
        f"`{results_dir}/` (one JSON file per benchmark: its command, verbatim output, measured figures "
        "and target rows). Every figure below is the output of the command above it, measured on the "
        "date and commit shown with it; `python bench/run_all.py --only NAME` reruns one benchmark and "
        "renders this file again, the others keeping their stored results. The targets table at the end "
        "is generated from those results; do not edit it by hand. These machines are shared (2 cores, other "
        "engineers' tests running), so each benchmark records the load average, and ratios are measured "
        "side by side, interleaved where it matters.\n\n")
    sections = "\n".join(render_section(b, records.get(b.name), results_dir) for b in benches)
    return (header + sections + "\n## Targets: met and missed\n\nGenerated from the results above: one row per "
            "target a benchmark registers, its figure as that benchmark measured it.\n\n"
            + render_targets(benches, records))
