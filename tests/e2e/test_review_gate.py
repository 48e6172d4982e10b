"""A review gate in the browser: the run pauses after clustering with pause_reason=review, the page
links to what needs review, and Resume continues to completion. Own account and site."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from igny8_app.services.system.demo import demo_csv
from tests.e2e.conftest import shot, ui_login

OWNER = ("review-owner@example.com", "review-owner-password")
ACCOUNT = "Review Gate Co"


@pytest.fixture(scope="module")
def review_site(live_app, tmp_path_factory):
    assert live_app.cli("create-user", "--email", OWNER[0], "--password", OWNER[1], "--account", ACCOUNT).returncode == 0
    r = live_app.cli("create-site", "--account", ACCOUNT, "--name", "Review Site", "--domain", "review.example.com",
                     "--json")
    site_id = json.loads(r.stdout)["id"]
    path = tmp_path_factory.mktemp("review") / "kw.csv"
    lines = demo_csv().decode().splitlines()
    path.write_text("\n".join(lines[:25]) + "\n")
    assert live_app.cli("import-keywords", "--site", str(site_id), str(path)).returncode == 0
    assert live_app.cli("grant-credits", "--account", ACCOUNT, "--amount", "20000", "--reason", "e2e").returncode == 0
    r = live_app.cli("config", "set", "--site", str(site_id), "review_after_stages=1", "max_ideas_per_run=2",
                     "max_tasks_per_run=1", "max_content_per_run=1", "max_images_per_run=1")
    assert r.returncode == 0, r.stderr
    return site_id


def _status(live_app, run_id: str) -> dict:
    return json.loads(live_app.cli("run", "status", run_id, "--json").stdout)


def test_run_pauses_for_review_links_to_it_and_resumes(live_app, page, review_site):
    ui_login(page, live_app.url, *OWNER)
    page.goto(f"{live_app.url}/automation")
    expect(page.locator("#site-selector")).to_contain_text("Review Site")
    page.click("#run-now")
    notice = page.locator("#review-notice")
    expect(notice).to_be_visible(timeout=60_000)
    expect(notice).to_contain_text("Paused for review after stage 1")
    expect(notice.get_by_role("link", name="the new clusters")).to_have_attribute("href", "/keywords")
    expect(page.locator("#paused-note")).to_contain_text("Paused for review")
    run_id = _latest_run(live_app, review_site)
    state = _status(live_app, run_id)
    assert (state["status"], state["pause_reason"], state["current_stage"]) == ("paused", "review", 2)
    shot(page, "automation-review-gate")
    page.click("#resume-button")
    expect(page.locator("#review-notice")).to_have_count(0)
    expect(page.locator("#run-status")).to_have_text("completed", timeout=90_000)
    assert _status(live_app, run_id)["status"] == "completed"


def _latest_run(live_app, site_id: int) -> str:
    import sqlite3

    for _ in range(100):
        with sqlite3.connect(live_app.data_dir / "igny8.db") as c:
            row = c.execute("select run_id from automation_run where site_id = ? order by id desc limit 1",
                            (site_id,)).fetchone()
        if row:
            return row[0]
        time.sleep(0.1)
    raise AssertionError("no run")
