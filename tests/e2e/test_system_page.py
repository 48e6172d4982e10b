"""The System page (superusers): health, live workers, periodic-task heartbeats, a failed job
deleted from the UI; anyone else is refused on the server. Own users; the live app's real workers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from redis import Redis
from rq import Queue

from tests.e2e.conftest import shot, ui_login

ADMIN = ("sys-admin@example.com", "sys-admin-password")
OWNER = ("sys-owner@example.com", "sys-owner-password")


@pytest.fixture(scope="module")
def users(live_app):
    r = live_app.cli("create-user", "--email", ADMIN[0], "--password", ADMIN[1], "--account", "System Ops Co",
                     "--superuser")
    assert r.returncode == 0, r.stderr
    r = live_app.cli("create-user", "--email", OWNER[0], "--password", OWNER[1], "--account", "System Owner Co")
    assert r.returncode == 0, r.stderr


def test_superuser_sees_workers_heartbeats_and_deletes_a_failed_job(live_app, live_redis_url, page, users):
    job = Queue("igny8", connection=Redis.from_url(live_redis_url)).enqueue(
        "os.path.join", 1, 2, description="e2e failing job")
    ui_login(page, live_app.url, *ADMIN)
    page.click("#admin-nav >> text=System")
    page.wait_for_url("**/admin/system")
    expect(page.locator("#health-badge")).to_have_text("healthy")
    # each check and its detail (for admins; /api/v1/health tells anonymous callers only ok/down)
    expect(page.locator("#health-table tbody tr")).to_have_count(3)
    for part in ("database", "redis", "workers"):
        expect(page.locator("#health-table tbody tr", has_text=part)).to_contain_text("ok")
    expect(page.locator("#workers-table tbody tr")).to_have_count(2)
    expect(page.locator("#beats-table")).to_contain_text("scheduler")
    expect(page.locator("#beats-table tbody tr").first).not_to_contain_text("none recently")
    row = page.locator("#failed-table tbody tr", has_text=job.id)
    expect(row).to_contain_text("TypeError", timeout=20_000)  # the page refreshes itself
    shot(page, "system-page")
    row.get_by_role("button", name="Delete").click()
    expect(page.locator("#failed-table tbody tr", has_text=job.id)).to_have_count(0)


def test_non_superuser_is_refused(live_app, page, users):
    ui_login(page, live_app.url, *OWNER)
    expect(page.locator("#admin-nav")).to_have_count(0)
    page.goto(f"{live_app.url}/admin/system")
    expect(page.locator("#system-denied")).to_have_text("Only platform admins can see the System page.")
    expect(page.locator("#workers-table")).to_have_count(0)
