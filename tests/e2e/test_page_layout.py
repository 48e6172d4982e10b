"""The page frame in a real browser: the dark sidebar runs the full height of a long page (it used
to stop at the window's height, leaving white below it once the page scrolled)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import shot, ui_login

#: The sidebar is the outermost box of the navigation painted in its dark colour (#0f172a).
GEOMETRY = """() => {
    let el = document.getElementById('nav-keywords'), dark = null;
    for (; el && el !== document.body; el = el.parentElement) {
        if (getComputedStyle(el).backgroundColor === 'rgb(15, 23, 42)') dark = el;
    }
    const bar = dark.getBoundingClientRect();
    const nav = document.getElementById('nav-keywords').getBoundingClientRect();
    return {barTop: bar.top + window.scrollY, barBottom: bar.bottom + window.scrollY,
            navTop: nav.top, docHeight: document.documentElement.scrollHeight, winHeight: window.innerHeight};
}"""


def test_sidebar_runs_the_full_height_of_a_long_page(live_app, page):
    ui_login(page, live_app.url, *live_app.creds("owner"))
    page.goto(f"{live_app.url}/keywords")
    expect(page.locator(".keyword-row").nth(40)).to_be_visible()  # 50 rows a page: longer than the window
    g = page.evaluate(GEOMETRY)
    assert g["docHeight"] > g["winHeight"] + 400, g  # the page really is long
    assert g["barTop"] <= 0.5, g
    assert g["barBottom"] >= g["docHeight"] - 0.5, g  # the sidebar reaches the document's bottom

    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_timeout(200)
    g = page.evaluate(GEOMETRY)
    assert g["barBottom"] >= g["docHeight"] - 0.5, g
    assert 0 <= g["navTop"] < g["winHeight"], g  # the navigation stays in view while the page scrolls
    shot(page, "layout-01-sidebar-scrolled")
