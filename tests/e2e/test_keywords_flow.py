"""What an operator does first: log in, import a CSV, see the keywords, switch site."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import expect

from tests.e2e.conftest import shot, ui_login

CSV = (
    "\ufeffkeyword,volume,difficulty,intent\r\n"
    "Espalier Apple Trees,880,3,informational\r\n"
    "espalier   apple trees,10,,\r\n"          # duplicate in the file (normalised)
    "\r\n"                                     # blank: ignored
    "Pruning Roses,5,2,\r\n"                   # duplicate of a demo keyword
    "bare root fruit trees,-3,,\r\n"           # invalid volume
    "fruit tree guilds,40,9,\r\n"              # invalid difficulty
    "ÄPFELBAUM schneiden,120,2,informational\r\n"
    "äpfelbaum   Schneiden,1,,\r\n"            # Unicode-case duplicate
)


def test_login_import_search_and_switch_site(live_app, page, tmp_path):
    page.goto(f"{live_app.url}/keywords")
    page.wait_for_url("**/login**")  # not logged in: sent to the login page
    page.fill("#email", live_app.creds("owner")[0])
    page.fill("#password", "wrong password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("Wrong email or password")
    shot(page, "01-login-error")

    ui_login(page, live_app.url, *live_app.creds("owner"))
    expect(page.locator("#site-selector")).to_be_visible()
    if "Green Thumb Journal" not in page.locator("#site-selector").inner_text():  # other tests may switch
        page.click("#site-selector")
        page.get_by_role("option", name="Green Thumb Journal · greenthumb-journal.com").click()
    expect(page.locator("#site-selector")).to_contain_text("Green Thumb Journal")
    expect(page.locator("#keywords-table")).to_be_visible()
    expect(page.locator(".keyword-row").first).to_be_visible()
    expect(page.locator("#range-label")).to_contain_text("of 204")
    shot(page, "02-keywords")

    csv_path = tmp_path / "keywords.csv"
    csv_path.write_bytes(CSV.encode("utf-8"))
    page.click("#import-open")
    page.locator("input[type=file]").set_input_files(str(csv_path))
    summary = page.locator("#import-summary")
    expect(summary).to_contain_text("Imported 2", timeout=20_000)
    expect(summary).to_contain_text("Duplicates 3")
    expect(summary).to_contain_text("Invalid 2")
    expect(page.get_by_text("Line 6:")).to_be_visible()  # header is line 1, the blank line 4 still counts
    expect(page.get_by_text("Line 7:")).to_be_visible()
    shot(page, "03-import-result")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)  # the modal (and its focus trap) is gone

    expect(page.locator("#range-label")).to_contain_text("of 206")
    page.fill("#keyword-search", "espalier")
    expect(page.locator(".keyword-row")).to_have_count(1)
    expect(page.locator(".keyword-row").first).to_contain_text("Espalier Apple Trees")
    shot(page, "04-search")
    page.fill("#keyword-search", "")
    expect(page.locator("#range-label")).to_contain_text("of 206")

    # switch to the second site (empty, unless the automation test has filled it already); then back
    page.click("#site-selector")
    page.get_by_role("option", name="Urban Balcony Gardens · urban-balcony.com").click()
    other = _keyword_count(live_app, "Urban Balcony Gardens")
    if other:
        expect(page.locator("#range-label")).to_contain_text(f"of {other}")
    else:
        expect(page.get_by_text("No keywords match")).to_be_visible()
    expect(page.locator("#site-selector")).to_contain_text("Urban Balcony Gardens")
    shot(page, "05-other-site")
    page.reload()  # the active site is remembered on the server
    expect(page.locator("#site-selector")).to_contain_text("Urban Balcony Gardens")
    page.click("#site-selector")
    page.get_by_role("option", name="Green Thumb Journal · greenthumb-journal.com").click()
    expect(page.locator("#range-label")).to_contain_text("of 206")

    page.click("#logout-button")
    page.wait_for_url("**/login**")
    page.goto(f"{live_app.url}/keywords")
    page.wait_for_url("**/login**")  # the session really ended


def _keyword_count(live_app, site_name: str) -> int:
    with sqlite3.connect(live_app.data_dir / "igny8.db") as c:
        return c.execute("select count(*) from keyword k join site s on s.id = k.site_id where s.name = ?",
                         (site_name,)).fetchone()[0]


def test_viewer_sees_keywords_but_cannot_change_them(live_app, page):
    ui_login(page, live_app.url, *live_app.creds("viewer"))
    expect(page.locator(".keyword-row").first).to_be_visible()
    expect(page.locator("#header-role")).to_have_text("viewer")
    expect(page.locator("#import-open")).to_be_disabled()
    expect(page.locator("#add-keyword-open")).to_be_disabled()
    expect(page.locator("#nav-billing")).to_have_count(0)  # no Billing for viewers…
    expect(page.locator("#admin-nav")).to_have_count(0)
    page.goto(f"{live_app.url}/billing")                  # …and the server refuses it when typed in
    expect(page.locator("#billing-denied")).to_be_visible()
    shot(page, "06-viewer-billing-denied")


def test_a_file_over_the_limit_gets_a_clear_message_not_a_silent_413(live_app, page, tmp_path):
    """A CSV past 10 MB is refused in the browser (the upload's max_size) with the page's message;
    the server's body limit (11 MiB on /_upload) would otherwise cut it off with a bare 413."""
    ui_login(page, live_app.url, *live_app.creds("owner"))
    big = tmp_path / "big.csv"
    line = b"some long tail keyword phrase for the size test,10,,\n"
    big.write_bytes(b"keyword,volume,difficulty,intent\n" + line * (12 * 1024 * 1024 // len(line)))
    page.click("#import-open")
    page.locator("input[type=file]").set_input_files(str(big))
    expect(page.locator("#import-fatal")).to_contain_text("at most 10 MB; nothing was imported", timeout=20_000)
    page.keyboard.press("Escape")
