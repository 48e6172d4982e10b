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
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        tmp = Path(tempfile.mkdtemp(prefix=f"igny8-chaos-{backend}-"))
        with h.fresh_database(backend, tmp) as url:
            h.configure(url, None, tmp / "media")
            result = run_chaos(tmp=tmp, redis_port=free_port(), n_sites=args.sites, kills=args.kills,
                               redis_restarts=args.restarts, n_keywords=args.keywords, seed=args.seed or None,
                               deadline_s=3600)
        print(f"{backend}: {result.summary()}  -> all invariants held", flush=True)


if __name__ == "__main__":
    main()
