"""RQ entry points: module-level functions taking ids only. They call the services; nothing else
lives here, and no service imports this module (jobs are queued by dotted name, ``queue.py``).

Job granularity: one job works one run for at most ``run_loop.SLICE_SECONDS`` (2 min), then
queues a continuation and exits. So a job never approaches its timeout (``queue.RUN_JOB_TIMEOUT_S``,
which only bounds one slice plus one slow item), several runs share the workers fairly, and a
long healthy run never looks like a crash: liveness is the run's heartbeat (refreshed by a
thread every ``RUN_HEARTBEAT_TIMEOUT_S / 4``), not the job's age. A duplicate job (watchdog,
RQ's abandoned-job handling, a manual retry) finds the lease taken and exits at once.
"""

from __future__ import annotations

from igny8_app.services.automation.run_loop import execute_run
from igny8_app.services.notifications.mail import deliver


def run_automation(run_pk: int) -> str:
    return execute_run(run_pk)


def send_email(to: str, subject: str, body: str) -> None:
    """Deliver one email through SMTP (retried by RQ; a failure never touches the caller)."""
    deliver(to=to, subject=subject, body=body)
