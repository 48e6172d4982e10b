"""The Automation page's live card stops as soon as its viewer loses access: an editor watches a
running run in chromium, then (a) the owner removes them from the account, (b) their sessions end
(password changed from another browser), (c) the site is deleted. Within 1 s of the change the feed
stops (the ceiling asserted is 1.5 s: no new item title, count or credits after that), the card's
data is gone from the page, and the page says why (or, for a dead session, goes to the login page).

Each case has an account of its own (tests/live_feed.py), so the changes touch no other test."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests import live_feed
from tests.e2e.conftest import shot, ui_login

CEILING_S = 1.5
WINDOW_S = 4.0  # how long after the change the page is watched for late updates

# Records every change of the card's item title, counts and credits, with the browser's clock
# (the same machine's clock as the test's time.time()).
OBSERVE_JS = """() => {
  window.__changes = [];
  const last = {};
  const ids = ['processed-count', 'current-item', 'credits-used', 'stage-title'];
  const look = () => {
    for (const id of ids) {
      const el = document.getElementById(id);
      if (!el) continue;
      const text = el.textContent;
      if (last[id] !== text) { last[id] = text; window.__changes.push([Date.now(), id, text]); }
    }
  };
  look();
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def _remaining(page) -> tuple[int, int]:
    text = page.locator("#processed-count").inner_text()
    m = re.match(r"\s*(\d+)\s*/\s*(\d+)", text)
    stage = re.search(r"Stage (\d)", page.locator("#stage-title").inner_text())
    return (int(m.group(2)) - int(m.group(1)) if m else 0), (int(stage.group(1)) if stage else 0)


def _watch_until_busy(page, live_app, team) -> str:
    """Log in as the editor, open the Automation page and wait until the current stage has many
    items left (so the run keeps committing items for a few seconds after the change)."""
    run_id = live_feed.start_run(live_app, team)
    ui_login(page, live_app.url, *team.editor)
    page.goto(f"{live_app.url}/automation")
    expect(page.locator("#site-selector")).to_contain_text(team.site_name)
    expect(page.locator("#processing-card")).to_be_visible(timeout=20_000)
    deadline = time.time() + 90
    while time.time() < deadline:
        left, stage = _remaining(page)
        if stage >= 2 and left >= 25:
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail(f"the run never reached a stage with 25 items left: {_remaining(page)}")
    page.evaluate(OBSERVE_JS)
    return run_id


CASES = {
    "member-removed": (live_feed.remove_member, "access-lost"),
    "password-changed": (live_feed.change_password, "login"),
    "site-deleted": (live_feed.delete_site, "access-lost"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_live_card_stops_within_a_second_of_losing_access(live_app, page, case):
    change, outcome = CASES[case]
    team = live_feed.make_team(live_app, f"lc-{case}", n_keywords=80)
    run_id = _watch_until_busy(page, live_app, team)
    try:
        expect(page.locator("#run-status")).to_have_text("running")
        if case == "site-deleted":  # a site with an active run cannot be deleted: cancel it first
            live_feed.cancel_and_wait(live_app, run_id)
            expect(page.locator("#run-status")).to_have_text("cancelled", timeout=10_000)
        title = page.locator("#current-item").inner_text() if page.locator("#current-item").count() else ""
        changed_at = change(live_app, team)
        page.wait_for_timeout(max(0.0, changed_at + CEILING_S - time.time()) * 1000)
        done_at_ceiling = live_feed.run_row(live_app, run_id)[1] if case != "site-deleted" else 0
        page.wait_for_timeout(max(0.0, changed_at + WINDOW_S - time.time()) * 1000)
        shot(page, f"live-card-access-{case}")
        changes = page.evaluate("window.__changes")
        late = [c for c in changes if c[0] > (changed_at + CEILING_S) * 1000]
        if case != "site-deleted":  # the worker kept committing items: a live feed had news to show
            status, done_at_end = live_feed.run_row(live_app, run_id)
            assert done_at_end > done_at_ceiling, (status, done_at_ceiling, done_at_end)
        assert not late, f"the card still changed {len(late)} times after {CEILING_S} s: {late[:5]}"
        # the card's data is gone from the page, and the page says why
        expect(page.locator("#processing-card")).to_have_count(0)
        if title.removeprefix("Now: ").strip():
            assert title.removeprefix("Now: ").strip() not in page.content()
        for sel in ("#processed-count", "#current-item", "#credits-used"):
            expect(page.locator(sel)).to_have_count(0)
        if outcome == "login":
            expect(page).to_have_url(re.compile(r"/login"))
        else:
            expect(page.locator("#access-lost")).to_be_visible()
            expect(page.locator("#history-table tbody tr")).to_have_count(0)
            expect(page.locator("#activity-log > *")).to_have_count(0)
    finally:
        if case != "site-deleted":
            live_feed.cancel_and_wait(live_app, run_id)
