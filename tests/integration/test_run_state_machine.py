"""A hypothesis stateful test of automation runs: random sequences of start / pause / resume /
cancel / work-some-items / crash / lease expiry + watchdog / new keywords / credits drained and
topped up / retry of failed items, driving the real service functions and the real run loop
(in-process) against a real database (SQLite and PostgreSQL).

A crash abandons the in-flight item without a commit: the provider (before or after its AI call)
or the ledger (inside the item's transaction, after the output rows were flushed) raises a
BaseException that nothing in the engine handles, so the lease is left held as a killed worker
leaves it. Time is not simulated by sleeping: the heartbeat timeout is an hour, and a lease goes
stale only when the test back-dates its heartbeat ("the worker died long ago").

After every step: at most one running-or-paused run per site and the SiteLock names it; the
ledger reconciles; no duplicate outputs, charges or idempotency keys; the processed counters
equal the committed outputs; finished runs never change; non-running runs hold no lease and no
pending request; and the engine never calls the AI again for an item it already committed.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, rule,
                                 run_state_machine_as_test)
from sqlmodel import select

from igny8_app.ai.base import ProviderError, get_provider
from igny8_app.db import read_session, write_session
from igny8_app.domain.costs import Usage
from igny8_app.domain.errors import Conflict, InsufficientCredits
from igny8_app.domain.run_state import Action, IllegalTransition, decide
from igny8_app.models import AutomationRun, CreditCostConfig, utcnow
from igny8_app.services.automation import control as automation
from igny8_app.services.billing import ledger as billing
from igny8_app.services.content import keywords
from igny8_app.services.automation.run_loop import execute_run
from igny8_app.services.automation.watchdog import recover_stale_runs
from igny8_app.settings import get_settings, reset_settings
from tests.engine_helpers import (TERMINAL, call_counts, check_exactly_once, demo_lines, expected_calls, get_run,
                                  items_between, keyword_csv, seed_site, stage_counts)

pytestmark = pytest.mark.usefixtures("redis")
HEARTBEAT_TIMEOUT_S = 3600
FIRST_KEYWORDS = 5


class Crash(BaseException):
    """Simulated sudden death of the worker (not an Exception: the engine handles none of it)."""


class StepProvider:
    """The offline provider (no delay), optionally failing every n-th call (a non-retryable
    provider error) or dying (Crash) at the k-th call, before or after the AI work."""

    name = "step"

    def __init__(self, *, crash_at: int | None = None, crash_after_call: bool = False, fail_every: int = 0) -> None:
        self.inner = get_provider("offline", delay_ms=0)
        self.calls = 0
        self.crash_at, self.crash_after_call, self.fail_every = crash_at, crash_after_call, fail_every

    def __getattr__(self, method: str):  # noqa: ANN204
        fn = getattr(self.inner, method)

        def call(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            self.calls += 1
            if self.calls == self.crash_at and not self.crash_after_call:
                raise Crash(f"died before {method}")
            if self.fail_every and self.calls % self.fail_every == 0:
                raise ProviderError(f"simulated failure of {method}", retryable=False)
            out = fn(*args, **kwargs)
            if self.calls == self.crash_at:
                raise Crash(f"died after {method}, before the commit")
            return out

        return call


@contextlib.contextmanager
def crash_in_transaction(at: int):
    """Die inside the item's transaction at the ``at``-th charge, after the output rows and the
    charge itself were flushed, before the commit."""
    real, n = billing.charge, [0]

    def charge(**kwargs):  # noqa: ANN003, ANN202
        tx = real(**kwargs)
        n[0] += 1
        if n[0] == at and threading.current_thread() is threading.main_thread():
            raise Crash("died inside the item's transaction")
        return tx

    billing.charge = charge
    try:
        yield
    finally:
        billing.charge = real


def _snapshot(run: AutomationRun) -> tuple:
    return (run.status, run.completed_at, run.cancelled_at, run.total_credits_used, run.error,
            run.current_stage, tuple(sorted(stage_counts(run.id).items())))


# Weighted by repetition. Hypothesis favours small indexes, so the most useful op comes first.
OPS = (["work_items", "pause", "resume", "cancel", "crash_before_ai_call", "work_items", "pause", "resume",
        "crash_after_ai_call", "work_items", "crash_in_transaction", "worker_died_watchdog", "work_until_it_stops",
        "work_items_with_failures", "worker_died", "cancel", "add_keywords", "retry_failed", "drain", "top_up",
        "start"])


class RunMachine(RuleBasedStateMachine):
    stats: Counter = Counter()  # what the examples did, over the whole test (printed, checked)

    def __init__(self) -> None:
        super().__init__()
        self.stats["examples"] += 1
        self.site = seed_site(n_keywords=FIRST_KEYWORDS, in_article_images=0, credits=100_000)
        self.next_keyword = FIRST_KEYWORDS
        self.runs: list[int] = []
        self.finished: dict[int, tuple] = {}
        self.drained = False
        self.calls_seen: Counter = call_counts(self.call_log)  # earlier examples' calls

    # --- helpers ---------------------------------------------------------------------------------
    def _active(self) -> AutomationRun | None:
        for pk in self.runs:
            run = get_run(pk)
            if run.status in ("running", "paused"):
                return run
        return None

    def _latest_status(self) -> str | None:
        return get_run(self.runs[-1]).status if self.runs else None

    def _new_calls(self, committed_before: set) -> Counter:
        """AI calls since the last step; none may be for an item committed before the step."""
        calls = call_counts(self.call_log)
        new = calls - self.calls_seen
        self.calls_seen = calls
        again = [k for k in new if k in committed_before]
        assert not again, f"the AI was called again for committed items {again}"
        return new

    def _work(self, pk: int, provider: StepProvider, max_items: int, guard=contextlib.nullcontext()):  # noqa: ANN001, ANN202
        before = get_run(pk)
        counts = stage_counts(pk)
        committed = set(expected_calls(self.site.site_id))
        acquirable = before.status == "running" and not automation.worker_active(before)
        crashed = False
        try:
            with guard:
                outcome = execute_run(pk, provider=provider, max_items=max_items)
        except Crash:
            crashed, outcome = True, "crash"
        after = get_run(pk)
        done = items_between(counts, stage_counts(pk))
        new_calls = self._new_calls(committed)
        self.stats[f"work:{outcome}"] += 1
        self.stats["items"] += done
        if not acquirable:
            assert outcome == "not_acquired" and done == 0 and not new_calls, outcome
            return outcome
        assert outcome in ("released", "paused", "cancelled", "completed", "crash"), (outcome, after.error)
        assert done <= max_items
        if before.requested_action:  # a pending request is applied before any item
            assert outcome == {"pause": "paused", "cancel": "cancelled"}[before.requested_action] and done == 0
        if outcome == "released":
            assert done == max_items and after.status == "running" and after.lease_owner is None
        if outcome == "paused" and not before.requested_action:
            assert after.pause_reason == "insufficient_credits"
        if crashed:  # the lease is left as a killed worker leaves it: held, heartbeat fresh
            assert after.status == "running" and after.lease_owner is not None and automation.worker_active(after)
        else:
            assert all(n == 1 for n in new_calls.values()), new_calls  # no crash: one call per item
        return outcome

    # --- rules -----------------------------------------------------------------------------------
    @initialize()
    def first_run(self) -> None:
        self.start()

    @rule(op=st.sampled_from(OPS), n=st.integers(1, 12), latest=st.booleans(), data=st.data())
    def step(self, op: str, n: int, latest: bool, data: st.DataObject) -> None:
        """One of OPS (weighted by repetition: hypothesis' swarm of separate rules spent most steps
        on refused starts). ``n``: items to work / crash point / keywords / credits left;
        ``latest``: operate the latest run (else any earlier one, mostly finished)."""
        if op == "start":
            self.start()
        elif op in ("pause", "resume", "cancel"):
            self._operate(Action(op), latest, data)
        elif op.startswith("worker_died"):
            self.worker_died_long_ago(watchdog=op.endswith("watchdog"))
        elif op.startswith(("work_", "crash_")):
            # keep the example moving, as the product would: a finished run is followed by a new
            # one (often with new keywords); a dead worker's lease is mostly recovered first (the
            # rest of the time the worker must be refused the live-looking lease)
            latest = get_run(self.runs[-1])
            if latest.status in TERMINAL:
                if n % 2:
                    self.queue("add_keywords", n % 6 + 2)
                self.start()
            elif latest.status == "running" and automation.worker_active(latest) and n % 3:
                self.worker_died_long_ago(watchdog=n % 2 == 0)
            self.work(op.removeprefix("work_"), n)
        elif op in ("add_keywords", "retry_failed"):
            self.queue(op, n % 6 + 2)
        else:
            self.credits(op, n)

    def start(self) -> None:
        active = self._active()
        try:
            run = automation.start_run(site_id=self.site.site_id, enqueue=False)
        except InsufficientCredits:  # (a Conflict too: first)
            assert self.drained and active is None
            self.stats["start:insufficient_credits"] += 1
            return
        except Conflict as exc:
            assert active is not None, exc
            self.stats["start:refused"] += 1
            return
        assert active is None
        self.runs.append(run.id)
        self.stats["start:ok"] += 1

    def pause(self, latest: bool, data: st.DataObject) -> None:
        self._operate(Action.PAUSE, latest, data)

    def resume(self, latest: bool, data: st.DataObject) -> None:
        self._operate(Action.RESUME, latest, data)

    def cancel(self, latest: bool, data: st.DataObject) -> None:
        self._operate(Action.CANCEL, latest, data)

    def _operate(self, action: Action, latest: bool, data: st.DataObject) -> None:
        """The service's answer must be what the pure state machine decides for the run as it is."""
        pk = self.runs[-1] if latest else data.draw(st.sampled_from(self.runs))
        before = get_run(pk)
        try:
            expected = decide(before.status, before.requested_action, action,
                              worker_active=automation.worker_active(before))
        except IllegalTransition as exc:
            expected = exc
        service = {Action.PAUSE: automation.pause_run, Action.RESUME: automation.resume_run,
                   Action.CANCEL: automation.cancel_run}[action]
        try:
            state = service(run_id=before.run_id)
        except Conflict as exc:
            assert isinstance(expected, IllegalTransition), (action, before.status, exc.message)
            assert get_run(pk).status == before.status
            self.stats[f"{action.value}:refused"] += 1
            return
        assert not isinstance(expected, Exception), (action, before.status, before.requested_action)
        after = get_run(pk)
        assert (after.status, after.requested_action) == (
            expected.status.value, expected.requested_action.value if expected.requested_action else None)
        assert state["status"] == after.status and state["requested_action"] == after.requested_action
        self.stats[f"{action.value}:{'requested' if after.requested_action else after.status}"] += 1
        if after.status == "paused":
            assert after.paused_at is not None and after.pause_reason
        if action is Action.RESUME and before.status == "paused":
            assert after.resumed_at is not None and after.paused_at is None and after.pause_reason is None
        if after.status == "cancelled":
            assert after.cancelled_at is not None and after.completed_at is not None

    def work(self, how: str, n: int) -> None:
        """A worker takes the latest run for up to ``n`` items (or with no limit), or dies in
        the ``n % 4 + 1``-th item it calls the AI for / charges."""
        pk, k = self.runs[-1], n % 4 + 1
        if how == "items":
            self._work(pk, StepProvider(), n)
        elif how == "items_with_failures":  # every 3rd AI call fails for good: the item is marked failed
            self._work(pk, StepProvider(fail_every=3), n)
        elif how == "until_it_stops":
            self._work(pk, StepProvider(), 1_000)
        elif how == "crash_in_transaction":
            self._work(pk, StepProvider(), k + 3, guard=crash_in_transaction(k))
        else:
            assert how in ("crash_before_ai_call", "crash_after_ai_call"), how
            self._work(pk, StepProvider(crash_at=k, crash_after_call=how == "crash_after_ai_call"), k + 3)

    def worker_died_long_ago(self, *, watchdog: bool) -> None:
        """The heartbeat of the site's running run goes stale; with ``watchdog``, the worker's
        watchdog claims it (and queues a recovery job); without, the next job's lease takes it."""
        t = AutomationRun.__table__
        stale_at = utcnow() - timedelta(seconds=2 * HEARTBEAT_TIMEOUT_S)
        with write_session() as s:
            running = list(s.execute(sa.update(t).where(t.c.site_id == self.site.site_id, t.c.status == "running")
                                     .values(heartbeat_at=stale_at).returning(t.c.id)).scalars())
        if watchdog:
            claimed = recover_stale_runs()
            assert set(running) <= set(claimed)
            for pk in running:
                run = get_run(pk)
                assert run.lease_owner is None and not automation.worker_active(run)
        for pk in running:
            assert not automation.worker_active(get_run(pk))

    def queue(self, op: str, n: int) -> None:
        if op == "add_keywords":  # n new keywords (fewer than 5 new: stage 1 is skipped, with a reason)
            lines = demo_lines()[self.next_keyword:self.next_keyword + n]
            self.next_keyword += n
            with write_session() as s:
                keywords.import_keywords(session=s, site_id=self.site.site_id, data=keyword_csv(lines))
        else:
            automation.retry_failed_items(site_id=self.site.site_id)

    def credits(self, op: str, left: int) -> None:
        """Drain the balance down to ``left`` credits (runs pause for credits), or top it up."""
        with write_session() as s:
            if op == "top_up":
                billing.grant(session=s, account_id=self.site.account_id, amount=100_000,
                              idempotency_key=f"topup:{self.site.site_id}:{utcnow().timestamp()}", description="top up")
                self.drained = False
                return
            cost = s.exec(select(CreditCostConfig).where(CreditCostConfig.operation_type == "images")).one().credits_cost
            n = (billing.balance(session=s, account_id=self.site.account_id) - left) // cost
            if n > 0:
                billing.charge(session=s, account_id=self.site.account_id, operation_type="images",
                               usage=Usage(images=n), idempotency_key=f"drain:{self.site.site_id}:{utcnow().timestamp()}",
                               description="drained by the test")
            self.drained = True

    # --- invariants ------------------------------------------------------------------------------
    @invariant()
    def exactly_once_and_one_active_run(self) -> None:
        check_exactly_once(self.site.site_id, self.site.account_id)

    @invariant()
    def finished_runs_never_change(self) -> None:
        for pk in self.runs:
            run = get_run(pk)
            if pk in self.finished:
                assert _snapshot(run) == self.finished[pk], f"finished run {run.run_id} changed"
            elif run.status in ("cancelled", "completed", "failed", "skipped"):
                assert run.status != "failed", run.error  # nothing here is an unexpected error
                assert run.completed_at is not None
                self.finished[pk] = _snapshot(run)

    @invariant()
    def progress_reads_sanely(self) -> None:
        if self.runs:
            state = automation.get_processing_state(run_id=get_run(self.runs[-1]).run_id)
            assert 0 <= state["percentage"] <= 100 and state["remaining_count"] >= 0
            for st_ in state["stages"]:
                assert st_["processed_items"] + st_["failed_items"] <= st_["total_items"]


@pytest.fixture
def machine(db, redis, tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("RUN_HEARTBEAT_TIMEOUT_S", str(HEARTBEAT_TIMEOUT_S))
    monkeypatch.setenv("IGNY8_AI_CALL_LOG", str(tmp_path / "ai_calls.log"))
    reset_settings()
    assert get_settings().heartbeat_timeout_s == HEARTBEAT_TIMEOUT_S
    RunMachine.call_log = tmp_path / "ai_calls.log"
    RunMachine.stats = Counter()
    return RunMachine


def test_random_start_pause_resume_cancel_crash_sequences(machine):
    # Every step works a real database, so shrinking a failure takes minutes: opt in with
    # HYPOTHESIS_SHRINK=1 when debugging one (the failing sequence is printed either way).
    # Derandomized (the same sequences every run; RUN_MACHINE_RANDOM=1 explores new ones).
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if os.environ.get("HYPOTHESIS_SHRINK") else [])
    run_state_machine_as_test(machine, settings=settings(
        max_examples=int(os.environ.get("RUN_MACHINE_EXAMPLES", "15")), stateful_step_count=10, deadline=None,
        derandomize=os.environ.get("RUN_MACHINE_RANDOM") is None, phases=phases, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]))
    stats = machine.stats
    print(f"\nrun state machine: {dict(sorted(stats.items()))}")
    assert stats["items"] and stats["work:crash"] and stats["work:completed"], "the examples did nothing"


def test_scripted_walk_through_every_transition(machine):
    """The same machine and invariants, stepped through a fixed sequence that is sure to visit
    each transition (hypothesis' choices are clumpy: it may skip some in a short run)."""
    m = machine()
    script = [
        ("first_run", 0), ("work_items", 3), ("pause", 0), ("resume", 0),  # paused at once (no worker), resumed
        ("crash_before_ai_call", 1),  # a dead worker's lease still looks live ...
        ("work_items", 3),  # ... so another worker is refused it (n % 3 == 0: no recovery first)
        ("pause", 0), ("cancel", 0), ("resume", 0), ("pause", 0),  # requested; cancel wins; both refused
        ("worker_died_watchdog", 0), ("work_items", 3),  # recovered: the pending cancel is applied, no item
        ("pause", 0), ("resume", 0), ("cancel", 0),  # finished: all refused
        ("add_keywords", 5), ("start", 0),  # 7 new keywords, a second run
        ("crash_after_ai_call", 2), ("pause", 0), ("resume", 0),  # died after its 3rd AI call; pause withdrawn
        ("worker_died", 0), ("work_items_with_failures", 6), ("retry_failed", 0),  # no watchdog: lease taken over
        ("crash_in_transaction", 0), ("worker_died_watchdog", 0),  # died inside its first charged item
        ("drain", 0), ("work_items", 4), ("resume", 0), ("work_items", 4),  # paused for credits, twice
        ("top_up", 0), ("resume", 0), ("work_until_it_stops", 3),  # completed
        ("start", 0), ("start", 0), ("work_until_it_stops", 3),  # a second start is refused; nothing new
    ]
    trail = []
    for op, n in script:
        if op == "first_run":
            m.first_run()
        else:
            m.step(op, n, True, None)
        run = get_run(m.runs[-1])
        trail.append(f"{op}({n}) -> run {len(m.runs)} {run.status}/{run.requested_action}/{run.pause_reason}/"
                     f"{'held' if run.lease_owner else 'free'}")
        m.exactly_once_and_one_active_run()
        m.finished_runs_never_change()
        m.progress_reads_sanely()
    stats = m.stats
    print(f"\nscripted walk: {dict(sorted(stats.items()))}\n  " + "\n  ".join(trail))
    for seen in ("work:crash", "work:not_acquired", "work:cancelled", "work:released", "work:paused",
                 "work:completed", "pause:paused", "pause:requested", "pause:refused", "resume:running",
                 "resume:refused", "cancel:requested", "cancel:refused", "start:refused", "start:ok"):
        assert stats[seen], f"the walk never reached {seen}: {dict(stats)}\n" + "\n".join(trail)
    assert stats["work:crash"] == 3 and {get_run(pk).status for pk in m.runs} == {"cancelled", "completed"}


def test_withdrawing_a_pause_keeps_the_worker_going(db, redis, monkeypatch):
    """pause_run then resume_run while a worker is inside an item: the worker must go on.

    Today ``automation._apply`` bumps the lease fence on every immediate decision, including
    this one (the run stays ``running``), so the live worker loses its lease: its in-flight item
    is thrown away and the run sits idle until the watchdog finds its heartbeat stale
    (RUN_HEARTBEAT_TIMEOUT_S). Fix belongs in services/automation/control.py (not this suite's file)."""
    monkeypatch.setenv("RUN_HEARTBEAT_TIMEOUT_S", str(HEARTBEAT_TIMEOUT_S))
    reset_settings()
    site = seed_site(n_keywords=FIRST_KEYWORDS, in_article_images=0)
    run = automation.start_run(site_id=site.site_id, enqueue=False)
    seen: list[str] = []

    class Withdraw(StepProvider):
        def __getattr__(self, method: str):  # noqa: ANN204
            fn = super().__getattr__(method)

            def call(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
                if self.calls == 2:  # inside the third AI call
                    seen.append(automation.pause_run(run_id=run.run_id)["requested_action"])
                    seen.append(automation.resume_run(run_id=run.run_id)["requested_action"])
                return fn(*args, **kwargs)

            return call

    outcome = execute_run(run.id, provider=Withdraw())
    assert seen == ["pause", None]
    assert outcome == "completed"  # the worker kept its lease
    check_exactly_once(site.site_id, site.account_id)
