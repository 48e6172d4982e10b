"""Billing and admin pages in a real browser: an owner buys credits and sees usage, invoices and
settings; a platform admin approves the payment (credits arrive once), edits a cost and adjusts
an account; editors and viewers get no Billing, non-superusers no Admin."""

from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot, ui_login
from tests.live_app import REPO
from tests.pdf_text import pdf_text
from tests.pdf_text import row as pdf_row

SEED = r'''
from datetime import timedelta
from igny8_app import db
from igny8_app.domain.costs import Usage
from igny8_app.models import Account, Site, utcnow
from igny8_app.services.billing import ledger as billing
from sqlmodel import select
real_now = utcnow
with db.write_session() as s:
    acct = s.exec(select(Account).where(Account.name == "Demo Gardens")).one()
    site = s.exec(select(Site).where(Site.account_id == acct.id).order_by(Site.id)).first()
    ops = [("clustering", Usage(requests=1)), ("ideas", Usage(items=2)), ("content", Usage(words=1200)),
           ("image_prompts", Usage(items=2)), ("images", Usage(images=2))]
    for day in range(20, -1, -1):
        billing.utcnow = lambda d=day: real_now() - timedelta(days=d)
        for i, (op, usage) in enumerate(ops):
            for j in range((day * 7 + i * 3) % 4 + 1):
                billing.charge(session=s, account_id=acct.id, operation_type=op, usage=usage,
                               idempotency_key=f"seed:{day}:{op}:{j}", site_id=site.id,
                               run_id=f"run_seed_{day:02d}", object_type="keyword", object_id=day * 100 + j)
'''


@pytest.fixture(scope="module")
def seeded(live_app):
    r = subprocess.run([sys.executable, "-c", SEED], cwd=REPO, env=live_app.env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return live_app


def test_owner_billing_pages_and_admin_approval(seeded, page, browser):
    app = seeded
    ui_login(page, app.url, *app.creds("owner"))
    page.click("#nav-billing")
    page.wait_for_url("**/billing")
    expect(page.locator("#usage-chart .recharts-bar-rectangle").first).to_be_visible(timeout=20_000)
    shot(page, "billing-01-overview")

    page.click("#buy-credits-open")
    page.locator(".buy-package").nth(1).click()  # Growth 5,000
    expect(page.locator("#bank-instructions")).to_be_visible()
    reference = page.locator("#bank-reference").inner_text()
    assert reference.startswith("IGNY8-")
    shot(page, "billing-02-bank-instructions")
    page.click("#buy-done")

    page.click("#tab-billing-usage")
    page.wait_for_url("**/billing/usage")
    expect(page.locator(".usage-row").first).to_be_visible()
    expect(page.locator("#usage-page-label")).to_contain_text("of")
    page.click("#f-op")
    page.get_by_role("option", name="ideas").click()
    expect(page.locator(".usage-row").first).to_contain_text("ideas")
    shot(page, "billing-03-usage")
    page.fill("#f-from", "2001-02-01")
    page.fill("#f-to", "2001-01-01")
    page.click("#apply-filters")
    expect(page.locator("#filter-error")).to_contain_text("after the end")

    page.click("#tab-billing-invoices")
    page.wait_for_url("**/billing/invoices")
    expect(page.locator(".invoice-row")).to_have_count(1)
    expect(page.locator(".invoice-row").first).to_contain_text("pending")
    page.locator(".invoice-row").first.get_by_role("button", name="View").click()
    expect(page.locator("#invoice-total")).to_contain_text("$79.00")
    shot(page, "billing-04-invoice-detail")
    href = page.locator("#invoice-pdf-link").get_attribute("href")
    pdf = page.request.get(app.url + href)  # the browser's cookie goes along
    assert pdf.status == 200
    text = pdf_text(pdf.body())  # what the downloaded invoice says, not just that it is a PDF
    assert pdf_row("Total", "$79.00").search(text) and "PENDING" in text, text
    page.keyboard.press("Escape")

    page.click("#tab-billing-payments")
    expect(page.locator(".payment-row").first).to_contain_text("pending approval")
    expect(page.locator(".payment-row").first).to_contain_text(reference)
    shot(page, "billing-05-payments")

    page.click("#tab-billing-settings")
    expect(page.locator("#set-billing_email")).to_be_visible()  # the form mounts once the settings are loaded
    page.fill("#set-billing_email", "not-an-email")
    page.fill("#set-country", "XX")
    page.click("#save-settings")
    expect(page.locator("#err-billing_email")).to_contain_text("not a valid email")
    expect(page.locator("#err-country")).to_contain_text("two-letter")
    shot(page, "billing-06-settings-errors")
    page.fill("#set-billing_email", "accounts@greenthumb-journal.com")
    page.fill("#set-country", "gb")
    page.fill("#set-low_balance_threshold", "20000")
    page.click("#save-settings")
    expect(page.locator("#settings-saved")).to_be_visible()
    page.click("#tab-billing")
    expect(page.locator("#low-balance-notice")).to_be_visible()  # 20,000 is above the balance: one notice
    page.click("#dismiss-notice")
    expect(page.locator("#low-balance-notice")).to_have_count(0)
    page.reload()
    expect(page.locator("#usage-chart")).to_be_visible()
    expect(page.locator("#low-balance-notice")).to_have_count(0)  # dismissed for this crossing
    expect(page.locator("#admin-nav")).to_have_count(0)
    page.goto(f"{app.url}/admin")
    expect(page.locator("#admin-denied")).to_be_visible()
    balance_before = int(page.locator("#header-balance").inner_text().split()[0].replace(",", ""))

    # the platform admin approves the transfer (twice: a double click grants once)
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    admin = ctx.new_page()
    try:
        ui_login(admin, app.url, *app.creds("superuser"))
        admin.goto(f"{app.url}/admin/payments")
        expect(admin.locator(".pending-row")).to_have_count(1)
        shot(admin, "admin-01-approvals")
        admin.fill("#review-note", "Transfer received")
        approve = admin.locator(".approve-payment").first
        approve.dblclick()
        expect(admin.locator(".pending-row")).to_have_count(0)
        expect(admin.locator("#reviewed-table")).to_contain_text("Transfer received")

        admin.goto(f"{app.url}/admin")
        expect(admin.locator(".cost-row")).to_have_count(5)
        admin.click("#edit-ideas")
        admin.fill("#cost-input", "5")
        expect(admin.locator("#cost-preview")).to_contain_text("with this change")
        expect(admin.locator("#tokens-per-credit-input")).to_have_count(0)  # only for per_1k_tokens prices
        admin.fill("#min-credits-input", "4")
        expect(admin.locator("#cost-preview")).to_contain_text("with this change")
        shot(admin, "admin-02-cost-preview")
        admin.click("#save-cost")
        expect(admin.locator(".audit-row").first).to_contain_text("credits_cost: 2 → 5")
        expect(admin.locator(".audit-row").first).to_contain_text("min_credits: 0 → 4")
        expect(admin.locator(".cost-row", has=admin.locator("#edit-ideas")).locator(".min-value")).to_have_text("4")
        shot(admin, "admin-03-costs")

        admin.goto(f"{app.url}/admin/accounts")
        expect(admin.locator("#accounts-pager-label")).to_contain_text("Page 1 of")
        admin.fill("#account-search", "Demo Gard")  # the list pages on the server; search finds the account
        admin.click("#account-search-submit")
        expect(admin.locator(".account-row")).to_have_count(1)
        row = admin.locator(".account-row", has_text="Demo Gardens")
        row.get_by_role("button", name="Adjust credits").click()
        admin.fill("#adjust-amount", "250")
        admin.click("#adjust-submit")
        expect(admin.locator("#adjust-reason:invalid")).to_have_count(1)  # the reason is required
        admin.fill("#adjust-reason", "Goodwill credit")
        admin.click("#adjust-submit")
        expect(row.locator(".account-balance")).to_have_text(f"{balance_before + 5_000 + 250:,}")
        shot(admin, "admin-04-accounts")

        admin.goto(f"{app.url}/admin/invoices")
        expect(admin.locator(".admin-invoice-row").first).to_contain_text("paid")
        admin.goto(f"{app.url}/admin/packages")
        expect(admin.locator(".package-row")).to_have_count(3)
        shot(admin, "admin-05-packages")
    finally:
        ctx.close()

    page.goto(f"{app.url}/billing")
    expect(page.locator("#header-balance")).to_contain_text(f"{balance_before + 5_250:,}")
    page.goto(f"{app.url}/billing/invoices")
    expect(page.locator(".invoice-row").first).to_contain_text("paid")


def test_editor_has_no_billing_and_no_admin(live_app, page):
    ui_login(page, live_app.url, *live_app.creds("editor"))
    expect(page.locator("#nav-billing")).to_have_count(0)
    expect(page.locator("#admin-nav")).to_have_count(0)
    for path in ("/billing/usage", "/billing/invoices", "/billing/settings"):
        page.goto(f"{live_app.url}{path}")
        expect(page.locator("#billing-denied")).to_be_visible()
    page.goto(f"{live_app.url}/admin/payments")
    expect(page.locator("#admin-denied")).to_be_visible()
    shot(page, "billing-07-editor-denied")
