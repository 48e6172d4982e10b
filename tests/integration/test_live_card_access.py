"""The Automation page's live feed (``LiveRunState.watch``) re-checks the page's access at most once
a second, whether events arrive or not, and never once per pushed event; and when the access is
gone (member removed, session revoked, site deleted) it stops within that second and clears the
card. The real loop runs against a real database and the real access check, with a stand-in for
the Reflex state and the progress hub (events are put on the page's queue directly)."""

from __future__ import annotations

import asyncio
import time
import types
from types import SimpleNamespace

import pytest

from igny8_app import user_scope
from igny8_app.db import write_session
from igny8_app.domain.enums import Role
from igny8_app.models import Membership
from igny8_app.pages.automation import state as automation_page
from igny8_app.pages.automation.state import AutomationState, LiveRunState
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import sites
from igny8_app.state import SessionState
from tests.factories import make_account, make_site, make_user
from tests.integration.test_progress_hub import run_async

watch = LiveRunState.__dict__["watch"].fn  # the coroutine behind the background event


class FakeHub:
    """The process's progress hub, minus Redis: the test puts events on the open queues."""

    def __init__(self) -> None:
        self.queues: list[asyncio.Queue] = []

    def open(self, site_id: int) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue()
        self.queues.append(q)
        return q

    def close(self, site_id: int, queue: asyncio.Queue) -> None:
        self.queues.remove(queue)

    def watchers(self, site_id: int | None = None) -> int:
        return len(self.queues)

    async def dashboard(self, site_id: int, after_seq: int):
        raise AssertionError("item events must not need a dashboard read")

    def push(self, event: dict) -> None:
        for q in self.queues:
            q.put_nowait(event)


class Page(SimpleNamespace):
    """Stands in for a LiveRunState instance: ``async with self`` is a no-op, the page's helper
    methods are the real ones."""

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


def _page(site_id: int, token: str, run_id: str) -> Page:
    page = Page(_watch_gen=1, active_site_id=site_id, _card_seq=0, run_status="running", run_stage=2,
                skipped_stages=[], stages=[{"stage": 1}], history_rows=[{"run_id": run_id}],
                activity=[{"message": "x"}], estimate_total=10, estimate_needed=12, balance=500,
                pending_action="", detail={}, detail_log=[], detail_open=False, card_open=True,
                run={"run_id": run_id, "status": "running", "processed_items": 0, "current_item": "start"})
    for cls in (SessionState, AutomationState, LiveRunState):
        for name, fn in vars(cls).items():
            if name.startswith("_") and not name.startswith("__") and isinstance(fn, types.FunctionType):
                setattr(page, name, types.MethodType(fn, page))
    page._session_token = lambda: token
    return page


def _item(n: int, run_id: str) -> dict:
    state = {"run_id": run_id, "status": "running", "current_stage": 2, "processed_items": n,
             "current_item": f"secret title {n}", "credits_used": n * 3}
    return {"site_id": 0, "run_id": run_id, "status": "running", "_seq": n, "state": state}


@pytest.fixture
def operator(db):
    """An editor's session on a site of their account (and the owner, who can remove them)."""
    with write_session() as s:
        account = make_account(s, credits=100)
        owner = make_user(s, account=account.name, role=Role.OWNER)
        op = make_user(s, account=account.name, role=Role.EDITOR)
        site = make_site(s, account)
        token = accounts.open_session(session=s, user=op)
        return SimpleNamespace(site_id=site.id, account_id=account.id, user_id=op.id, owner_id=owner.id,
                               token=token)


@pytest.fixture
def checks(monkeypatch):
    """Every access check the feed makes (the real one runs)."""
    calls: list[float] = []
    real = user_scope.check_site_access

    def spy(**kw):
        calls.append(time.monotonic())
        return real(**kw)

    monkeypatch.setattr(user_scope, "check_site_access", spy)
    return calls


def _start(page: Page, hub: FakeHub, monkeypatch) -> asyncio.Task:
    monkeypatch.setattr(automation_page, "get_hub", lambda: hub)
    return asyncio.ensure_future(watch(page))


def test_access_is_checked_at_most_once_a_second_whatever_the_event_rate(operator, checks, monkeypatch):
    async def scenario():
        hub, page = FakeHub(), _page(operator.site_id, operator.token, "r1")
        task = _start(page, hub, monkeypatch)
        await asyncio.sleep(0)
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < 2.5:  # ~200 events in 2.5 s
            n += 1
            hub.push(_item(n, "r1"))
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.6)  # and then a quiet while: the check goes on without events
        elapsed = time.monotonic() - start
        assert not task.done(), task
        page._watch_gen += 1  # a newer watcher: this one ends
        await asyncio.wait_for(task, 3)
        assert n > 100 and page.run["processed_items"] == n  # every event was shown, the newest last
        gaps = [b - a for a, b in zip(checks, checks[1:])]
        assert len(checks) >= int(elapsed) - 1, (len(checks), elapsed)  # checked while quiet too
        assert len(checks) <= int(elapsed) + 1, (len(checks), elapsed)  # never per event
        assert all(g >= 0.95 for g in gaps), gaps

    run_async(scenario)


def _remove_member(op) -> None:
    from igny8_app.models import User
    from igny8_app.services.accounts import team

    with write_session() as s:
        team.remove_member(session=s, actor=s.get(User, op.owner_id), account_id=op.account_id, user_id=op.user_id)


def _log_out(op) -> None:
    with write_session() as s:
        accounts.logout(session=s, token=op.token)


def _delete_site(op) -> None:
    from igny8_app.models import Site, User

    with write_session() as s:
        sites.delete_site(session=s, actor=s.get(User, op.owner_id), site_id=op.site_id,
                          confirm_name=s.get(Site, op.site_id).name)


@pytest.mark.parametrize("revoke", [_remove_member, _log_out, _delete_site], ids=["member-removed", "logged-out",
                                                                                  "site-deleted"])
def test_the_feed_stops_within_a_second_of_losing_access_and_clears_the_card(operator, checks, monkeypatch,
                                                                               revoke):
    async def scenario():
        hub, page = FakeHub(), _page(operator.site_id, operator.token, "r1")
        task = _start(page, hub, monkeypatch)
        await asyncio.sleep(0)
        n = 0

        async def feed(seconds: float) -> None:
            nonlocal n
            until = time.monotonic() + seconds
            while time.monotonic() < until and not task.done():
                n += 1
                hub.push(_item(n, "r1"))
                await asyncio.sleep(0.02)

        await feed(1.3)
        assert page.run["processed_items"] == n > 10  # the feed was live
        await asyncio.to_thread(revoke, operator)
        revoked_at, shown_at_revoke = time.monotonic(), n
        await feed(1.5)
        stopped_in = time.monotonic() - revoked_at
        assert task.done(), "the feed is still running 1.5 s after the access was lost"
        result = task.result()
        assert stopped_in < 1.5
        # nothing of the run is left on the card or the page, and the page says why
        assert page.run == {} and page.history_rows == [] and page.activity == [] and page.stages == []
        assert page.balance == 0 and page.run_status == ""
        assert page.access_lost
        if revoke is _log_out:  # a dead session goes to the login page
            assert "/login" in repr(result)
        assert n - shown_at_revoke < 80  # (the feed kept trying to push meanwhile)
        assert len(checks) <= 4

    run_async(scenario)
