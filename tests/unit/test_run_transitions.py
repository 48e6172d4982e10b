"""The one rule for a run's status changes (``check_transition``): every (from, to) pair of
statuses, with and without each pause reason, against a table written from the spec."""

from __future__ import annotations

import itertools

import pytest

from igny8_app.domain.enums import PauseReason, RunStatus
from igny8_app.domain.errors import Conflict
from igny8_app.domain.run_state import TERMINAL, IllegalTransition, check_transition

R = RunStatus
# From the issue: a running run pauses (operator, review, credits, provider), is cancelled,
# completes (also at the credit cap) or fails; a paused run resumes or is cancelled. Finished
# runs (and skip rows) change no more; no status "changes" to itself.
LEGAL = {(R.RUNNING, R.PAUSED), (R.RUNNING, R.CANCELLED), (R.RUNNING, R.COMPLETED), (R.RUNNING, R.FAILED),
         (R.PAUSED, R.RUNNING), (R.PAUSED, R.CANCELLED)}
PAIRS = list(itertools.product(RunStatus, RunStatus))
REASONS = [None, *PauseReason]


def test_the_table_covers_every_pair():
    assert len(PAIRS) == 36 and LEGAL < set(PAIRS)
    assert not any(frm in TERMINAL for frm, _ in LEGAL)


@pytest.mark.parametrize(("frm", "to", "reason"), list(itertools.product(RunStatus, RunStatus, REASONS)),
                         ids=lambda v: getattr(v, "value", str(v)))
def test_every_pair_and_reason(frm, to, reason):
    legal = (frm, to) in LEGAL and ((to is R.PAUSED) == (reason is not None))
    if not legal:
        with pytest.raises(IllegalTransition) as exc:
            check_transition(frm, to, reason)
        assert isinstance(exc.value, Conflict) and exc.value.message
        if (frm, to) not in LEGAL:
            assert frm.value in exc.value.message and to.value in exc.value.message
        return
    assert check_transition(frm, to, reason) == (to, reason)
    # the stored string forms decide the same and come back typed
    got = check_transition(frm.value, to.value, reason.value if reason else None)
    assert got == (to, reason) and isinstance(got[0], RunStatus)


def test_unknown_status_or_reason_is_refused():
    with pytest.raises(ValueError):
        check_transition("running", "sleeping")
    with pytest.raises(ValueError):
        check_transition("running", "paused", "bored")
