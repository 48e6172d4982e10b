"""Team and API tokens in a real browser, on an account of its own (created through the CLI):
invite → accept in a second browser → role change → removal; the last-owner guard rail shown in
the UI; a token created in the UI works on the REST API until it is revoked in the UI."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import shot, ui_login

PW = "team-e2e-password"


def _account(live_app) -> tuple[str, str, int]:
    tag = uuid.uuid4().hex[:8]
    name, email = f"Team E2E {tag}", f"owner-{tag}@team-e2e.example"
    r = live_app.cli("create-user", "--email", email, "--password", PW, "--account", name)
    assert r.returncode == 0, r.stderr
    r = live_app.cli("create-site", "--account", name, "--name", f"Team site {tag}", "--domain",
                     f"t{tag}.example.com", "--json")
    assert r.returncode == 0, r.stderr
    import json

    return name, email, json.loads(r.stdout)["id"]


def _member_row(page, email: str):
    return page.locator(".member-row", has_text=email)


def test_invite_accept_role_change_and_removal(live_app, page, browser, smtp_sink):
    account, owner, _ = _account(live_app)
    ui_login(page, live_app.url, owner, PW)
    page.click("#nav-team")
    page.wait_for_url("**/team")
    expect(_member_row(page, owner)).to_be_visible()

    # the last owner cannot step down: the server refuses and the role stays
    _member_row(page, owner).locator(".member-role").click()
    page.get_by_role("option", name="admin").click()
    expect(page.get_by_text("The last owner cannot be demoted")).to_be_visible()
    expect(_member_row(page, owner).locator(".member-role")).to_contain_text("owner")

    invitee = f"new-{uuid.uuid4().hex[:6]}@team-e2e.example"
    page.click("#invite-open")
    page.fill("#invite-email", invitee)
    page.click("#invite-role")
    page.get_by_role("option", name="admin").click()
    page.click("#invite-submit")
    link_box = page.locator("#invite-link")
    expect(link_box).to_be_visible()
    link = link_box.input_value()
    assert "/invite?token=" in link
    shot(page, "team-01-invite-link")
    page.click("#invite-done")
    mail = smtp_sink.wait_for(invitee)[0]  # also emailed, by a worker through a real SMTP server
    assert mail["Subject"].startswith(f"You are invited to join {account}") and link in mail.get_content()
    expect(page.locator(".pending-row", has_text=invitee)).to_be_visible()

    # the invitee accepts in a browser of their own
    ctx2 = browser.new_context(viewport={"width": 1400, "height": 900})
    p2 = ctx2.new_page()
    p2.goto(live_app.url + link[link.index("/invite"):])
    expect(p2.locator("#invite-page-email")).to_have_text(invitee)
    expect(p2.locator("#invite-page-role")).to_have_text("admin")
    shot(p2, "team-02-accept-page")
    p2.fill("#accept-name", "Nina New")
    p2.fill("#accept-password", "nina-password-1")
    p2.fill("#accept-password2", "nina-password-1")
    p2.click("#accept-submit")
    p2.wait_for_url("**/keywords**", timeout=20_000)
    expect(p2.locator("#header-role")).to_have_text("admin")
    expect(p2.locator("#nav-team")).to_be_visible()
    # the link was single-use
    p2.goto(live_app.url + link[link.index("/invite"):])
    expect(p2.locator("#invite-page-error")).to_contain_text("already been used")

    # the owner sees the new member, changes the role and removes them
    page.reload()
    row = _member_row(page, invitee)
    expect(row).to_contain_text("Nina New")
    expect(page.locator(".pending-row", has_text=invitee)).to_have_count(0)
    row.locator(".member-role").click()
    page.get_by_role("option", name="viewer").click()
    expect(page.get_by_text("Role changed to viewer")).to_be_visible()
    p2.goto(f"{live_app.url}/keywords")
    expect(p2.locator("#header-role")).to_have_text("viewer")
    expect(p2.locator("#nav-team")).to_have_count(0)
    p2.goto(f"{live_app.url}/team")  # and the page itself refuses a viewer
    expect(p2.locator("#team-denied")).to_be_visible()

    row.locator(".member-remove").click()
    page.click("#remove-confirm")
    expect(_member_row(page, invitee)).to_have_count(0)
    audit = page.locator(".audit-row")
    expect(audit.first).to_contain_text("Removed member")
    texts = " | ".join(audit.all_inner_texts())
    for what in ("Invited", "Joined", "Changed role", "Removed member"):
        assert what in texts, texts
    shot(page, "team-03-members-and-audit")
    p2.goto(f"{live_app.url}/keywords")
    expect(p2.get_by_text("No sites yet")).to_be_visible()
    ctx2.close()


def test_token_created_in_the_ui_works_until_revoked(live_app, page):
    _, owner, site_id = _account(live_app)
    ui_login(page, live_app.url, owner, PW)
    page.click("#nav-api-tokens")
    page.wait_for_url("**/tokens")
    page.click("#token-create-open")
    page.fill("#token-name", "e2e script")
    page.click("#token-create")
    expect(page.locator("#token-value")).to_be_visible()
    token = page.locator("#token-value").input_value()
    assert token.startswith("igny8_")
    shot(page, "tokens-01-created")
    page.click("#token-done")
    row = page.locator(".token-row", has_text="e2e script")
    expect(row).to_contain_text("never")
    api = f"{live_app.url}/api/v1/automation/current_run"
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(api, params={"site_id": site_id}, headers=headers, timeout=10).status_code == 200
    page.reload()
    expect(row).not_to_contain_text("never")  # last used is recorded
    row.locator(".token-revoke").click()
    expect(page.locator(".token-row", has_text="e2e script")).to_have_count(0)
    r = httpx.get(api, params={"site_id": site_id}, headers=headers, timeout=10)
    assert r.status_code == 401, r.text


def test_existing_login_joins_with_its_password(live_app, page, browser):
    account, owner, _ = _account(live_app)
    other_account, other_owner, _ = _account(live_app)  # someone who already has a login elsewhere
    ui_login(page, live_app.url, owner, PW)
    page.goto(f"{live_app.url}/team")
    page.click("#invite-open")
    page.fill("#invite-email", other_owner)
    page.click("#invite-submit")
    link = page.locator("#invite-link").input_value()

    ctx2 = browser.new_context()
    p2 = ctx2.new_page()
    p2.goto(live_app.url + link[link.index("/invite"):])
    expect(p2.locator("#invite-page-role")).to_have_text("editor")
    expect(p2.get_by_text("already has an IGNY8 login")).to_be_visible()
    expect(p2.locator("#accept-password2")).to_have_count(0)  # no new password: the existing one
    p2.fill("#accept-password", "not-the-password")
    p2.click("#accept-submit")
    expect(p2.locator("#invite-form-error")).to_contain_text("Wrong password")
    p2.fill("#accept-password", PW)
    p2.click("#accept-submit")
    p2.wait_for_url("**/keywords**", timeout=20_000)
    p2.click("#site-selector")
    options = " | ".join(p2.get_by_role("option").all_inner_texts())
    assert account.split()[-1] in options and other_account.split()[-1] in options  # sites of both accounts
    ctx2.close()
    page.reload()
    expect(_member_row(page, other_owner).locator(".member-role")).to_contain_text("editor")
