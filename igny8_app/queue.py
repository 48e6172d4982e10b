"""Redis connection, the RQ queue, and the two ways to queue a job.

Jobs are queued by dotted name (``igny8_app.jobs.<entry point>``): services never import
``igny8_app.jobs``, which imports the services (it holds only the RQ entry points). Queue a job
after the command's commit: ``db.on_commit(session, lambda: enqueue_run(run_pk))``."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis
from rq import Queue

from igny8_app.settings import get_settings

RUN_JOB = "igny8_app.jobs.run_automation"
EMAIL_JOB = "igny8_app.jobs.send_email"
RUN_JOB_TIMEOUT_S = 30 * 60  # bounds one slice of a run plus one slow item (see jobs.py)
RESULT_TTL_S = 3600
FAILURE_TTL_S = 7 * 24 * 3600


@lru_cache(maxsize=4)
def _redis(url: str) -> Redis:
    return Redis.from_url(url, health_check_interval=30, socket_keepalive=True)


def get_redis() -> Redis:
    return _redis(get_settings().redis_url)


def get_queue() -> Queue:
    return Queue(get_settings().rq_queue, connection=get_redis())


def reset_redis() -> None:
    _redis.cache_clear()


def enqueue_run(run_pk: int) -> None:
    """Queue one slice of a run's work (``jobs.run_automation``). A duplicate is harmless: the run's
    lease lets one job work."""
    get_queue().enqueue(RUN_JOB, run_pk, job_timeout=RUN_JOB_TIMEOUT_S, result_ttl=RESULT_TTL_S,
                        failure_ttl=FAILURE_TTL_S, description=f"automation run {run_pk}")


def enqueue_email(*, to: str, subject: str, body: str):  # noqa: ANN201 - an rq Job
    """Queue one email (``jobs.send_email``) with a delayed retry per IGNY8_EMAIL_RETRY_INTERVALS_S.
    RQ keeps a waiting retry in the queue's ScheduledJobRegistry; RQ's scheduler, which the workers
    run (``worker.work(with_scheduler=True)``), puts it back on the queue when it is due. After the
    last retry the job stays in the FailedJobRegistry (System page)."""
    from rq import Retry

    intervals = list(get_settings().email_retry_intervals_s)
    return get_queue().enqueue(EMAIL_JOB, to, subject, body, job_timeout=60, result_ttl=RESULT_TTL_S,
                               failure_ttl=FAILURE_TTL_S, retry=Retry(max=len(intervals), interval=intervals),
                               description=f"email to {to}")
