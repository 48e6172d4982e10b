"""Pause and cancel latency on real RQ workers: from the REST API call to the run's status being
``paused`` / ``cancelled`` in the database, with the offline provider at 200 ms per item.

* 50 pauses at random moments of one long run (each followed by a resume after a short pause),
  once the run is past stage 1 (a stage-1 item is a batch of 20 keywords whose clustering costs
  far more CPU than the 200 ms delay, so it is not a 200 ms item);
* 20 cancels, each of a fresh run, at a random moment.

The API is the real route code (Starlette TestClient over igny8_app.api.automation_routes with an
owner's API token); two ``igny8 worker`` processes execute the run. The status is polled every
5 ms. Target: p99 <= item time + 150 ms (350 ms here).

    python bench/pause_latency.py [--pauses 50] [--cancels 20] [--delay-ms 200] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness as h  # noqa: E402
from bench._results import emit, row, verdict  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s))) - 1))]


def _wait(run_pk: int, statuses: tuple[str, ...], timeout: float = 60) -> tuple[str, float]:
    from igny8_app.db import read_session
    from igny8_app.models import AutomationRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with read_session() as s:
            status = s.get(AutomationRun, run_pk).status
        if status in statuses:
            return status, time.monotonic()
        time.sleep(0.005)
    raise TimeoutError(f"run {run_pk} not in {statuses}")


def measure(backend: str, args, tmp: Path) -> dict:  # noqa: ANN001
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from igny8_app.api import automation_routes
    from igny8_app.db import write_session
    from igny8_app.models import AutomationRun
    from igny8_app.services.accounts import access as accounts
    from tests.factories import make_user

    rng = random.Random(args.seed)
    env = {"AI_PROVIDER": "offline", "OFFLINE_AI_DELAY_MS": str(args.delay_ms)}
    out = {"pause": [], "cancel": [], "pause_at": [], "cancel_at": []}
    with h.private_redis() as redis_url, h.fresh_database(backend, tmp) as url:
        h.configure(url, redis_url, tmp / f"media-{backend}", **env)
        site = h.seed_sites(1, 800)[0]
        cancel_sites = h.seed_sites(args.cancels, 40)
        with write_session() as s:
            user = make_user(s, role="owner")
            from igny8_app.models import Membership

            for m in s.exec(__import__("sqlmodel").select(Membership).where(Membership.user_id == user.id)).all():
                s.delete(m)
            for acc in {site.account_id, *(c.account_id for c in cancel_sites)}:
                accounts.add_membership(session=s, user_id=user.id, account_id=acc, role="owner")
            token = accounts.create_api_token(session=s, user_id=user.id)[1]
        client = TestClient(Starlette(routes=automation_routes.routes))
        auth = {"Authorization": f"Bearer {token}"}
        api = "/api/v1/automation"
        workers = h.start_workers(2, tmp / f"logs-{backend}", **env)
        try:
            r = client.post(f"{api}/run_now", params={"site_id": site.site_id}, headers=auth)
            assert r.status_code == 201, r.text
            run_id = r.json()["run_id"]
            with write_session() as s:
                run_pk = s.exec(__import__("sqlmodel").select(AutomationRun.id)
                                .where(AutomationRun.run_id == run_id)).one()
            from igny8_app.db import read_session

            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:  # past stage 1: items are one AI call each
                with read_session() as s:
                    if s.get(AutomationRun, run_pk).current_stage >= 2:
                        break
                time.sleep(0.2)
            time.sleep(0.5)
            for _ in range(args.pauses):
                time.sleep(rng.uniform(0.05, 0.6))  # a random moment inside some item
                t0, wall0 = time.monotonic(), time.time()
                r = client.post(f"{api}/pause", params={"site_id": site.site_id, "run_id": run_id}, headers=auth)
                assert r.status_code == 200, r.text
                status, t1 = _wait(run_pk, ("paused", "completed"))
                if status != "paused":
                    break
                out["pause"].append((t1 - t0) * 1000)
                out["pause_at"].append((run_id, wall0, (t1 - t0) * 1000))
                time.sleep(0.1)
                r = client.post(f"{api}/resume", params={"site_id": site.site_id, "run_id": run_id}, headers=auth)
                assert r.status_code == 200, r.text
                _wait(run_pk, ("running",))
            for cs in cancel_sites:
                r = client.post(f"{api}/run_now", params={"site_id": cs.site_id}, headers=auth)
                assert r.status_code == 201, r.text
                rid = r.json()["run_id"]
                time.sleep(rng.uniform(0.8, 2.0))
                t0, wall0 = time.monotonic(), time.time()
                r = client.post(f"{api}/cancel", params={"site_id": cs.site_id, "run_id": rid}, headers=auth)
                assert r.status_code == 200, r.text
                with write_session() as s:
                    pk = s.exec(__import__("sqlmodel").select(AutomationRun.id).where(AutomationRun.run_id == rid)).one()
                status, t1 = _wait(pk, ("cancelled", "completed"))
                if status == "cancelled":
                    out["cancel"].append((t1 - t0) * 1000)
                    out["cancel_at"].append((rid, wall0, (t1 - t0) * 1000))
            client.post(f"{api}/cancel", params={"site_id": site.site_id, "run_id": run_id}, headers=auth)
        finally:
            workers.stop()
        out["in_flight"] = {what: [_in_flight(*sample) for sample in out[f"{what}_at"]] for what in ("pause", "cancel")}
    return out


def _in_flight(run_id: str, wall0: float, latency_ms: float) -> tuple[float, float] | None:
    """(duration of the item that was being worked when the request came, ms from that item's
    commit to the stop) from the run's trace, or None if the stop came between items."""
    import json
    from datetime import datetime

    from igny8_app.settings import get_settings

    done, stops = [], []
    for line in (get_settings().runs_dir / run_id / "trace.jsonl").read_text().splitlines():
        ev = json.loads(line)
        ts = datetime.fromisoformat(ev["ts"]).timestamp()
        if ev["event"] in ("stage_item_processed", "stage_item_failed", "stage_start"):
            done.append(ts)
        elif ev["event"] in ("pause", "cancel", "run_cancelled"):
            stops.append(ts)
    after = [t for t in done if t > wall0]
    before = [t for t in done if t <= wall0]
    stop = next((t for t in stops if t > wall0), None)
    if not after or not before or stop is None or after[0] > stop:
        return None
    return (after[0] - before[-1]) * 1000, (wall0 + latency_ms / 1000 - after[0]) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pauses", type=int, default=50)
    ap.add_argument("--cancels", type=int, default=20)
    ap.add_argument("--delay-ms", type=int, default=200)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print(f"# {h.command_line()}")
    target = args.delay_ms + 150
    figures: dict = {"delay_ms": args.delay_ms, "target_ms": target, "backends": {}}
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        res = measure(backend, args, Path(tempfile.mkdtemp(prefix=f"igny8-pause-{backend}-")))
        figures["backends"][backend] = fig = {}
        for what in ("pause", "cancel"):
            v = res[what]
            if not v:
                print(f"{backend} {what}: no samples")
                continue
            p99 = _pct(v, 99)
            fig[what] = {"n": len(v), "p50_ms": _pct(v, 50), "p99_ms": p99, "max_ms": max(v)}
            print(f"{backend:<10} {what:<6} n={len(v):<3} p50 {_pct(v, 50):6.0f} ms  p99 {p99:6.0f} ms  "
                  f"max {max(v):6.0f} ms   target p99 <= {target} ms: {'met' if p99 <= target else 'MISSED'}",
                  flush=True)
            known = [x for x in res["in_flight"][what] if x]
            if known:
                item = [d for d, _ in known]
                after = [a for _, a in known]
                within = sum(1 for x, lat in zip(res["in_flight"][what], v) if x and lat <= x[0] + 150)
                fig[what].update(in_flight_known=len(known), within_item_plus_150=within)
                print(f"{'':<10} {'':<6} the item in flight took p50 {_pct(item, 50):.0f} ms, p99 {_pct(item, 99):.0f} ms "
                      f"(n={len(known)}); its commit -> {what} in the database: p50 {_pct(after, 50):.0f} ms, "
                      f"p99 {_pct(after, 99):.0f} ms; latency <= that item's time + 150 ms in {within}/{len(known)}",
                      flush=True)
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    rows = []
    for what in ("pause", "cancel"):
        per = {b: f[what] for b, f in figures["backends"].items() if what in f}
        measured = "; ".join(
            f"{label[b]} p99 {x['p99_ms']:.0f} ms (p50 {x['p50_ms']:.0f}, n={x['n']})"
            + (f", within the in-flight item's time + 150 ms {x['within_item_plus_150']}/{x['in_flight_known']}"
               if "in_flight_known" in x else "") for b, x in per.items())
        if len(per) == len(figures["backends"]) and per:
            rows.append(row(f"{what}_p99", measured=measured, target=f"p99 <= item time + 150 ms ({target} ms)",
                            verdict=verdict(all(x["p99_ms"] <= target for x in per.values()))))
    emit(figures, rows)


if __name__ == "__main__":
    main()
