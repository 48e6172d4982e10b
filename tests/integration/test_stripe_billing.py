"""Card payments with Stripe Checkout, on SQLite and PostgreSQL: the Checkout Session is created
over real HTTP against a local fake Stripe API; webhooks are signed with Stripe's documented
scheme and verified by the official library. A paid invoice grants its credits exactly once,
whatever is replayed, duplicated, forged, stale or concurrent."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igny8_app import db as dbmod
from igny8_app.api import billing_routes
from igny8_app.domain.errors import ValidationError
from igny8_app.models import CreditPackage, CreditTransaction, Invoice, Payment
from igny8_app.services.accounts import access as accounts
from igny8_app.services.billing import ledger as billing
from igny8_app.services.billing import invoices
from igny8_app.services.billing import payments
from igny8_app.services.billing import stripe_checkout as stripe_billing
from igny8_app.settings import reset_settings
from tests.factories import make_account, make_user
from tests.fake_stripe import checkout_event, sign, start_fake_stripe

SECRET = "whsec_test_" + "k" * 24
WEBHOOK = "/api/v1/billing/stripe/webhook"


@pytest.fixture
def fake_stripe():
    fake = start_fake_stripe()
    yield fake
    fake.close()


@pytest.fixture
def stripe_env(db, fake_stripe, monkeypatch):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_igny8")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("STRIPE_API_BASE", fake_stripe.base)
    monkeypatch.setenv("IGNY8_PUBLIC_URL", "https://app.example.test")
    reset_settings()
    yield fake_stripe
    reset_settings()


@pytest.fixture
def setup(stripe_env):
    with dbmod.write_session() as s:
        account = make_account(s, "Card Co")
        account.billing_email = "pay@card.example"
        s.add(account)
        admin = make_user(s, superuser=True)
        owner = make_user(s, account=account.name)
        _, token = accounts.create_api_token(session=s, user_id=owner.id)
        pkg = s.exec(select(CreditPackage).where(CreditPackage.credits == 5_000)).one()
        ids = {"account": account.id, "admin": admin.id, "owner": owner.id, "token": token, "package": pkg.id,
               "price": pkg.price_cents}
    client = TestClient(Starlette(routes=billing_routes.routes))
    return {**ids, "client": client, "fake": stripe_env}


def _checkout(setup) -> stripe_billing.Checkout:
    return stripe_billing.start_checkout(account_id=setup["account"], package_id=setup["package"])


def _deliver(setup, body: str, *, secret: str = SECRET, timestamp: int | None = None, header: str | None = None):
    sig = header if header is not None else sign(body, secret, timestamp=timestamp)
    return setup["client"].post(WEBHOOK, content=body.encode(), headers={"Stripe-Signature": sig,
                                                                         "Content-Type": "application/json"})


def _state(setup, co: stripe_billing.Checkout):
    with dbmod.read_session() as s:
        grants = s.exec(select(CreditTransaction).where(CreditTransaction.account_id == setup["account"])).all()
        return {"balance": billing.balance(session=s, account_id=setup["account"]),
                "invoice": s.get(Invoice, co.invoice_id).status, "payment": s.get(Payment, co.payment_id).status,
                "grants": len(grants)}


def _reconciled(setup) -> None:
    with dbmod.read_session() as s:
        report = billing.reconcile(session=s)
        assert report.drift == [] and report.transactions_checked > 0


# --- checkout --------------------------------------------------------------------------------------

def test_checkout_creates_invoice_payment_and_a_stripe_session_over_http(setup):
    co = _checkout(setup)
    fake = setup["fake"]
    assert co.url == f"{fake.base}/pay/{co.session_id}" and co.session_id.startswith("cs_test_")
    (req,) = fake.requests
    assert req["path"] == "/v1/checkout/sessions"
    assert req["headers"]["Authorization"] == "Bearer sk_test_igny8"
    assert req["headers"]["Idempotency-Key"] == f"igny8-checkout-{co.payment_id}"
    p = req["params"]
    assert p["mode"] == "payment" and p["client_reference_id"] == str(co.payment_id)
    assert p["metadata"] == {"invoice_id": str(co.invoice_id), "payment_id": str(co.payment_id),
                             "account_id": str(setup["account"])}
    item = p["line_items"][0]
    assert item["quantity"] == "1" and item["price_data"]["unit_amount"] == str(setup["price"])
    assert item["price_data"]["currency"] == "usd" and "5,000 credits" in item["price_data"]["product_data"]["name"]
    assert p["success_url"].startswith("https://app.example.test/billing/payments")
    assert p["customer_email"] == "pay@card.example"
    with dbmod.read_session() as s:
        pay, inv = s.get(Payment, co.payment_id), s.get(Invoice, co.invoice_id)
        assert (pay.method, pay.status, pay.external_id, pay.amount_cents) == (
            "stripe", "pending_approval", co.session_id, setup["price"])
        assert (inv.status, inv.credits, inv.number) == ("pending", 5_000, co.invoice_number)
        assert billing.balance(session=s, account_id=setup["account"]) == 0


def test_stripe_outage_fails_the_payment_and_voids_the_invoice(setup):
    setup["fake"].fail_next = 10  # more than the library's retries
    with pytest.raises(stripe_billing.PaymentProviderError) as err:
        _checkout(setup)
    assert err.value.http_status == 502 and "Nothing was charged" in err.value.message
    with dbmod.read_session() as s:
        pay = s.exec(select(Payment).where(Payment.account_id == setup["account"])).one()
        assert pay.status == "failed" and pay.external_id is None
        assert s.get(Invoice, pay.invoice_id).status == "void"
    assert len(setup["fake"].requests) == 3  # the first try and two retries, all with one idempotency key
    assert len({r["headers"]["Idempotency-Key"] for r in setup["fake"].requests}) == 1


def test_card_payments_refused_when_not_configured(setup, monkeypatch):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    reset_settings()
    with pytest.raises(ValidationError):
        _checkout(setup)
    with dbmod.write_session() as s, pytest.raises(ValidationError):
        payments.buy_package(session=s, account_id=setup["account"], package_id=setup["package"], method="stripe")
    r = _deliver(setup, checkout_event({"id": "cs_x", "object": "checkout.session"}))
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert setup["fake"].requests == []


def test_api_buy_with_stripe_returns_the_checkout_url(setup):
    r = setup["client"].post("/api/v1/billing/payments/buy", json={"package_id": setup["package"], "method": "stripe"},
                             headers={"Authorization": f"Bearer {setup['token']}"})
    assert r.status_code == 201, r.text
    body = r.json()
    session = setup["fake"].session_for_payment(body["payment"]["id"])
    assert body["checkout_url"] == session["url"] and body["payment"]["method"] == "stripe"
    assert body["invoice"]["status"] == "pending" and "bank_instructions" not in body


# --- webhook -----------------------------------------------------------------------------------------

def test_valid_event_grants_once_and_replays_grant_nothing_more(setup):
    co = _checkout(setup)
    body = checkout_event(setup["fake"].sessions[co.session_id], event_id="evt_paid_1")
    r = _deliver(setup, body)
    assert r.status_code == 200 and r.json() == {"received": True, "event": "evt_paid_1",
                                                 "type": "checkout.session.completed", "result": "paid"}
    assert _state(setup, co) == {"balance": 5_000, "invoice": "paid", "payment": "succeeded", "grants": 1}
    # the same event again (Stripe retries), re-signed later, and a second event for the same session
    assert _deliver(setup, body).json()["result"] == "already_paid"
    assert _deliver(setup, body, timestamp=int(time.time()) + 5).json()["result"] == "already_paid"
    again = checkout_event(setup["fake"].sessions[co.session_id], event_id="evt_paid_2")
    assert _deliver(setup, again).json()["result"] == "already_paid"
    async_ok = checkout_event(setup["fake"].sessions[co.session_id],
                              event_type="checkout.session.async_payment_succeeded")
    assert _deliver(setup, async_ok).json()["result"] == "already_paid"
    assert _state(setup, co) == {"balance": 5_000, "invoice": "paid", "payment": "succeeded", "grants": 1}
    with dbmod.read_session() as s:
        tx = s.exec(select(CreditTransaction).where(CreditTransaction.account_id == setup["account"])).one()
        assert tx.idempotency_key == invoices.paid_grant_key(co.invoice_id) and tx.balance_after == 5_000
        assert "evt_paid_1" in s.get(Payment, co.payment_id).note
    _reconciled(setup)


def test_forged_signatures_are_400_and_change_nothing(setup):
    co = _checkout(setup)
    body = checkout_event(setup["fake"].sessions[co.session_id])
    good = sign(body, SECRET)
    tampered = body.replace('"amount_total": 7900', '"amount_total": 1')
    assert tampered != body
    cases = [
        ("wrong secret", body, sign(body, "whsec_attacker")),
        ("payload changed after signing", tampered, good),
        ("no header", body, ""),
        ("garbage header", body, "this is not a signature"),
        ("only another scheme", body, good.replace("v1=", "v0=")),
    ]
    for label, payload, header in cases:
        r = setup["client"].post(WEBHOOK, content=payload.encode(),
                                 headers={"Stripe-Signature": header} if header else {})
        assert r.status_code == 400, label
        assert r.json()["error"] == "invalid_signature", label
    assert _state(setup, co) == {"balance": 0, "invoice": "pending", "payment": "pending_approval", "grants": 0}
    # a correctly signed body that is not JSON is refused too
    assert _deliver(setup, "not json").status_code == 400
    assert setup["client"].get(WEBHOOK).status_code == 405


def test_stale_timestamp_is_refused(setup):
    co = _checkout(setup)
    body = checkout_event(setup["fake"].sessions[co.session_id])
    stale = int(time.time()) - stripe_billing.WEBHOOK_TOLERANCE_S - 60
    r = _deliver(setup, body, timestamp=stale)
    assert r.status_code == 400 and "tolerance" in r.json()["detail"]
    assert _state(setup, co)["balance"] == 0
    # the same event, freshly signed, is accepted (Stripe signs every retry anew)
    assert _deliver(setup, body).json()["result"] == "paid"
    assert _state(setup, co)["balance"] == 5_000


def test_unknown_or_mismatched_sessions_are_acknowledged_and_change_nothing(setup):
    co = _checkout(setup)
    session = setup["fake"].sessions[co.session_id]
    unknown = {"id": "cs_test_unknown", "object": "checkout.session", "amount_total": 7900, "currency": "usd",
               "metadata": {}, "client_reference_id": None}
    other_account = {**session, "id": "cs_test_forged", "metadata": {**session["metadata"], "account_id": "999999"}}
    other_payment = {**session, "id": "cs_test_other", "client_reference_id": "999999",
                     "metadata": {"payment_id": "999999"}}
    huge_id = {**unknown, "metadata": {"payment_id": "9" * 30}}
    for obj in (unknown, other_account, other_payment, huge_id):
        r = _deliver(setup, checkout_event(obj))
        assert r.status_code == 200 and r.json()["result"] == "unknown_session", obj["id"]
    # an event type we do not handle, and a paid event for a different amount
    assert _deliver(setup, checkout_event(session, event_type="invoice.paid")).json()["result"] == "ignored"
    r = _deliver(setup, checkout_event(session, amount_total=100))
    assert r.json()["result"] == "amount_mismatch"
    assert _state(setup, co) == {"balance": 0, "invoice": "pending", "payment": "pending_approval", "grants": 0}
    # not yet paid (asynchronous payment): nothing yet
    assert _deliver(setup, checkout_event(session, payment_status="unpaid")).json()["result"] == "awaiting_payment"
    assert _state(setup, co)["grants"] == 0


def test_a_session_not_yet_recorded_is_found_by_its_metadata(setup):
    """Stripe may call before the session id is stored (or if storing it failed): the payment id in
    the metadata finds it, and only when that payment names no other session."""
    with dbmod.write_session() as s:
        inv, pay = payments.buy_package(session=s, account_id=setup["account"], package_id=setup["package"],
                                        method="stripe")
        co = stripe_billing.Checkout(inv.id, inv.number, pay.id, "cs_test_late", "")
    obj = {"id": "cs_test_late", "object": "checkout.session", "amount_total": setup["price"], "currency": "usd",
           "client_reference_id": str(pay.id), "metadata": {"payment_id": str(pay.id),
                                                             "account_id": str(setup["account"])}}
    assert _deliver(setup, checkout_event(obj)).json()["result"] == "paid"
    with dbmod.read_session() as s:
        assert s.get(Payment, pay.id).external_id == "cs_test_late"
    # now recorded: an event of another session naming the same payment is not this payment's
    assert _deliver(setup, checkout_event({**obj, "id": "cs_test_other"})).json()["result"] == "unknown_session"
    assert _state(setup, co) == {"balance": 5_000, "invoice": "paid", "payment": "succeeded", "grants": 1}


def test_oversized_webhook_body_is_refused(setup):
    body = "x" * (stripe_billing.MAX_WEBHOOK_BYTES + 1)
    assert _deliver(setup, body).status_code == 413


def test_expired_session_fails_the_payment_and_a_late_paid_event_grants_nothing(setup):
    co = _checkout(setup)
    session = setup["fake"].sessions[co.session_id]
    r = _deliver(setup, checkout_event(session, event_type="checkout.session.expired", payment_status="unpaid"))
    assert r.json()["result"] == "failed"
    assert _state(setup, co) == {"balance": 0, "invoice": "void", "payment": "failed", "grants": 0}
    assert _deliver(setup, checkout_event(session)).json()["result"] == "ignored_failed"
    assert _state(setup, co)["balance"] == 0


def test_webhook_and_admin_approval_grant_once_in_either_order(setup):
    first = _checkout(setup)
    with dbmod.write_session() as s:
        payments.approve(session=s, payment_id=first.payment_id, admin_user_id=setup["admin"], note="seen in Stripe")
    assert _deliver(setup, checkout_event(setup["fake"].sessions[first.session_id])).json()["result"] == "already_paid"
    second = _checkout(setup)
    assert _deliver(setup, checkout_event(setup["fake"].sessions[second.session_id])).json()["result"] == "paid"
    with dbmod.write_session() as s:
        payments.approve(session=s, payment_id=second.payment_id, admin_user_id=setup["admin"])
        invoices.mark_paid(session=s, invoice_id=second.invoice_id, created_by=setup["admin"])
    assert _state(setup, second)["balance"] == 10_000 and _state(setup, second)["grants"] == 2
    _reconciled(setup)


def _race(n: int, target) -> list:
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results.append(target(i))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    return results


def test_concurrent_duplicate_deliveries_grant_once(setup):
    co = _checkout(setup)
    body = checkout_event(setup["fake"].sessions[co.session_id], event_id="evt_dup")
    header = sign(body, SECRET)
    payload = body.encode()
    results = _race(8, lambda i: stripe_billing.handle_webhook(payload, header)["result"])
    assert sorted(results) == ["already_paid"] * 7 + ["paid"]
    assert _state(setup, co) == {"balance": 5_000, "invoice": "paid", "payment": "succeeded", "grants": 1}
    _reconciled(setup)


def test_webhooks_racing_admin_approvals_grant_once(setup):
    co = _checkout(setup)
    body = checkout_event(setup["fake"].sessions[co.session_id]).encode()
    header = sign(body, SECRET)

    def act(i: int) -> str:
        if i % 2:
            return stripe_billing.handle_webhook(body, header)["result"]
        with dbmod.write_session() as s:
            if i % 4:
                invoices.mark_paid(session=s, invoice_id=co.invoice_id, created_by=setup["admin"])
            else:
                payments.approve(session=s, payment_id=co.payment_id, admin_user_id=setup["admin"])
        return "admin"

    results = _race(8, act)
    assert results.count("admin") == 4 and results.count("paid") <= 1
    assert _state(setup, co) == {"balance": 5_000, "invoice": "paid", "payment": "succeeded", "grants": 1}
    _reconciled(setup)


def test_event_body_round_trips_through_the_library(setup):
    """What the tests sign is what Stripe's library accepts as an Event (guards the signing helper)."""
    body = checkout_event({"id": "cs_1", "object": "checkout.session"}, event_id="evt_rt")
    import stripe

    event = stripe.Webhook.construct_event(body, sign(body, SECRET), SECRET)
    assert event.id == "evt_rt" and json.loads(body)["data"]["object"]["id"] == "cs_1"
