"""Sites & sectors in a real browser, on an account of its own: create, edit (name, domain,
sectors), deactivate (gone from the site selector unless "show inactive"), delete with the name
typed as confirmation."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import shot, ui_login
from tests.e2e.test_team_pages import PW, _account


def _selector_options(page) -> list[str]:
    page.click("#site-selector")
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    texts = options.all_inner_texts()
    page.keyboard.press("Escape")
    return texts


def test_site_create_edit_deactivate_and_delete(live_app, page):
    _, owner, _ = _account(live_app)
    tag = uuid.uuid4().hex[:6]
    ui_login(page, live_app.url, owner, PW)
    page.click("#nav-sites")
    page.wait_for_url("**/sites")
    expect(page.locator(".site-row")).to_have_count(1)

    page.click("#site-new")
    page.fill("#site-name", f"Blog {tag}")
    page.fill("#site-domain", f"https://blog-{tag}.example.com/")
    page.fill("#site-sectors", "Roses\nTools")
    page.click("#site-save")
    row = page.locator(".site-row", has_text=f"Blog {tag}")
    expect(row).to_contain_text(f"blog-{tag}.example.com")
    expect(row).to_contain_text("Tools")

    row.locator(".site-edit").click()
    expect(page.locator("#site-name")).to_have_value(f"Blog {tag}")
    page.fill("#site-sectors", "a\nb\nc\nd\ne\nf")
    page.click("#site-save")
    expect(page.locator("#site-error")).to_contain_text("1 to 5")
    page.fill("#site-name", f"Garden {tag}")
    page.fill("#site-domain", f"garden-{tag}.example.com")
    page.fill("#site-sectors", "Roses\nSoil\nBulbs")
    page.click("#site-save")
    row = page.locator(".site-row", has_text=f"Garden {tag}")
    expect(row).to_contain_text("Bulbs")
    expect(row).to_contain_text(f"garden-{tag}.example.com")
    expect(page.locator(".site-row", has_text=f"Blog {tag}")).to_have_count(0)
    assert any(f"Garden {tag}" in o for o in _selector_options(page))
    shot(page, "sites-01-list")

    row.locator(".site-deactivate").click()
    expect(row).to_contain_text("inactive")
    assert not any(f"Garden {tag}" in o for o in _selector_options(page))
    page.click("#show-inactive")
    expect(page.locator("#show-inactive")).to_have_attribute("data-state", "checked")
    assert any(f"Garden {tag}" in o and "(inactive)" in o for o in _selector_options(page))

    row.locator(".site-delete").click()
    page.fill("#delete-confirm-name", "garden")
    page.click("#delete-submit")
    expect(page.locator("#delete-error")).to_contain_text("exactly")
    shot(page, "sites-02-delete-confirm")
    page.fill("#delete-confirm-name", f"Garden {tag}")
    page.click("#delete-submit")
    expect(page.locator(".site-row", has_text=f"Garden {tag}")).to_have_count(0)
    expect(page.locator(".site-row")).to_have_count(1)
    assert not any(f"Garden {tag}" in o for o in _selector_options(page))
