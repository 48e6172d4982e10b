"""The Automation page's settings modal: field validation messages, saving shows the next scheduled
run, the header shows the schedule; a viewer sees the settings but cannot save. Own account/site."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot, ui_login

OWNER = ("cfg-owner@example.com", "cfg-owner-password")
VIEWER = ("cfg-viewer@example.com", "cfg-viewer-password")
ACCOUNT = "Config Modal Co"


@pytest.fixture(scope="module")
def cfg_site(live_app) -> int:
    for email, password, role in ((*OWNER, "owner"), (*VIEWER, "viewer")):
        r = live_app.cli("create-user", "--email", email, "--password", password, "--account", ACCOUNT,
                         "--role", role)
        assert r.returncode == 0, r.stderr
    r = live_app.cli("create-site", "--account", ACCOUNT, "--name", "Config Site", "--domain", "config.example.com",
                     "--json")
    assert r.returncode == 0, r.stderr
    site_id = json.loads(r.stdout)["id"]
    r = live_app.cli("grant-credits", "--account", ACCOUNT, "--amount", "5000", "--reason", "e2e config")
    assert r.returncode == 0, r.stderr
    return site_id


def _open(page, live_app):
    page.goto(f"{live_app.url}/automation")
    expect(page.locator("#site-selector")).to_contain_text("Config Site")
    page.click("#open-config")
    expect(page.locator("#config-form")).to_be_visible()


def test_owner_edits_settings_with_validation_and_sees_the_next_run(live_app, page, cfg_site):
    ui_login(page, live_app.url, *OWNER)
    _open(page, live_app)
    page.check("#cfg-enabled")
    page.select_option("#cfg-frequency", "weekly")
    page.select_option("#cfg-weekday", "0")
    page.fill("#cfg-scheduled_time", "03:30")
    page.fill("#cfg-stage_1_batch_size", "500")
    page.fill("#cfg-max_credits_per_run", "9000")
    page.check("#cfg-review_2")
    page.click("#save-config")
    expect(page.locator("#err-stage_1_batch_size")).to_have_text("must be between 1 and 100.")
    expect(page.locator("#err-max_credits_per_run")).to_contain_text("more than the account's balance of 5,000")
    shot(page, "automation-config-errors")
    # nothing was saved
    shown = json.loads(live_app.cli("config", "show", "--site", str(cfg_site), "--json").stdout)
    assert shown["enabled"] is False and shown["stage_1_batch_size"] == 20
    page.fill("#cfg-stage_1_batch_size", "25")
    page.fill("#cfg-max_credits_per_run", "800")
    page.click("#save-config")
    expect(page.locator("#config-saved")).to_contain_text("Saved. Next scheduled run: ")
    expect(page.locator("#err-stage_1_batch_size")).to_have_count(0)
    shown = json.loads(live_app.cli("config", "show", "--site", str(cfg_site), "--json").stdout)
    assert (shown["enabled"], shown["frequency"], shown["weekday"], shown["scheduled_time"]) == (
        True, "weekly", 0, "03:30")
    assert (shown["stage_1_batch_size"], shown["max_credits_per_run"], shown["review_after_stages"]) == (25, 800, [2])
    expect(page.locator("#config-saved")).to_contain_text(shown["next_run_local"])
    shot(page, "automation-config-saved")
    page.keyboard.press("Escape")
    expect(page.locator("#schedule-line")).to_contain_text("every Monday at 03:30 (UTC)")
    expect(page.locator("#schedule-line")).to_contain_text(shown["next_run_local"])
    # reopening shows the saved values
    page.click("#open-config")
    expect(page.locator("#cfg-stage_1_batch_size")).to_have_value("25")
    expect(page.locator("#cfg-review_2")).to_be_checked()
    expect(page.locator("#cfg-frequency")).to_have_value("weekly")


def test_viewer_sees_settings_but_cannot_save(live_app, page, cfg_site):
    ui_login(page, live_app.url, *VIEWER)
    _open(page, live_app)
    expect(page.locator("#save-config")).to_be_disabled()
    expect(page.locator("#cfg-stage_1_batch_size")).to_be_disabled()
    expect(page.get_by_text("Only owners and admins can change these settings.")).to_be_visible()
