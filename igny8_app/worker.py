"""The RQ worker process (``igny8 worker``), with the crash-recovery watchdog built in, so a
deployment of only workers still heals."""

from __future__ import annotations

import logging
import threading

from rq import Worker

from igny8_app.queue import get_queue, get_redis
from igny8_app.settings import get_settings

log = logging.getLogger(__name__)


class Watchdog(threading.Thread):
    """Every few seconds, queue recovery jobs for runs whose heartbeat went stale."""

    def __init__(self) -> None:
        super().__init__(name="igny8-watchdog", daemon=True)
        self.interval = max(1.0, get_settings().heartbeat_timeout_s / 3)
        self.stopped = threading.Event()

    def run(self) -> None:
        from igny8_app.services.watchdog import recover_stale_runs

        while not self.stopped.wait(self.interval):
            try:
                recover_stale_runs()
                get_redis().set("igny8:watchdog:last_beat", "1", ex=int(self.interval * 10) + 10)
            except Exception:  # noqa: BLE001 - keep watching; the next turn retries
                log.warning("watchdog turn failed", exc_info=True)


def _preload() -> None:
    """Import the engine (scikit-learn, Pillow, the services) once in the parent: RQ forks a work
    horse per job, and each fork then starts warm instead of spending seconds on imports."""
    import igny8_app.ai.offline  # noqa: F401
    import igny8_app.services.run_loop  # noqa: F401


def run_worker(*, burst: bool = False, name: str | None = None) -> bool:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _preload()
    watchdog = None
    if not burst:
        watchdog = Watchdog()
        watchdog.start()
    worker = Worker([get_queue()], connection=get_redis(), name=name)
    try:
        return worker.work(burst=burst, with_scheduler=False)
    finally:
        if watchdog:
            watchdog.stopped.set()
