"""The automation run's state machine. Pure: the services apply what it decides.

Operator actions (pause, resume, cancel) are *requests* while a worker holds the run: the worker
finishes its current item, then applies them. When no worker holds the run (queued but not
picked up, or paused) they take effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from igny8_app.domain.enums import PauseReason, RequestedAction, RunStatus
from igny8_app.domain.errors import Conflict

ACTIVE = frozenset({RunStatus.RUNNING, RunStatus.PAUSED})
TERMINAL = frozenset({RunStatus.CANCELLED, RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.SKIPPED})

# Every status change a run may make (a run is created ``running`` or ``skipped``). Finished runs
# change no more. Pause, resume and cancel by an operator, and the stops for review, credits,
# provider and the credit cap, are all one of these pairs.
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.RUNNING: frozenset({RunStatus.PAUSED, RunStatus.CANCELLED, RunStatus.COMPLETED, RunStatus.FAILED}),
    RunStatus.PAUSED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED}),
}

# Who did it, for actions no person did (a person is named by their email).
SCHEDULER, WATCHDOG, COMMAND_LINE, OPERATOR = "scheduler", "watchdog", "command line", "operator"


class Action(str, Enum):
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


class IllegalTransition(Conflict):
    code = "conflict"


@dataclass(frozen=True)
class Decision:
    status: RunStatus
    requested_action: RequestedAction | None
    immediate: bool  # True: the new status holds now; False: a worker will apply the request
    enqueue: bool = False  # a new job must be queued (resume)


def decide(status: RunStatus | str, requested: RequestedAction | str | None, action: Action,
           *, worker_active: bool) -> Decision:
    """What ``action`` does to a run in ``status`` (with a pending ``requested`` action).

    ``worker_active``: a worker holds the run's lease right now. Raises IllegalTransition.
    """
    status = RunStatus(status)
    requested = RequestedAction(requested) if requested else None
    if status in TERMINAL:
        raise IllegalTransition(f"The run is {status.value}; it cannot {action.value}.")

    if action is Action.PAUSE:
        if status is RunStatus.PAUSED:
            raise IllegalTransition("The run is already paused.")
        if requested is RequestedAction.CANCEL:
            raise IllegalTransition("The run is being cancelled; it cannot pause.")
        if not worker_active:
            return Decision(RunStatus.PAUSED, None, immediate=True)
        return Decision(RunStatus.RUNNING, RequestedAction.PAUSE, immediate=False)

    if action is Action.RESUME:
        if status is RunStatus.RUNNING:
            if requested is RequestedAction.PAUSE:  # take back a pause that has not landed yet
                return Decision(RunStatus.RUNNING, None, immediate=True)
            if requested is RequestedAction.CANCEL:
                raise IllegalTransition("The run is being cancelled; it cannot resume.")
            raise IllegalTransition("The run is already running.")
        return Decision(RunStatus.RUNNING, None, immediate=True, enqueue=True)

    # CANCEL (with no live worker, at once: also when a cancel requested earlier was never applied
    # because its worker died; waiting for the watchdog's recovery job would delay it for nothing)
    if status is RunStatus.PAUSED or not worker_active:
        return Decision(RunStatus.CANCELLED, None, immediate=True)
    if requested is RequestedAction.CANCEL:
        raise IllegalTransition("The run is already being cancelled.")
    return Decision(RunStatus.RUNNING, RequestedAction.CANCEL, immediate=False)


def check_transition(status: RunStatus | str, to: RunStatus | str,
                     reason: PauseReason | str | None = None) -> tuple[RunStatus, PauseReason | None]:
    """The one rule for a status change: ``status`` -> ``to`` is legal, and a pause (only a pause)
    names its reason. Returns both, typed. Raises IllegalTransition."""
    status, to = RunStatus(status), RunStatus(to)
    reason = PauseReason(reason) if reason else None
    if to not in TRANSITIONS.get(status, frozenset()):
        raise IllegalTransition(f"A {status.value} run cannot become {to.value}.")
    if (to is RunStatus.PAUSED) != (reason is not None):
        raise IllegalTransition("A pause needs a reason; no other change has one.")
    return to, reason


def worker_stop(requested: RequestedAction | str | None) -> RunStatus | None:
    """What a worker does after an item when ``requested`` is pending: the status to apply."""
    if not requested:
        return None
    return RunStatus.PAUSED if RequestedAction(requested) is RequestedAction.PAUSE else RunStatus.CANCELLED


def percentage(processed: int, total: int, *, finished: bool) -> int:
    """Floor of processed × 100 / total; 100 for a finished stage with no items."""
    if total <= 0:
        return 100 if finished else 0
    return min(100, processed * 100 // total)
