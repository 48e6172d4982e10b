"""Card payments in a real browser against the live app with Stripe configured (a local fake
Stripe API): buying by card redirects to the Checkout URL; after Stripe's signed webhook (sent
twice) the invoice is paid and the balance grew once; the payment methods show the card."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import STRIPE_WEBHOOK_SECRET, shot, ui_login
from tests.fake_stripe import checkout_event, sign

EMAIL, PASSWORD = "card-payer@example.com", "card-payer-password"


def _balance(page) -> int:
    return int(page.locator("#header-balance").inner_text().split()[0].replace(",", ""))


def test_buy_by_card_redirects_to_checkout_and_the_webhook_pays_once(live_app, fake_stripe_api, page):
    app = live_app
    app.cli("create-user", "--email", EMAIL, "--password", PASSWORD, "--account", "Card Payer Co", "--role", "owner")
    app.cli("create-site", "--account", "Card Payer Co", "--name", "Card Site", "--domain", "card.example.com")
    ui_login(page, app.url, EMAIL, PASSWORD)
    page.goto(f"{app.url}/billing")
    expect(page.locator("#usage-chart")).to_be_visible(timeout=20_000)
    assert _balance(page) == 0

    page.click("#buy-credits-open")
    package = page.locator(".rt-DialogContent .rt-Card").nth(1)  # Growth: 5,000 credits
    expect(package).to_contain_text("5,000 credits")
    expect(page.locator(".buy-package-card")).to_have_count(3)
    shot(page, "billing-stripe-01-choose")
    package.locator(".buy-package-card").click()

    page.wait_for_url(f"{fake_stripe_api.base}/pay/cs_test_*", timeout=20_000)
    expect(page.locator("#fake-checkout")).to_be_visible()
    session_id = page.url.rsplit("/", 1)[-1]
    session = fake_stripe_api.sessions[session_id]
    assert session["amount_total"] == 7_900 and session["currency"] == "usd"
    shot(page, "billing-stripe-02-checkout")

    # Stripe reports the payment: signed like Stripe signs, delivered twice (a retry)
    body = checkout_event(session, event_id="evt_e2e_paid")
    url = f"{app.url}/api/v1/billing/stripe/webhook"
    results = [httpx.post(url, content=body, headers={"Stripe-Signature": sign(body, STRIPE_WEBHOOK_SECRET)},
                          timeout=30).json()["result"] for _ in range(2)]
    assert results == ["paid", "already_paid"]
    forged = httpx.post(url, content=body, headers={"Stripe-Signature": sign(body, "whsec_wrong")}, timeout=30)
    assert forged.status_code == 400

    success = urlsplit(session["success_url"])  # the app's public URL; the browser's cookie is for app.url
    assert (success.path, success.query) == ("/billing/payments", "checkout=success")
    page.goto(f"{app.url}{success.path}?{success.query}")
    expect(page.locator("#checkout-success")).to_be_visible(timeout=20_000)
    row = page.locator(".payment-row").first
    expect(row).to_contain_text("card (Stripe)")
    expect(row).to_contain_text("succeeded")
    expect(row).to_contain_text("$79.00")
    expect(page.locator("#header-balance")).to_contain_text("5,000")
    shot(page, "billing-stripe-03-paid")

    page.click("#tab-billing-invoices")
    expect(page.locator(".invoice-row")).to_have_count(1)
    expect(page.locator(".invoice-row").first).to_contain_text("paid")
    page.click("#tab-billing-usage")
    expect(page.locator(".usage-row")).to_have_count(1)  # one grant, not two
    expect(page.locator(".usage-row").first).to_contain_text("+5,000")
    page.click("#tab-billing-settings")
    expect(page.locator("#method-card")).to_contain_text("available")
    expect(page.locator("#method-card-summary")).to_contain_text("1 card payment(s), the last $79.00")
    shot(page, "billing-stripe-04-methods")
    page.reload()
    expect(page.locator("#header-balance")).to_contain_text("5,000")
    assert _balance(page) == 5_000

    # a second checkout, abandoned: back on the cancel URL the payment is an open checkout, and
    # Stripe's "expired" event fails it and voids its invoice (no credits)
    page.goto(f"{app.url}/billing/payments")
    page.click("#buy-credits-open")
    page.locator(".buy-package-card").first.click()
    page.wait_for_url(f"{fake_stripe_api.base}/pay/cs_test_*", timeout=20_000)
    abandoned = fake_stripe_api.sessions[page.url.rsplit("/", 1)[-1]]
    cancel = urlsplit(abandoned["cancel_url"])
    page.goto(f"{app.url}{cancel.path}?{cancel.query}")
    expect(page.locator("#checkout-cancelled")).to_be_visible(timeout=20_000)
    expect(page.locator(".payment-row")).to_have_count(2)
    expect(page.locator(".payment-row").first).to_contain_text("checkout open")
    shot(page, "billing-stripe-05-cancelled")
    expired = checkout_event(abandoned, event_type="checkout.session.expired", payment_status="unpaid")
    r = httpx.post(url, content=expired, headers={"Stripe-Signature": sign(expired, STRIPE_WEBHOOK_SECRET)},
                   timeout=30)
    assert r.json()["result"] == "failed"
    page.reload()
    expect(page.locator(".payment-row").first).to_contain_text("failed")
    page.click("#tab-billing-invoices")
    expect(page.locator(".invoice-row").first).to_contain_text("void")
    assert _balance(page) == 5_000
