"""The notification centre in a real browser, on an account of its own: a run paused by an
operator and then completed (by the live app's RQ workers) shows up under the header bell with an
unread count; opening a notification marks it read and goes to its subject; emails arrive through
a real SMTP server, and the per-user opt-out is honoured (an opted-in colleague is the control)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import time
import uuid

from playwright.sync_api import expect

from igny8_app.services.system.demo import demo_keywords
from tests.e2e.conftest import shot, ui_login
from tests.e2e.test_team_pages import PW, _account
from tests.live_app import REPO


def _import(live_app, site_id: int, rows: list[dict], tmp_path, name: str) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["keyword", "volume", "difficulty", "intent"])
    w.writeheader()
    w.writerows(rows)
    (tmp_path / name).write_text(buf.getvalue())
    r = live_app.cli("import-keywords", "--site", str(site_id), str(tmp_path / name), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["imported"] == len(rows) > 0, r.stdout  # a run with work to do


def _wait_status(live_app, run_id: str, want: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    status = ""
    while time.time() < deadline:
        status = json.loads(live_app.cli("run", "status", run_id, "--json").stdout)["status"]
        if status == want:
            return
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} is {status}, not {want}")


START_AND_PAUSE = """
import sys
from igny8_app.services.automation import control as automation
run = automation.start_run(site_id=int(sys.argv[1]))
automation.pause_run(run_id=run.run_id)  # in the same process: before the run can finish
print(run.run_id)
"""


def _run(live_app, site_id: int, *, pause_first: bool = False) -> str:
    if pause_first:
        r = subprocess.run([sys.executable, "-c", START_AND_PAUSE, str(site_id)], cwd=REPO, env=live_app.env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        run_id = r.stdout.strip().splitlines()[-1]
        _wait_status(live_app, run_id, "paused")
    else:
        r = live_app.cli("run", "start", "--site", str(site_id), "--json")
        assert r.returncode == 0, r.stderr + r.stdout
        run_id = json.loads(r.stdout)["run_id"]
    if pause_first:
        assert live_app.cli("run", "resume", run_id).returncode == 0
    _wait_status(live_app, run_id, "completed")
    return run_id


def test_notification_centre_unread_count_links_and_email_opt_out(live_app, page, smtp_sink, tmp_path):
    account, owner, site_id = _account(live_app)
    colleague = f"admin-{uuid.uuid4().hex[:6]}@team-e2e.example"
    assert live_app.cli("create-user", "--email", colleague, "--password", PW, "--account", account,
                        "--role", "admin").returncode == 0
    assert live_app.cli("grant-credits", "--account", account, "--amount", "20000", "--reason", "e2e").returncode == 0
    words = demo_keywords()  # this account's own site: the demo list is free to reuse
    assert len(words) >= 15
    _import(live_app, site_id, words[:12], tmp_path, "a.csv")
    run_id = _run(live_app, site_id, pause_first=True)

    ui_login(page, live_app.url, owner, PW)
    expect(page.locator("#unread-count")).to_have_text("2")
    page.click("#notification-bell")
    page.wait_for_url("**/notifications")
    items = page.locator(".notification-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text(f"Run {run_id} completed")
    expect(items.nth(0)).to_contain_text(re.compile(r"used [1-9][\d,]* credits"))  # it did the work
    expect(items.nth(1)).to_contain_text("paused by an operator")
    shot(page, "notifications-01-centre")
    items.nth(0).click()
    page.wait_for_url("**/automation")
    expect(page.locator("#unread-count")).to_have_text("1")
    page.goto(f"{live_app.url}/notifications")
    page.click("#unread-only")
    expect(page.locator(".notification-item")).to_have_count(1)
    page.click("#mark-all-read")
    expect(page.locator(".notification-item")).to_have_count(0)
    expect(page.locator("#unread-count")).to_have_count(0)

    subjects = [m["Subject"] for m in smtp_sink.wait_for(owner, 2)]
    assert f"Run {run_id} completed on Team site {account.split()[-1]}" in subjects
    assert any("paused by an operator" in s for s in subjects)

    # the owner opts out of email; the admin colleague does not
    page.click("#nav-my-account")
    page.wait_for_url("**/account")
    expect(page.locator("#email-notifications")).to_have_attribute("data-state", "checked")
    page.click("#email-notifications")
    expect(page.locator("#email-notifications")).to_have_attribute("data-state", "unchecked")
    before = len(smtp_sink.to(owner))
    _import(live_app, site_id, words[12:15], tmp_path, "b.csv")
    second = _run(live_app, site_id)
    mails = smtp_sink.wait_for(colleague, 3)  # paused + completed of run 1, completed of run 2
    assert any(second in m["Subject"] for m in mails)
    assert len(smtp_sink.to(owner)) == before  # opted out: nothing more by email
    page.goto(f"{live_app.url}/notifications")
    expect(page.locator(".notification-item").first).to_contain_text(f"Run {second} completed")  # still in-app
