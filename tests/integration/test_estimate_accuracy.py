"""The estimate shown before a run against what the run is then charged: a real run, in-process
(the work horse's code path without RQ), the offline provider, a real database and Redis.
Target: within 20%, on the site's first run and on a second run of new keywords."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from igny8_app.ai.offline import OfflineProvider
from igny8_app.db import read_session, write_session
from igny8_app.models import AutomationRun, CreditTransaction, RunEvent
from igny8_app.services.automation import control as automation
from igny8_app.services.automation.run_loop import execute_run
from igny8_app.services.content import keywords
from igny8_app.services.system.demo import demo_csv
from tests.factories import make_account, make_site

pytestmark = pytest.mark.usefixtures("redis")
TOLERANCE = 0.20


def demo_lines(start: int, stop: int) -> bytes:
    lines = demo_csv().decode().splitlines()
    return ("\n".join([lines[0], *lines[1 + start:1 + stop]]) + "\n").encode()


def estimate_then_charged(site_id: int) -> tuple[int, int, int]:
    """(estimate before the run, credits the ledger charged the run, the run's pk)."""
    with read_session() as s:
        est = automation.estimate(session=s, site_id=site_id)["total"]
    run = automation.start_run(site_id=site_id, enqueue=False)
    assert execute_run(run.id, provider=OfflineProvider(), slice_seconds=10_000) == "completed"
    with read_session() as s:
        charged = -int(s.execute(sa.select(sa.func.sum(CreditTransaction.amount))
                                 .where(CreditTransaction.run_id == run.run_id)).scalar_one())
        assert charged == s.get(AutomationRun, run.id).total_credits_used
    return est, charged, run.id


def test_the_estimate_is_within_20_percent_of_what_the_run_is_charged(db) -> None:
    with write_session() as s:
        site_id = make_site(s, make_account(s, credits=100_000)).id
        keywords.import_keywords(session=s, site_id=site_id, data=demo_lines(0, 68))  # four topics
    est, charged, run_pk = estimate_then_charged(site_id)
    assert abs(est - charged) <= TOLERANCE * charged, f"first run: estimated {est}, charged {charged}"
    with read_session() as s:
        last = s.execute(sa.select(RunEvent.message).where(RunEvent.run_pk == run_pk)
                         .order_by(RunEvent.id.desc()).limit(1)).scalar_one()
    assert last == f"Run completed: {charged} credits used (estimated {est})."

    with write_session() as s:  # a second run of new keywords: the estimate learns from the first
        keywords.import_keywords(session=s, site_id=site_id, data=demo_lines(68, 136))
    est, charged, _ = estimate_then_charged(site_id)
    assert abs(est - charged) <= TOLERANCE * charged, f"second run: estimated {est}, charged {charged}"


def test_a_running_runs_remaining_estimate_comes_down_to_zero(db) -> None:
    with write_session() as s:
        site_id = make_site(s, make_account(s, credits=100_000)).id
        keywords.import_keywords(session=s, site_id=site_id, data=demo_lines(0, 34))
    run = automation.start_run(site_id=site_id, enqueue=False)
    state = automation.get_processing_state(run_id=run.run_id)
    assert state["estimate_remaining"] == state["estimate_total"] > 0
    seen = [state["estimate_remaining"]]
    while execute_run(run.id, provider=OfflineProvider(), max_items=3) == "released":
        state = automation.get_processing_state(run_id=run.run_id)
        seen.append(state["estimate_remaining"])
    state = automation.get_processing_state(run_id=run.run_id)
    assert state["status"] == "completed" and state["estimate_remaining"] == 0
    assert len(seen) > 5 and seen[-1] < seen[0] / 4, seen
