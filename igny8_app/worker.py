"""The RQ worker process (``igny8 worker``). The automation engine adds its watchdog here."""

from __future__ import annotations

from rq import Worker

from igny8_app.queue import get_queue, get_redis


def run_worker(*, burst: bool = False, name: str | None = None) -> bool:
    worker = Worker([get_queue()], connection=get_redis(), name=name)
    return worker.work(burst=burst, with_scheduler=False)
