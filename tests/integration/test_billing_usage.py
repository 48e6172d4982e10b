"""Usage history, rollup totals, chart, CSV export (streams lazily, neutralises formulas), billing
settings validation and the low-balance notice — on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from igny8_app import db as dbmod
from igny8_app.domain.costs import Usage
from igny8_app.domain.errors import ValidationError
from igny8_app.services.billing import ledger as billing
from igny8_app.services.billing import profile as billing_profile
from igny8_app.services.billing import usage
from igny8_app.domain.errors import FieldErrors
from igny8_app.services.billing.profile import BillingSettings
from igny8_app.services.billing.usage import UsageFilter
from tests.factories import make_account, make_site


@pytest.fixture
def acct(db):
    with dbmod.write_session() as s:
        a = make_account(s, credits=10_000)
        site_a, site_b = make_site(s, a, "Alpha"), make_site(s, a, "Beta")
        for i in range(30):
            op = ["clustering", "ideas", "content"][i % 3]
            billing.charge(session=s, account_id=a.id, operation_type=op, usage=Usage(items=1, words=250),
                           idempotency_key=f"k{i}", run_id="run_a" if i < 10 else "run_b",
                           site_id=site_a.id if i % 2 else site_b.id, object_type="keyword", object_id=i,
                           description="=HYPERLINK(\"http://evil\")" if i == 29 else "")
        return {"id": a.id, "a": site_a.id, "b": site_b.id}


def _direct(acct, f: UsageFilter):
    with dbmod.read_session() as s:
        rows, _ = usage.history_page(session=s, account_id=acct["id"], f=f, per_page=200)
    return len(rows), sum(-r["credits"] for r in rows if r["type"] == "deduction"), sum(r["credits"] for r in rows)


@pytest.mark.parametrize("kind", ["all", "op", "site", "run", "dates", "empty"])
def test_totals_from_rollup_equal_the_rows(acct, kind):
    today = date.today()
    f = {"all": UsageFilter(), "op": UsageFilter(operation="ideas"), "site": UsageFilter(site_id=acct["a"]),
         "run": UsageFilter(run_id="run_a"), "dates": UsageFilter(date_from=today, date_to=today),
         "empty": UsageFilter(date_from=date(2001, 1, 1), date_to=date(2001, 1, 2))}[kind]
    with dbmod.read_session() as s:
        t = usage.totals(session=s, account_id=acct["id"], f=f)
    assert (t.rows, t.credits_used, t.net_change) == _direct(acct, f)
    if kind == "all":
        assert t.rows == 31  # 30 charges + the grant


def test_history_rows_join_usage_and_site_and_paginate(acct):
    with dbmod.read_session() as s:
        page1, totals = usage.history_page(session=s, account_id=acct["id"], f=UsageFilter(), per_page=10)
        page4, _ = usage.history_page(session=s, account_id=acct["id"], f=UsageFilter(), page=4, per_page=10)
    assert len(page1) == 10 and len(page4) == 1 and totals.rows == 31
    newest = page1[0]
    assert newest["operation"] == "content" and newest["site"] in {"Alpha", "Beta"}
    assert newest["item"] == "keyword #29" and newest["run_id"] == "run_b"
    assert page4[0]["type"] == "grant"
    ids = [r["id"] for r in page1]
    assert ids == sorted(ids, reverse=True)


def test_chart_and_used_this_month(acct):
    with dbmod.read_session() as s:
        chart = usage.daily_usage(session=s, account_id=acct["id"], days=7)
        used = usage.used_since(session=s, account_id=acct["id"], since=usage.month_start())
    assert len(chart) == 7
    assert sum(chart[-1][op] for op in ("clustering", "ideas", "content", "image_prompts", "images")) == used > 0


def test_filter_parsing_gives_clear_errors():
    assert UsageFilter.parse(date_from="2026-01-01", site_id="3", operation="ideas").site_id == 3
    for kwargs, msg in [({"date_from": "01/02/2026"}, "date like"), ({"operation": "mining"}, "Unknown operation"),
                        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "after the end"),
                        ({"site_id": "x"}, "number"), ({"site_id": str(2**63)}, "site's id"),
                        ({"run_id": "run\x00"}, "NUL")]:
        with pytest.raises(ValidationError, match=msg):
            UsageFilter.parse(**kwargs)


def test_the_last_representable_day_is_a_valid_end_date(acct):
    f = UsageFilter.parse(date_from="9999-12-01", date_to="9999-12-31")  # its next day overflowed: a 500
    with dbmod.read_session() as s:
        assert usage.history_page(session=s, account_id=acct["id"], f=f) == ([], usage.Totals(0, 0, 0))
    assert list(usage.export_csv(account_id=acct["id"], f=f))[0].startswith("id,date")  # the header, no rows


def test_csv_export_is_lazy_chunked_and_neutralises_formulas(acct, monkeypatch):
    reads = []
    real = usage.read_session

    def counting():
        reads.append(1)
        return real()

    monkeypatch.setattr(usage, "read_session", counting)
    gen = usage.export_csv(account_id=acct["id"], f=UsageFilter(), chunk=7)
    header = next(gen)
    assert header.startswith("id,date,type") and reads == []  # nothing read before it is asked for
    first = next(gen)
    assert len(reads) == 1 and first.count("\r\n") == 7
    rest = "".join(gen)
    assert len(reads) == 5  # 31 rows in chunks of 7
    rows = list(csv.DictReader(io.StringIO(header + first + rest)))
    assert len(rows) == 31 and len({r["id"] for r in rows}) == 31
    evil = next(r for r in rows if "HYPERLINK" in r["description"])
    assert evil["description"].startswith("'=")
    assert any(r["credits"].startswith("-") for r in rows)  # numbers are left alone


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("safe", "safe"), ("", ""), (-5, -5),
])
def test_neutralise(value, expected):
    assert usage.neutralise(value) == expected


def test_billing_settings_validation_and_save(acct):
    bad = BillingSettings(billing_email="nope", country="Germany", tax_id="<script>", low_balance_threshold="-3")
    with pytest.raises(FieldErrors) as err:
        billing_profile.validate(bad)
    assert set(err.value.errors) == {"billing_email", "country", "tax_id", "low_balance_threshold"}
    for threshold in ("²", "٣", "9" * 5000, ""):  # isdigit() took the first three; int() then raised
        with pytest.raises(FieldErrors, match="low-balance threshold must be a whole number"):
            billing_profile.validate(BillingSettings(low_balance_threshold=threshold))
    with dbmod.write_session() as s:
        saved = billing_profile.update_settings(session=s, account_id=acct["id"], data=BillingSettings(
            billing_email=" AP@Acme.Example ", company="Acme", address="1 Road\n\n  Town ", country="de",
            tax_id="DE123456789", low_balance_threshold="1,000"))
    assert saved == {"billing_email": "ap@acme.example", "company": "Acme", "address": "1 Road\nTown",
                     "country": "DE", "tax_id": "DE123456789", "low_balance_threshold": 1000}


def test_low_balance_notice_once_per_crossing(db):
    with dbmod.write_session() as s:
        a = make_account(s, credits=600)  # threshold defaults to 500
        aid = a.id

    def notice():
        with dbmod.read_session() as s:
            return billing_profile.low_balance_notice(session=s, account_id=aid)

    def charge(key, words):
        with dbmod.write_session() as s:
            billing.charge(session=s, account_id=aid, operation_type="content", usage=Usage(words=words),
                           idempotency_key=key)

    assert notice() is None
    charge("a", 5_000)  # 600 -> 550: still above
    assert notice() is None
    charge("b", 10_000)  # 550 -> 450: crossed
    first = notice()
    assert first and first["balance"] == 450
    charge("c", 100)  # still below: the same notice, not a new one
    assert notice()["since"] == first["since"]
    with dbmod.write_session() as s:
        billing_profile.dismiss_low_balance(session=s, account_id=aid)
    assert notice() is None
    charge("d", 100)  # still below, dismissed: stays quiet
    assert notice() is None
    with dbmod.write_session() as s:
        billing.grant(session=s, account_id=aid, amount=1_000, idempotency_key="g", description="top up")
    assert notice() is None
    charge("e", 100_000)  # back below: a new crossing, a new notice
    assert notice() is not None
    with dbmod.write_session() as s:  # lowering the threshold below the balance closes it
        billing_profile.update_settings(session=s, account_id=aid, data=BillingSettings(low_balance_threshold=0))
    assert notice() is None
