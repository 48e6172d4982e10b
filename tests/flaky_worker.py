"""``python -m tests.flaky_worker worker --name N``: ``igny8 worker`` whose FIRST job meets the Redis
error that RQ's work loop swallows (``except: ... quitting``) — what happens when Redis goes away
while the worker records a dead work horse and is back before its teardown."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError

from igny8_app import worker
from igny8_app.cli import main

_real_execute_job = worker.Igny8Worker.execute_job
_failed = []


def _execute_job_once_failing(self, job, queue):  # noqa: ANN001, ANN202
    if not _failed:
        _failed.append(job.id)
        raise RedisConnectionError("simulated: Redis went away while the work horse was watched")
    return _real_execute_job(self, job, queue)


worker.Igny8Worker.execute_job = _execute_job_once_failing

if __name__ == "__main__":
    main()
