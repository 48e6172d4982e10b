"""System (platform admins): live RQ workers with their current job and run, queue lengths, failed
jobs (retry, delete), the scheduler's and watchdog's heartbeats, site locks (release a stuck one),
the next scheduled runs. Every handler checks on the server that the user is a superuser; the data
comes from RQ's own registries via ``services.system``."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import reflex as rx

from igny8_app.domain.errors import DomainError
from igny8_app.services.system import operations as system
from igny8_app.state import SessionState

REFRESH_S = 3.0
REFRESH_LIMIT_S = 15 * 60


def _ago(iso: str | None, now: datetime) -> str:
    if not iso:
        return "never"
    secs = int((now - datetime.fromisoformat(iso)).total_seconds())
    if secs < 0:
        return "just now"
    return f"{secs} s ago" if secs < 120 else f"{secs // 60} min ago"


class SystemState(SessionState):
    denied: str = ""
    workers: list[dict[str, Any]] = []
    queue: dict[str, Any] = {}
    failed: list[dict[str, Any]] = []
    beats: list[dict[str, str]] = []
    locks: list[dict[str, Any]] = []
    next_runs: list[dict[str, Any]] = []
    health: dict[str, Any] = {}
    health_checks: list[dict[str, str]] = []  # the checks' details (error texts), for admins only
    confirm_site: int = 0
    updated: str = ""
    _gen: int = 0

    def _refuse(self, exc: DomainError):
        if exc.code in ("forbidden", "unauthenticated"):
            self.denied = exc.message
        return self._fail(exc)

    def _load(self) -> None:
        from igny8_app.models import utcnow

        now = utcnow()
        data = system.overview()
        _, self.health = system.health()
        self.health_checks = [{"part": k, "ok": "yes" if v == "ok" else "no", "detail": v}
                              for k, v in self.health["checks"].items()]
        self.workers = [{**w, "run_id": (w["run"] or {}).get("run_id", ""), "run_site": (w["run"] or {}).get("site", ""),
                         "beat_ago": _ago(w["last_heartbeat"], now)} for w in data["workers"]]
        self.queue = data["queues"][0]
        self.failed = [{**f, "run_id": (f["run"] or {}).get("run_id", "")} for f in data["failed"]]
        self.beats = [{"task": task, "at": (b or {}).get("at", ""), "ago": _ago((b or {}).get("at"), now),
                       "by": (b or {}).get("by", ""), "ok": "yes" if b else "no",
                       "detail": ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in (b or {}).items()
                                           if k not in ("at", "by", "cutoff"))}
                      for task, b in data["heartbeats"].items()]
        self.locks = data["locks"]
        self.next_runs = [{**r, "at": r["next_run_at"][:16].replace("T", " ") + " UTC"} for r in data["next_runs"]]
        self.updated = now.strftime("%H:%M:%S UTC")

    @rx.event
    def load_system(self):
        try:
            with self._superuser("the System page", write=False):
                pass
            self.denied = ""
            self._load()
        except DomainError as exc:
            return self._refuse(exc)
        self._gen += 1
        return SystemState.auto_refresh

    @rx.event(background=True)
    async def auto_refresh(self):
        """Keep the page live while it is open (a fresh look every few seconds, checked each time)."""
        async with self:
            gen = self._gen
        waited = 0.0
        while waited < REFRESH_LIMIT_S:
            await asyncio.sleep(REFRESH_S)
            waited += REFRESH_S
            async with self:
                if self._gen != gen or self.router.page.path != "/admin/system":
                    return
                try:
                    with self._superuser("the System page", write=False):
                        pass
                    self._load()
                except DomainError:
                    return
                except Exception:  # noqa: BLE001 - Redis blips: show the next good look
                    continue

    @rx.event
    def refresh(self):
        try:
            with self._superuser("the System page", write=False):
                pass
            self._load()
        except DomainError as exc:
            return self._refuse(exc)

    @rx.event
    def retry_job(self, job_id: str):
        try:
            with self._superuser("the System page"):
                pass
            system.retry_failed_job(str(job_id))
            self._load()
        except DomainError as exc:
            return self._refuse(exc)
        return rx.toast.success(f"Job {job_id} queued again.")

    @rx.event
    def delete_job(self, job_id: str):
        try:
            with self._superuser("the System page"):
                pass
            system.delete_failed_job(str(job_id))
            self._load()
        except DomainError as exc:
            return self._refuse(exc)
        return rx.toast.success(f"Job {job_id} deleted.")

    @rx.event
    def ask_release(self, site_id: int):
        self.confirm_site = int(site_id)

    @rx.event
    def set_confirm_open(self, value: bool):
        if not value:
            self.confirm_site = 0

    @rx.event
    def release_lock(self):
        site_id, self.confirm_site = self.confirm_site, 0
        try:
            with self._superuser("the System page") as ctx:  # one unit of work: authorise and act
                out = system.release_site_lock(site_id=site_id, actor=ctx.user, session=ctx.session)
            self._load()
        except DomainError as exc:
            return self._refuse(exc)
        return rx.toast.success(f"Site lock released; run {out['run_id']} was {out['previous_status']}.")
