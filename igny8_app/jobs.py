"""RQ entry points: module-level functions taking ids only. They call the services.

Job granularity: one job works one run for at most ``run_loop.SLICE_SECONDS`` (2 min), then
queues a continuation and exits. So a job never approaches its timeout (``RUN_JOB_TIMEOUT_S``,
which only bounds one slice plus one slow item), several runs share the workers fairly, and a
long healthy run never looks like a crash: liveness is the run's heartbeat (refreshed by a
thread every ``RUN_HEARTBEAT_TIMEOUT_S / 4``), not the job's age. A duplicate job (watchdog,
RQ's abandoned-job handling, a manual retry) finds the lease taken and exits at once.
"""

from __future__ import annotations

from igny8_app.queue import get_queue

RUN_JOB_TIMEOUT_S = 30 * 60
RESULT_TTL_S = 3600
FAILURE_TTL_S = 7 * 24 * 3600


def run_automation(run_pk: int) -> str:
    from igny8_app.services.automation.run_loop import execute_run

    return execute_run(run_pk)


def enqueue_run_job(run_pk: int) -> None:
    get_queue().enqueue(run_automation, run_pk, job_timeout=RUN_JOB_TIMEOUT_S, result_ttl=RESULT_TTL_S,
                        failure_ttl=FAILURE_TTL_S, description=f"automation run {run_pk}")


def send_email(to: str, subject: str, body: str) -> None:
    """Deliver one email through SMTP (retried by RQ; a failure never touches the caller)."""
    from igny8_app.services.notifications.mail import deliver

    deliver(to=to, subject=subject, body=body)


def enqueue_email(*, to: str, subject: str, body: str):  # noqa: ANN201 - an rq Job
    """Queue one email with a delayed retry per IGNY8_EMAIL_RETRY_INTERVALS_S. RQ keeps a waiting
    retry in the queue's ScheduledJobRegistry; RQ's scheduler, which the workers run
    (``worker.work(with_scheduler=True)``), puts it back on the queue when it is due. After the
    last retry the job stays in the FailedJobRegistry (System page)."""
    from rq import Retry

    from igny8_app.settings import get_settings

    intervals = list(get_settings().email_retry_intervals_s)
    return get_queue().enqueue(send_email, to, subject, body, job_timeout=60, result_ttl=RESULT_TTL_S,
                               failure_ttl=FAILURE_TTL_S, retry=Retry(max=len(intervals), interval=intervals),
                               description=f"email to {to}")
