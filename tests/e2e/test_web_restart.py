"""Chaos: the web process is SIGKILLed while an editor watches a run in chromium. It is started
again on the same port, data folder and environment (the RQ workers keep running the run). The
page reconnects by itself (no reload) and, within 5 s of the web process answering again, its
card shows the run advancing again."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests import live_feed
from tests.e2e.conftest import shot, ui_login
from tests.e2e.test_live_card_access import OBSERVE_JS, _remaining
from tests.live_app import kill_web, restart_web

LIVE_AGAIN_S = 5.0


def test_the_card_is_live_again_within_5_s_of_the_web_process_coming_back(live_app, page):
    team = live_feed.make_team(live_app, "lc-web-restart", n_keywords=120)
    run_id = live_feed.start_run(live_app, team)
    try:
        ui_login(page, live_app.url, *team.editor)
        page.goto(f"{live_app.url}/automation")
        expect(page.locator("#site-selector")).to_contain_text(team.site_name)
        expect(page.locator("#run-status")).to_have_text("running", timeout=20_000)
        deadline = time.time() + 90
        while _remaining(page)[1] < 2 and time.time() < deadline:  # past the first (batched) stage
            page.wait_for_timeout(100)
        page.evaluate("window.__sameDocument = true")  # gone if the page reloads
        page.evaluate(OBSERVE_JS)
        page.wait_for_timeout(1000)
        before = page.evaluate("window.__changes")
        assert len(before) >= 2, before  # the card was live before the crash

        kill_web(live_app)
        killed_at = time.time()
        page.wait_for_timeout(1000)  # the socket notices the crash; the card holds still
        back_at = restart_web(live_app)
        status, done_at_back = live_feed.run_row(live_app, run_id)
        assert status == "running", "the run ended while the web process was down: nothing left to show"

        # the page reconnects on its own; the card moves again within 5 s of the process being back
        page.wait_for_function(
            """([since, seen]) => window.__changes.filter(c => c[0] > since && c[1] === 'processed-count').length
                 > 0 && window.__changes.length > seen""",
            arg=[back_at * 1000, len(page.evaluate("window.__changes"))],
            timeout=(back_at + LIVE_AGAIN_S - time.time()) * 1000,
            polling=50,
        )
        live_at = time.time()
        assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
        shot(page, "web-restart-live-again")
        moved = [c for c in page.evaluate("window.__changes") if c[0] > back_at * 1000 and c[1] == "processed-count"]
        assert moved, "no progress after the restart"
        expect(page.locator("#run-status")).to_have_text("running")
        print(f"killed {killed_at:.3f}, back {back_at - killed_at:.1f} s later, live again {live_at - back_at:.2f} s "
              f"after that ({len(moved)} updates; {done_at_back} items done when back)")
    finally:
        if live_app.proc.poll() is not None:  # leave the session's live app serving for the next tests
            restart_web(live_app)
        live_feed.cancel_and_wait(live_app, run_id)
