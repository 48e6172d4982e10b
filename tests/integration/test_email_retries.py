"""Email retries on real `igny8 worker` processes (two of them, as on two hosts) with a real Redis
and a real SMTP server: a message that fails once is delivered by its retry; a message that
always fails ends, after its retries, among the failed jobs (where the System page lists it).
Short retry intervals through IGNY8_EMAIL_RETRY_INTERVALS_S; the retry is moved back onto the
queue by RQ's scheduler inside the workers (one holds the queue's lock)."""

from __future__ import annotations

import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry

from igny8_app.queue import enqueue_email
from igny8_app.queue import get_queue, get_redis
from igny8_app.services.system import operations as system
from igny8_app.settings import reset_settings
from tests.engine_helpers import start_workers, wait_until
from tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.usefixtures("redis")
TO = "retry@example.test"


@pytest.fixture
def workers_for(db, redis, tmp_path, monkeypatch):
    monkeypatch.setenv("IGNY8_EMAIL_RETRY_INTERVALS_S", "1,1")  # fixed into each job when queued
    reset_settings()
    started = []

    def _start(sink: SmtpSink):  # noqa: ANN202
        w = start_workers(2, log_dir=tmp_path / "workers", env={"SMTP_URL": sink.url})
        started.append(w)
        return w

    yield _start
    for w in started:
        w.stop()


def _registries():  # noqa: ANN202
    q = get_queue()
    return (ScheduledJobRegistry(queue=q), FailedJobRegistry(queue=q), FinishedJobRegistry(queue=q))


def test_a_message_that_fails_once_is_delivered_by_its_retry(workers_for) -> None:
    with SmtpSink(fail_times=1) as sink:
        workers = workers_for(sink)
        enqueue_email(to=TO, subject="second time lucky", body="hello")
        try:
            mail = sink.wait_for(TO, timeout=30)
        except AssertionError:
            print(workers.log_tail())
            raise
        assert mail[0]["Subject"] == "second time lucky" and sink.attempts == 2
        scheduled, failed, finished = _registries()
        wait_until(lambda: finished.count == 1, timeout=10, what="the job to be recorded as finished")
        assert scheduled.count == 0 and failed.count == 0 and get_queue().count == 0


def test_a_message_that_always_fails_ends_among_the_failed_jobs(workers_for) -> None:
    with SmtpSink() as sink:
        sink.reject = True
        workers = workers_for(sink)
        enqueue_email(to=TO, subject="never", body="hello")
        scheduled, failed, _ = _registries()
        try:
            wait_until(lambda: failed.count == 1, timeout=30, interval=0.2, what="the email job to fail for good")
        except AssertionError:
            print(f"queued {get_queue().count}, scheduled {scheduled.count}, failed {failed.count}")
            print(workers.log_tail())
            raise
        assert sink.attempts == 3 and sink.messages == []  # the first try and its 2 retries
        job = Job.fetch(failed.get_job_ids()[0], connection=get_redis())
        assert job.retries_left == 0 and "451" in (job.latest_result().exc_string or "")
        assert scheduled.count == 0 and get_queue().count == 0
        listed = system.failed_jobs()
        assert [j["id"] for j in listed] == [job.id]
