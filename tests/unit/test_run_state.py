"""The run state machine (pure): every status × pending request × action × worker liveness of
``decide()`` against an independent table written from the spec, plus ``worker_stop`` and
``percentage``."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from igny8_app.domain.enums import RequestedAction, RunStatus
from igny8_app.domain.errors import Conflict
from igny8_app.domain.run_state import (ACTIVE, TERMINAL, Action, Decision, IllegalTransition, decide, percentage,
                                        worker_stop)

STATUSES = list(RunStatus)
REQUESTS = [None, RequestedAction.PAUSE, RequestedAction.CANCEL]
ACTIONS = list(Action)
P, C = RequestedAction.PAUSE, RequestedAction.CANCEL
RUNNING, PAUSED, CANCELLED = RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.CANCELLED
ILLEGAL = "illegal"


def spec(status: RunStatus, requested: RequestedAction | None, action: Action, active: bool):
    """What the issue asks for, written independently of the implementation.

    - Finished runs (cancelled, completed, failed, skipped) refuse everything.
    - Pause: a request the worker applies after its current item; at once when no worker holds
      the run. Refused on a paused run, and while a cancel is pending (cancel wins).
    - Resume: a paused run runs again (a new job is queued). On a running run it only withdraws
      a pending pause; otherwise it is refused (already running / being cancelled).
    - Cancel: a request the worker applies after its current item; at once when the run is
      paused or no worker holds it. A second cancel while one is pending and a live worker is
      about to apply it is refused; with no live worker it takes effect at once.
    """
    if status in TERMINAL:
        return ILLEGAL
    if action is Action.PAUSE:
        if status is PAUSED or requested is C:
            return ILLEGAL
        return Decision(PAUSED, None, immediate=True) if not active else Decision(RUNNING, P, immediate=False)
    if action is Action.RESUME:
        if status is PAUSED:
            return Decision(RUNNING, None, immediate=True, enqueue=True)
        if requested is P:
            return Decision(RUNNING, None, immediate=True)
        return ILLEGAL
    if requested is C and active and status is RUNNING:
        return ILLEGAL
    if status is PAUSED or not active:
        return Decision(CANCELLED, None, immediate=True)
    return Decision(RUNNING, C, immediate=False)


CASES = list(itertools.product(STATUSES, REQUESTS, ACTIONS, [False, True]))


def test_the_table_covers_every_combination():
    assert len(CASES) == len(RunStatus) * 3 * 3 * 2 == 108
    assert ACTIVE | TERMINAL == set(RunStatus) and not ACTIVE & TERMINAL


@pytest.mark.parametrize(("status", "requested", "action", "active"), CASES,
                         ids=[f"{s.value}-{r.value if r else 'none'}-{a.value}-{'live' if w else 'idle'}"
                              for s, r, a, w in CASES])
def test_decide_matches_the_spec(status, requested, action, active):
    expected = spec(status, requested, action, active)
    if expected == ILLEGAL:
        with pytest.raises(IllegalTransition) as exc:
            decide(status, requested, action, worker_active=active)
        assert isinstance(exc.value, Conflict) and exc.value.code == "conflict"
        assert exc.value.message  # a clear reason for the 409
        if status in TERMINAL:
            assert status.value in exc.value.message and action.value in exc.value.message
        return
    got = decide(status, requested, action, worker_active=active)
    assert got == expected
    # string forms (as stored in the database) decide the same
    assert decide(status.value, requested.value if requested else None, action, worker_active=active) == expected


@pytest.mark.parametrize("status", sorted(TERMINAL, key=lambda s: s.value))
@pytest.mark.parametrize("action", ACTIONS)
def test_terminal_states_are_final(status, action):
    for requested, active in itertools.product(REQUESTS, [False, True]):
        with pytest.raises(IllegalTransition, match=f"is {status.value}"):
            decide(status, requested, action, worker_active=active)


def test_decisions_only_lead_to_consistent_states():
    """Whatever is decided: a request is pending only on a running run with a live worker, an
    immediate decision carries no request, and only resuming a paused run queues a job."""
    for status, requested, action, active in CASES:
        try:
            d = decide(status, requested, action, worker_active=active)
        except IllegalTransition:
            continue
        assert d.status in (RUNNING, PAUSED, CANCELLED)
        if d.requested_action is not None:
            assert d.status is RUNNING and active and not d.immediate
        else:
            assert d.immediate
        assert d.enqueue == (status is PAUSED and action is Action.RESUME)


def test_some_illegal_transitions_read_well():
    with pytest.raises(IllegalTransition, match="completed; it cannot resume"):
        decide("completed", None, Action.RESUME, worker_active=False)
    with pytest.raises(IllegalTransition, match="cancelled; it cannot pause"):
        decide("cancelled", None, Action.PAUSE, worker_active=False)
    with pytest.raises(IllegalTransition, match="already paused"):
        decide("paused", None, Action.PAUSE, worker_active=False)
    with pytest.raises(IllegalTransition, match="already running"):
        decide("running", None, Action.RESUME, worker_active=True)
    with pytest.raises(IllegalTransition, match="being cancelled"):
        decide("running", "cancel", Action.PAUSE, worker_active=True)


def test_unknown_values_are_rejected():
    with pytest.raises(ValueError):
        decide("sleeping", None, Action.PAUSE, worker_active=False)
    with pytest.raises(ValueError):
        decide("running", "stop", Action.PAUSE, worker_active=False)


@pytest.mark.parametrize(("requested", "expected"), [
    (None, None), ("", None), ("pause", PAUSED), (P, PAUSED), ("cancel", CANCELLED), (C, CANCELLED)])
def test_worker_stop(requested, expected):
    assert worker_stop(requested) is expected


def test_worker_applies_what_decide_requested():
    """A request decided for a live worker is applied by the worker as the status decide()
    would have given at once with no worker."""
    for action in (Action.PAUSE, Action.CANCEL):
        pending = decide(RUNNING, None, action, worker_active=True)
        at_once = decide(RUNNING, None, action, worker_active=False)
        assert worker_stop(pending.requested_action) is at_once.status


# --- percentage -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("processed", "total", "finished", "expected"), [
    (0, 0, False, 0), (0, 0, True, 100), (0, -1, True, 100), (0, 10, False, 0), (1, 3, False, 33),
    (2, 3, False, 66), (3, 3, False, 100), (3, 3, True, 100), (199, 200, False, 99), (1, 1000, False, 0),
    (5, 4, False, 100), (0, 5, True, 0)])
def test_percentage_examples(processed, total, finished, expected):
    assert percentage(processed, total, finished=finished) == expected


@given(total=st.integers(1, 10**7), data=st.data(), finished=st.booleans())
def test_percentage_is_the_floor_and_monotone(total, data, finished):
    processed = data.draw(st.integers(0, total))
    pct = percentage(processed, total, finished=finished)
    assert pct == processed * 100 // total  # floor, never rounded up
    assert 0 <= pct <= 100
    assert (pct == 100) == (processed == total)  # 100 only when every item is done
    if processed < total:
        assert percentage(processed + 1, total, finished=finished) >= pct
