"""The RQ worker process (``igny8 worker``), with the periodic tasks built in (the scheduler tick
that starts scheduled runs, the crash-recovery watchdog and retention; see
``services.scheduler.PeriodicRunner``), so a deployment of only workers schedules and heals.
Every worker runs them; the database makes that safe (a unique due time per site, conditional
claims of stale runs)."""

from __future__ import annotations

import logging
import time

from rq import Worker

from igny8_app.queue import get_queue, get_redis

log = logging.getLogger(__name__)


def _preload() -> None:
    """Import the engine (scikit-learn, Pillow, the services) once in the parent: RQ forks a work
    horse per job, and each fork then starts warm instead of spending seconds on imports."""
    import igny8_app.ai.offline  # noqa: F401
    import igny8_app.services.run_loop  # noqa: F401


def run_worker(*, burst: bool = False, name: str | None = None) -> bool:
    from igny8_app.services.scheduler import PeriodicRunner

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _preload()
    periodic = None
    if not burst:
        _guard_forks()
        periodic = PeriodicRunner()
        periodic.start()
    try:
        return _work_through_outages(burst=burst, name=name)
    finally:
        if periodic:
            periodic.stopped.set()


_FORK_GUARDED = False


def _guard_forks() -> None:
    """Never fork a work horse while the periodic thread is inside a task (see
    services.scheduler.FORK_GUARD): the fork waits for the task to finish, and the child starts
    with the lock released."""
    global _FORK_GUARDED
    if _FORK_GUARDED:
        return
    import os

    from igny8_app.services.scheduler import FORK_GUARD

    os.register_at_fork(before=FORK_GUARD.acquire, after_in_parent=FORK_GUARD.release,
                        after_in_child=FORK_GUARD.release)
    _FORK_GUARDED = True


def _work_through_outages(*, burst: bool, name: str | None) -> bool:
    """``Worker.work`` until it returns. RQ lets a lost Redis connection escape from ``work`` (e.g.
    while it watches a work horse), which would end the process at the first Redis restart. Here
    the worker waits for Redis to come back (backoff up to 30 s) and registers again. A work horse
    that was running carries on meanwhile: its run is protected by the database lease, and the
    watchdog re-queues any run whose job the restart lost."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    generation = 0
    while True:
        worker_name = name if (generation == 0 or not name) else f"{name}-r{generation}"
        try:
            worker = Worker([get_queue()], connection=get_redis(), name=worker_name)
            return worker.work(burst=burst, with_scheduler=False)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            if burst:
                raise
            log.warning("lost the connection to Redis (%s); waiting for it to come back", exc)
        generation += 1
        delay = 0.5
        while True:
            time.sleep(delay)
            try:
                get_redis().ping()
                break
            except (RedisConnectionError, RedisTimeoutError):
                delay = min(delay * 2, 30.0)
        log.info("Redis is back; registering the worker again")
