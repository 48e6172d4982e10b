"""Chaos, long tier: 4 sites at once on 2 real RQ workers, 120 work horses SIGKILLed at random
moments spread over the runs and 2 Redis restarts (no persistence), on SQLite and PostgreSQL.
The invariants are checked by tests/chaos.py (the same code as the CI tier,
tests/integration/test_chaos.py): every run completes, outputs and credits equal a crash-free run,
the ledger reconciles, no lock or lease is left.

    python bench/chaos.py [--sites 4] [--kills 120] [--restarts 2] [--keywords 40] [--backend sqlite|postgresql|both] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness as h  # noqa: E402
from bench._results import emit, row, verdict  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=4)
    ap.add_argument("--kills", type=int, default=120)
    ap.add_argument("--restarts", type=int, default=2)
    ap.add_argument("--keywords", type=int, default=40, help="keywords per site")
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from tests.chaos import run_chaos
    from tests.conftest import free_port

    print(f"# {h.command_line()}")
    per: dict[str, dict] = {}
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        tmp = Path(tempfile.mkdtemp(prefix=f"igny8-chaos-{backend}-"))
        with h.fresh_database(backend, tmp) as url:
            h.configure(url, None, tmp / "media")
            try:
                result = run_chaos(tmp=tmp, redis_port=free_port(), n_sites=args.sites, kills=args.kills,
                                   redis_restarts=args.restarts, n_keywords=args.keywords, seed=args.seed or None,
                                   deadline_s=3600)
            except AssertionError as exc:  # an invariant broke: reported as missed, exit code 1
                per[backend] = {"held": False, "error": str(exc)[:500]}
                print(f"{backend}: INVARIANT BROKEN: {exc}", flush=True)
                continue
        per[backend] = {"held": True, "kills": len(result.kills), "redis_restarts": result.redis_restarts,
                        "seed": result.seed, "seconds": result.elapsed, "recoveries_s": result.recoveries}
        print(f"{backend}: {result.summary()}  -> all invariants held", flush=True)
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    ok = all(x["held"] and x["kills"] >= 100 and x["redis_restarts"] >= 1 for x in per.values())
    emit({"sites": args.sites, "backends": per}, [row("chaos_invariants", verdict=verdict(ok), measured="; ".join(
        f"{label[b]}: {x['kills']} kills, {x['redis_restarts']} Redis restart(s), every invariant held" if x["held"]
        else f"{label[b]}: invariant broken ({x['error'][:120]})" for b, x in per.items()))])
    if not all(x["held"] for x in per.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
