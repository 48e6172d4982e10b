"""After a run: an operator reads the generated article with its images, moves it through the
workflow and downloads it through the authenticated routes."""

from __future__ import annotations

import json
import time

import httpx
from playwright.sync_api import expect

from igny8_app.services.system.demo import demo_keywords
from tests.e2e.conftest import shot, ui_login
from tests.e2e.test_automation_flow import SITE_LABEL, _import, balcony  # noqa: F401 - fixture


def test_read_review_publish_and_download(live_app, page, balcony, tmp_path):  # noqa: F811
    _import(live_app, balcony, demo_keywords()[120:132], tmp_path, "d.csv")
    r = live_app.cli("run", "start", "--site", str(balcony), "--json")
    assert r.returncode == 0, r.stderr
    run_id = json.loads(r.stdout)["run_id"]
    deadline = time.time() + 120
    while time.time() < deadline:
        status = json.loads(live_app.cli("run", "status", run_id, "--json").stdout)["status"]
        if status == "completed":
            break
        time.sleep(1)
    assert status == "completed"

    ui_login(page, live_app.url, *live_app.creds("owner"))
    page.goto(f"{live_app.url}/content")
    if "Urban Balcony Gardens" not in page.locator("#site-selector").inner_text():
        page.click("#site-selector")
        page.get_by_role("option", name=SITE_LABEL).click()
    expect(page.locator(".content-row").first).to_be_visible()
    shot(page, "20-content-list")
    page.locator(".content-row a").first.click()
    expect(page.locator("#article-body h2").first).to_be_visible()
    expect(page.locator("#featured-image")).to_be_visible()
    assert page.locator("#featured-image").evaluate("img => img.naturalWidth") > 0  # the PNG really loaded
    shot(page, "21-article")
    expect(page.locator("#article-status")).to_have_text("draft")
    page.get_by_role("button", name="Move to review").click()
    expect(page.locator("#article-status")).to_have_text("review")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#article-status")).to_have_text("published")
    href = page.locator("#download-md").get_attribute("href")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    md = httpx.get(live_app.url + href, cookies=cookies, timeout=10)
    assert md.status_code == 200 and md.text.startswith("# ")
    assert httpx.get(live_app.url + href, timeout=10).status_code == 401  # not without the session
