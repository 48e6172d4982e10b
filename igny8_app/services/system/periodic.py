"""The periodic tasks every worker runs in its ``PeriodicRunner`` thread (an entry point: each turn
is its own unit of work): the scheduler tick and the crash watchdog (automation), and retention.
Wired here, in the system group, so that automation never imports system."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from igny8_app.services.automation.scheduler import Task, automation_tasks
from igny8_app.services.system import retention
from igny8_app.settings import get_settings


def _retention_task(now: datetime) -> dict[str, Any]:
    return retention.prune(now=now).summary()


def periodic_tasks() -> list[Task]:
    return [*automation_tasks(), Task("retention", get_settings().retention_interval_s, _retention_task)]
