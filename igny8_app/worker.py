"""The RQ worker process (``igny8 worker``), with the periodic tasks built in (the scheduler tick
that starts scheduled runs, the crash-recovery watchdog and retention; see
``services.scheduler.PeriodicRunner``), so a deployment of only workers schedules and heals.
Every worker runs them; the database makes that safe (a unique due time per site, conditional
claims of stale runs)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import time

from redis import Redis
from rq import Worker

from igny8_app.queue import get_queue, get_redis

log = logging.getLogger(__name__)


def _preload() -> None:
    """Import the engine (scikit-learn, Pillow, the services) once in the parent: RQ forks a work
    horse per job, and each fork then starts warm instead of spending seconds on imports."""
    import igny8_app.ai.offline  # noqa: F401
    import igny8_app.services.automation.run_loop  # noqa: F401


def run_worker(*, burst: bool = False, name: str | None = None) -> bool:
    from igny8_app.services.automation.scheduler import PeriodicRunner
    from igny8_app.services.system.periodic import periodic_tasks

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _preload()
    periodic = None
    _scheduler_dies_with_worker()
    if not burst:
        _guard_forks()
        periodic = PeriodicRunner(tasks=periodic_tasks())
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

    from igny8_app.services.automation.scheduler import FORK_GUARD

    os.register_at_fork(before=FORK_GUARD.acquire, after_in_parent=FORK_GUARD.release,
                        after_in_child=FORK_GUARD.release)
    _FORK_GUARDED = True


def _scheduler_dies_with_worker() -> None:
    """RQ forks its scheduler from the worker. SIGKILLed (OOM killer), the worker cannot stop it,
    and the orphan kept the worker's inherited Redis socket open, so Redis still served the dead
    worker's pending BLMOVE: the next job landed in the queue's intermediate list and no live
    worker ran it. The scheduler child now asks Linux for SIGKILL when its parent dies."""
    import rq.scheduler as rq_scheduler

    if getattr(rq_scheduler.run, "_igny8", False):
        return
    original, worker_pid = rq_scheduler.run, os.getpid()

    def run(scheduler):  # noqa: ANN001, ANN202 - RQ's target signature
        _die_with_parent(worker_pid)
        return original(scheduler)

    run._igny8 = True  # type: ignore[attr-defined]
    rq_scheduler.run = run  # RQScheduler.start() looks the target up at fork time


def _die_with_parent(parent_pid: int) -> None:
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the worker's own stop paths still apply
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)


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
            worker = Igny8Worker([get_queue()], connection=get_redis(), name=worker_name)
            # with_scheduler: RQ's scheduler (a child process, one per queue across all hosts under
            # RQ's lock) moves delayed retries (enqueue_email) back onto the queue
            worked = worker.work(burst=burst, with_scheduler=True)
            if burst or Igny8Worker.stop_signalled:
                return worked
            # RQ's loop also ends by swallowing an error ("found an unhandled exception, quitting"),
            # e.g. Redis lost while it recorded a dead work horse and back for its teardown: the
            # worker is not done, it starts again once Redis answers.
            log.warning("the RQ work loop quit on an error (logged above); registering the worker again")
        except (RedisConnectionError, RedisTimeoutError) as exc:
            if burst or Igny8Worker.stop_signalled:
                raise SystemExit(0) if Igny8Worker.stop_signalled else exc
            log.warning("lost the connection to Redis (%s); waiting for it to come back", exc)
        generation += 1
        delay = 0.5
        while True:
            time.sleep(delay)
            if Igny8Worker.stop_signalled:  # a SIGTERM that found Redis answering again
                return False
            try:
                get_redis().ping()
                break
            except (RedisConnectionError, RedisTimeoutError):
                delay = min(delay * 2, 30.0)
        log.info("Redis is back; registering the worker again")


REDIS_PROBE_TIMEOUT_S = 0.5
SCHEDULER_JOIN_TIMEOUT_S = 0.5


class Igny8Worker(Worker):
    """RQ's Worker, stoppable by ONE SIGTERM even when Redis is gone (``systemctl stop`` during an
    outage). With Redis answering, SIGTERM is RQ's warm shutdown (the current job finishes). Cut
    off from Redis (probed on a fresh connection with a short timeout), there is nothing to
    report to and no way to record the job: it takes the work horse down (as RQ's cold shutdown
    does; the run's lease and the watchdog recover the run) and exits at once, without the Redis
    calls of RQ's teardown that would hang or fail."""

    stop_signalled = False  # class-wide: the outage loop outlives one Worker object

    def request_stop(self, signum, frame):  # noqa: ANN001, ANN201 - RQ's signal handler signature
        type(self).stop_signalled = True
        if not _redis_answers(self.connection):
            self.log.warning("SIGTERM while cut off from Redis: stopping now")
            self._cut_off = True
            if self.horse_pid:
                try:
                    os.killpg(os.getpgid(self.horse_pid), signal.SIGKILL)
                except OSError:
                    pass
            self._stop_scheduler_process(at_once=True)
            raise SystemExit(0)
        return super().request_stop(signum, frame)

    def teardown(self) -> None:
        if getattr(self, "_cut_off", False):
            return
        super().teardown()

    def stop_scheduler(self) -> None:
        self._stop_scheduler_process()

    def _stop_scheduler_process(self, *, at_once: bool = False) -> None:
        """RQ joins its scheduler process without a limit; a scheduler stuck on a frozen Redis
        would hold the stop for ever. TERM, a short wait, then KILL (its lock simply expires);
        cut off from Redis it cannot release anything anyway: KILL at once."""
        process = getattr(self.scheduler, "_process", None) if self.scheduler else None
        if process is None or not process.pid:
            return
        try:
            os.kill(process.pid, signal.SIGKILL if at_once else signal.SIGTERM)
        except OSError:
            return
        process.join(SCHEDULER_JOIN_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join(SCHEDULER_JOIN_TIMEOUT_S)


def _redis_answers(connection: Redis) -> bool:
    """Does the Redis server answer a PING within REDIS_PROBE_TIMEOUT_S? A raw socket, not
    redis-py: its connect retries and health checks would stretch the probe to many seconds. Any
    reply counts (even -NOAUTH): the server is there. TLS or unix-socket Redis: assume it answers."""
    kw = connection.connection_pool.connection_kwargs
    if "path" in kw or "SSL" in connection.connection_pool.connection_class.__name__:
        return True
    try:
        with socket.create_connection((kw.get("host", "localhost"), int(kw.get("port", 6379))),
                                      timeout=REDIS_PROBE_TIMEOUT_S) as sock:
            sock.sendall(b"PING\r\n")
            return bool(sock.recv(64))
    except OSError:
        return False
