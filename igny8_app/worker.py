"""The RQ worker process (``igny8 worker``), with the periodic tasks built in (the scheduler tick
that starts scheduled runs, the crash-recovery watchdog and retention; see
``services.scheduler.PeriodicRunner``), so a deployment of only workers schedules and heals.
Every worker runs them; the database makes that safe (a unique due time per site, conditional
claims of stale runs)."""

from __future__ import annotations

import logging

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
        periodic = PeriodicRunner()
        periodic.start()
    worker = Worker([get_queue()], connection=get_redis(), name=name)
    try:
        return worker.work(burst=burst, with_scheduler=False)
    finally:
        if periodic:
            periodic.stopped.set()
