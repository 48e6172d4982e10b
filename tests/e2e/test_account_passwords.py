"""Passwords in a real browser, on accounts of their own: a change signs out the user's other
browser; a forgotten password is reset through the link emailed (by an RQ worker, through a real
local SMTP server) and the link works once; an owner forces a member's reset from the Team page."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import shot, ui_login
from tests.e2e.test_team_pages import PW, _account, _member_row


def _link(msg) -> str:  # noqa: ANN001
    return re.search(r"https?://\S+/reset\?token=[\w-]+", msg.get_content()).group(0)


def test_password_change_signs_out_the_other_browser(live_app, page, browser):
    _, owner, _ = _account(live_app)
    other = browser.new_context()
    p2 = other.new_page()
    ui_login(p2, live_app.url, owner, PW)
    ui_login(page, live_app.url, owner, PW)
    page.click("#nav-my-account")
    page.wait_for_url("**/account")
    page.fill("#current-password", "not-my-password")
    page.fill("#new-password", "changed-password-1")
    page.fill("#new-password2", "changed-password-1")
    page.click("#pw-submit")
    expect(page.locator("#pw-error")).to_contain_text("current password")
    page.fill("#current-password", PW)
    page.fill("#new-password", "changed-password-1")
    page.fill("#new-password2", "changed-password-1")
    page.click("#pw-submit")
    expect(page.locator("#pw-done")).to_contain_text("1 other session(s) were signed out")
    shot(page, "account-01-password-changed")
    p2.goto(f"{live_app.url}/keywords")  # the other browser is signed out
    p2.wait_for_url("**/login**")
    page.goto(f"{live_app.url}/keywords")  # this one is not
    expect(page.locator("#header-role")).to_have_text("owner")
    other.close()


def test_forgotten_password_is_reset_through_the_emailed_link(live_app, page, smtp_sink):
    _, owner, _ = _account(live_app)
    page.goto(f"{live_app.url}/login")
    page.click("#forgot-link")
    page.wait_for_url("**/forgot")
    page.fill("#forgot-email", owner)
    page.click("#forgot-submit")
    expect(page.locator("#forgot-done")).to_be_visible()
    msg = smtp_sink.wait_for(owner)[-1]
    assert msg["Subject"] == "Reset your IGNY8 password"
    link = _link(msg)
    page.goto(live_app.url + link[link.index("/reset"):])
    expect(page.locator("#reset-email")).to_have_text(owner)
    page.fill("#reset-password", "reset-password-1")
    page.fill("#reset-password2", "reset-password-1")
    shot(page, "account-02-reset-page")
    page.click("#reset-submit")
    page.wait_for_url("**/keywords**", timeout=20_000)
    page.goto(live_app.url + link[link.index("/reset"):])
    expect(page.locator("#reset-invalid")).to_be_visible()  # single use
    page.context.clear_cookies()
    ui_login(page, live_app.url, owner, "reset-password-1")


def test_owner_forces_a_members_password_reset(live_app, page, smtp_sink):
    account, owner, _ = _account(live_app)
    member = f"member-{uuid.uuid4().hex[:6]}@team-e2e.example"
    r = live_app.cli("create-user", "--email", member, "--password", PW, "--account", account, "--role", "editor")
    assert r.returncode == 0, r.stderr
    ui_login(page, live_app.url, owner, PW)
    page.goto(f"{live_app.url}/team")
    _member_row(page, member).locator(".member-force-reset").click()
    expect(page.locator("#force-reset-link")).to_be_visible()
    shown = page.locator("#force-reset-link").input_value()
    page.click("#force-reset-done")
    mail = smtp_sink.wait_for(member)[-1]
    assert "An administrator of your IGNY8 account" in mail.get_content()
    assert _link(mail) == shown
    expect(page.locator(".audit-row").first).to_contain_text("Forced password reset")
    page.context.clear_cookies()  # the old password no longer works
    page.goto(f"{live_app.url}/login")
    page.fill("#email", member)
    page.fill("#password", PW)
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_be_visible()
