"""The Automation page as an operator uses it: run now, watch the live card, pause, resume,
cancel, close and reopen the card; a viewer watches but cannot control. Real RQ workers, the
offline provider with a small per-item delay, and push updates (no polling)."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import pytest
from playwright.sync_api import expect

from igny8_app.services.system.demo import demo_keywords
from tests.e2e.conftest import shot, ui_login

SITE_LABEL = "Urban Balcony Gardens · urban-balcony.com"


def _import(live_app, site_id: int, rows: list[dict], tmp_path, name: str) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["keyword", "volume", "difficulty", "intent"])
    w.writeheader()
    w.writerows(rows)
    path = tmp_path / name
    path.write_text(buf.getvalue())
    r = live_app.cli("import-keywords", "--site", str(site_id), str(path), "--json")
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def balcony(live_app):
    import sqlite3

    with sqlite3.connect(live_app.data_dir / "igny8.db") as c:
        return c.execute("select id from site where name = 'Urban Balcony Gardens'").fetchone()[0]


def _goto_automation(page, live_app):
    page.goto(f"{live_app.url}/automation")
    expect(page.locator("#site-selector")).to_be_visible()
    if SITE_LABEL.split(" · ")[0] not in page.locator("#site-selector").inner_text():
        page.click("#site-selector")
        page.get_by_role("option", name=SITE_LABEL).click()
    expect(page.locator("#site-selector")).to_contain_text("Urban Balcony Gardens")


def _watch_progress(page) -> None:
    """Record every change of the processed counter in the page (MutationObserver)."""
    page.evaluate("""() => {
      window.__seen = [];
      const el = () => document.querySelector('#processed-count');
      window.__active = [];  // what the highlighted (active) stage card shows while the counter moves
      const active = () => [...document.querySelectorAll('.stage-card')]
        .find(c => (c.querySelector('.stage-state') || {}).textContent === 'active');
      const obs = new MutationObserver(() => {
        const e = el(); if (e) window.__seen.push([Date.now(), e.textContent]);
        const a = active();
        if (a) window.__active.push([!!a.querySelector('.stage-live-note'), !!a.querySelector('.stage-processed')]);
      });
      obs.observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")


def test_run_moves_from_0_to_100_and_completes(live_app, page, balcony, tmp_path):
    _import(live_app, balcony, demo_keywords()[:12], tmp_path, "a.csv")
    ui_login(page, live_app.url, *live_app.creds("owner"))
    _goto_automation(page, live_app)
    expect(page.locator("#run-now")).to_be_enabled()
    shot(page, "10-automation-idle")
    _watch_progress(page)
    page.click("#run-now")
    card = page.locator("#processing-card")
    expect(card).to_be_visible()
    expect(page.locator("#run-status")).to_have_text("running")
    page.wait_for_timeout(1500)
    shot(page, "11-automation-running")
    expect(page.locator("#run-status")).to_have_text("completed", timeout=90_000)
    expect(page.locator("#stage-title")).to_contain_text("Stage 6/6")
    expect(page.locator("#processed-count")).to_contain_text("(100%)")
    shot(page, "12-automation-completed")
    seen = page.evaluate("window.__seen")
    texts = [t for _, t in seen]
    assert len(set(texts)) >= 5, texts  # the counter moved live, without a reload
    # the active stage card never shows counts that only reload at stage ends: it points at the card
    active = page.evaluate("window.__active")
    assert active and all(note and not counts for note, counts in active), active[:10]
    # closing keeps it closed; a small control reopens the last run
    page.click("#close-card")
    expect(card).to_have_count(0)
    page.click("#reopen-card")
    expect(card).to_be_visible()
    expect(page.locator("#history-table")).to_contain_text("completed")


def test_pause_resume_and_cancel(live_app, page, balcony, tmp_path):
    _import(live_app, balcony, demo_keywords()[40:70], tmp_path, "b.csv")
    ui_login(page, live_app.url, *live_app.creds("owner"))
    _goto_automation(page, live_app)
    page.click("#run-now")
    expect(page.locator("#run-status")).to_have_text("running")
    # let it reach a stage with several items, then pause
    expect(page.locator("#stage-title")).to_contain_text("Stage 2/6", timeout=60_000)
    page.click("#pause-button")
    expect(page.locator("#run-status")).to_have_text("paused", timeout=15_000)
    expect(page.locator("#paused-note")).to_contain_text("Paused by an operator")
    expect(page.locator("#processing-card")).to_have_class(re.compile(r"\brun-paused\b"))
    shot(page, "13-automation-paused")
    frozen = page.locator("#processed-count").inner_text()
    page.wait_for_timeout(2500)
    assert page.locator("#processed-count").inner_text() == frozen  # nothing moves while paused
    page.click("#resume-button")
    expect(page.locator("#run-status")).to_have_text("running")
    page.wait_for_timeout(1500)
    page.click("#cancel-button")
    expect(page.get_by_text("Cancel this run?")).to_be_visible()
    shot(page, "14-automation-cancel-confirm")
    page.click("#confirm-cancel")
    expect(page.locator("#run-status")).to_have_text("cancelled", timeout=15_000)
    expect(page.locator("#run-now")).to_be_enabled()
    shot(page, "15-automation-cancelled")
    # the run's trace (written in each transaction): after each stop request at most the item in
    # flight was committed, and no item was done twice across pause, resume and cancel
    trace = [json.loads(line) for line in
             (live_app.data_dir / "runs" / page.locator("#card-run-id").inner_text() / "trace.jsonl")
             .read_text().splitlines()]
    kinds = [e["event"] for e in trace]
    for request, stop in (("pause_requested", "pause"), ("cancel_requested", "cancel")):
        if request in kinds:  # (a request that found no item in progress stops at once)
            start = kinds.index(request)
            end = kinds.index(stop, start)
            assert kinds[start:end].count("stage_item_processed") <= 1, kinds[start:end + 1]
    assert "pause" in kinds and "cancel" in kinds, kinds
    done = [(e["stage"], e["item"]) for e in trace if e["event"] == "stage_item_processed"]
    assert done and len(done) == len(set(done)), "an item was processed twice"


def test_viewer_sees_the_card_but_cannot_control(live_app, page, balcony, tmp_path):
    _import(live_app, balcony, demo_keywords()[80:100], tmp_path, "c.csv")
    r = live_app.cli("run", "start", "--site", str(balcony), "--json")
    assert r.returncode == 0, r.stderr
    run_id = json.loads(r.stdout)["run_id"]
    try:
        ui_login(page, live_app.url, *live_app.creds("viewer"))
        _goto_automation(page, live_app)
        expect(page.locator("#processing-card")).to_be_visible()
        expect(page.locator("#run-now")).to_be_disabled()
        expect(page.locator("#pause-button")).to_be_disabled()
        shot(page, "16-automation-viewer")
    finally:
        live_app.cli("run", "cancel", run_id)
        deadline = time.time() + 30
        while time.time() < deadline and '"cancelled"' not in live_app.cli("run", "status", run_id, "--json").stdout:
            time.sleep(0.5)
