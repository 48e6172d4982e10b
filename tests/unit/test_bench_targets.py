"""BENCHMARKS.md's targets table is generated from stored benchmark results, never typed.

Pure tests of bench/_report.py (rendering) plus one check that the committed BENCHMARKS.md is
exactly what bench/run_all.py renders from the committed bench/results/*.json.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench._report import NOT_MEASURED, Bench, Target, render_document, render_targets, target_rows  # noqa: E402
from bench._results import row  # noqa: E402

A = Bench("alpha", "Alpha does things.", ("bench/alpha.py",), ("bench/alpha.py", "--quick"),
          (Target("a_p99", "Alpha latency", "p99 <= 10 ms"), Target("a_mem", "Alpha memory", "< 1 GB")))
B = Bench("beta", "Beta does other things.", ("bench/beta.py",), ("bench/beta.py",),
          (Target("b_ok", "Beta invariant", "holds"),))


def record(name: str, targets: list[dict], *, when: str = "2026-12-01 10:00 UTC", exit_code: int = 0,
           quick: bool = False) -> dict:
    return {"benchmark": name, "command": f"python bench/{name}.py", "measured_at": when, "commit": "abc1234",
            "quick": quick, "took_s": 12.0, "load_before": "0.10 0.20 0.30", "load_after": "1.00 0.50 0.40",
            "cores": 2, "python": "3.11.7", "exit_code": exit_code, "output": f"{name} output line",
            "figures": {}, "targets": targets}


def test_a_benchmark_never_run_reads_not_measured_for_every_target_it_registers():
    rows = target_rows([A, B], {"alpha": record("alpha", [row("a_p99", measured="p99 7 ms", verdict="met"),
                                                          row("a_mem", measured="300 MB", verdict="met")])})
    beta = [r for r in rows if r[0] == "beta"]
    assert beta == [("beta", "Beta invariant", "holds", f"{NOT_MEASURED}: no stored result", NOT_MEASURED, "—")]


def test_rows_carry_the_measured_figure_verdict_and_date_of_their_own_record():
    recs = {"alpha": record("alpha", [row("a_p99", measured="p99 12 ms", verdict="missed"),
                                      row("a_mem", measured="300 MB", verdict="met")], when="2026-12-01 10:00 UTC"),
            "beta": record("beta", [row("b_ok", measured="held 3/3", verdict="met")], when="2026-11-02 08:00 UTC")}
    rows = target_rows([A, B], recs)
    assert rows == [
        ("alpha", "Alpha latency", "p99 <= 10 ms", "p99 12 ms", "**missed**", "2026-12-01 10:00 UTC, abc1234"),
        ("alpha", "Alpha memory", "< 1 GB", "300 MB", "met", "2026-12-01 10:00 UTC, abc1234"),
        ("beta", "Beta invariant", "holds", "held 3/3", "met", "2026-11-02 08:00 UTC, abc1234"),
    ]


def test_rerunning_one_benchmark_changes_only_its_own_rows():
    beta = record("beta", [row("b_ok", measured="held 3/3", verdict="met")], when="2026-11-02 08:00 UTC")
    before = target_rows([A, B], {"alpha": record("alpha", [row("a_p99", measured="p99 7 ms", verdict="met")]),
                                  "beta": beta})
    after = target_rows([A, B], {"alpha": record("alpha", [row("a_p99", measured="p99 9 ms", verdict="met")],
                                                 when="2026-12-03 09:00 UTC"), "beta": beta})
    assert [r for r in before if r[0] == "beta"] == [r for r in after if r[0] == "beta"]
    assert after[0][3:] == ("p99 9 ms", "met", "2026-12-03 09:00 UTC, abc1234")


def test_a_target_the_run_did_not_report_or_a_failed_run_is_not_measured():
    partial = target_rows([A], {"alpha": record("alpha", [row("a_p99", measured="p99 7 ms", verdict="met")])})
    assert partial[1][3:5] == (f"{NOT_MEASURED}: its run on 2026-12-01 10:00 UTC did not report it", NOT_MEASURED)
    failed = target_rows([A], {"alpha": record("alpha", [], exit_code=1)})
    assert {r[4] for r in failed} == {NOT_MEASURED}
    assert "failed (exit code 1)" in failed[0][3]


def test_rows_a_benchmark_emits_without_declaring_them_are_shown_and_quick_runs_are_marked():
    rec = record("beta", [row("b_ok", measured="held", verdict="met"),
                          {**row("b_extra", measured="42 | 43", verdict="no target"), "what": "Beta extra"}],
                 quick=True)
    table = render_targets([B], {"beta": rec})
    assert "| beta | Beta extra |  | 42 \\| 43 | no target | 2026-12-01 10:00 UTC, abc1234 (quick sizes) |" in table


def test_a_run_can_override_the_declared_target_text():
    rows = target_rows([A], {"alpha": record("alpha", [row("a_p99", measured="p99 7 ms", verdict="met",
                                                           target="p99 <= 20 ms (items of 10 ms)")])})
    assert rows[0][2] == "p99 <= 20 ms (items of 10 ms)"


def test_row_refuses_an_unknown_verdict():
    with pytest.raises(ValueError):
        row("x", measured="1", verdict="fine")


def test_document_has_each_section_with_its_output_and_the_table_last():
    doc = render_document([A, B], {"alpha": record("alpha", [row("a_p99", measured="p99 7 ms", verdict="met")])},
                          rendered_at="2026-12-04 00:00 UTC", results_dir="bench/results",
                          command="python bench/run_all.py")
    assert doc.index("## alpha") < doc.index("## beta") < doc.index("## Targets: met and missed")
    assert "$ python bench/alpha.py\nalpha output line\n" in doc
    assert "load average before 0.10 0.20 0.30, after 1.00 0.50 0.40" in doc
    assert "Not measured: no stored result (`bench/results/beta.json`)" in doc


def _run_all():
    spec = importlib.util.spec_from_file_location("bench_run_all", ROOT / "bench" / "run_all.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_benchmarks_md_table_is_the_rendering_of_the_committed_results():
    run_all = _run_all()
    records = run_all.load_records(run_all.RESULTS)
    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    table = text[text.index("## Targets: met and missed"):]
    assert render_targets(run_all.BENCHES, records) in table, "BENCHMARKS.md's targets table was edited by hand " \
        "or not re-rendered: run `python bench/run_all.py --render`"
    assert table.count("\n| ") - 1 == sum(1 for _ in target_rows(run_all.BENCHES, records))
    for name, rec in records.items():  # every stored record's output is in its section, verbatim
        assert rec["output"] in text, name


def test_every_benchmark_registers_at_least_one_target_row():
    run_all = _run_all()
    assert all(b.targets for b in run_all.BENCHES)
    ids = [t.id for b in run_all.BENCHES for t in b.targets]
    assert len(ids) == len(set(ids))


# --- pipeline overhead: a per-item cost below zero is explained, never quoted bare -------------

def _overhead():
    spec = importlib.util.spec_from_file_location("pipeline_overhead", ROOT / "bench" / "pipeline_overhead.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_overhead_pairs_summarise_as_median_and_range():
    r = _overhead().summarise({"pairs": [{"ratio": 0.6, "overhead_ms_per_item": 4.0},
                                         {"ratio": 0.5, "overhead_ms_per_item": 6.0},
                                         {"ratio": 0.7, "overhead_ms_per_item": 3.0}]})
    assert (r["ratio_median"], r["ratio_min"], r["ratio_max"]) == (0.6, 0.5, 0.7)
    assert (r["overhead_median"], r["overhead_min"], r["overhead_max"]) == (4.0, 3.0, 6.0)
    assert r["note"] is None


def test_negative_per_item_costs_come_with_the_reason():
    po = _overhead()
    some = po.noise_note([3.0, -0.5, 2.0, 4.0, 1.0])
    assert some.startswith("1 of 5 pairs came out negative") and "noise" in some
    most = po.noise_note([-1.0, -2.0, 0.5])
    assert "so does the median" in most and "below what this shared machine's noise resolves" in most


def test_horse_rss_is_flat_only_without_growth_after_half_way():
    po = _overhead()
    assert po.horse_rss([140.0, 150.0, 152.0, 153.0])["flat"]
    assert not po.horse_rss([140.0, 150.0, 160.0, 190.0])["flat"]  # 190 > 1.1 x 160
