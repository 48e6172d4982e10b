"""IDOR probe over EVERY HTTP route of the app (introspected from the Starlette app Reflex mounts,
so a route added later is probed without anyone listing it), on SQLite and PostgreSQL.

A victim account has a site with keywords, a completed run (content, images), an invoice with a
pending payment and an API token. Another account's owner then calls every route with every
method, with the victim's ids in the path, the query and the body, authenticated both by API token
and by session cookie. Never a 5xx, never any of the victim's data in a response, and the victim's
rows (and the global tables) unchanged.

Positive control: the victim's owner reading the same object routes gets 200 and the victim's
data, so the ids, the markers and the routes are right.
"""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from igny8_app import db as dbmod
from igny8_app.api.common import SESSION_COOKIE
from igny8_app.models import AutomationRun, Content, Image
from igny8_app.services.accounts import access as accounts
from igny8_app.services.automation import control as automation
from igny8_app.services.billing import payments
from igny8_app.services.automation.run_loop import execute_run
from tests.engine_helpers import seed_site
from tests.factories import make_account, make_site, make_user

pytestmark = pytest.mark.usefixtures("redis")

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PUBLIC = {"/api/v1/openapi.json", "/api/v1/health"}  # no account data by design
EXCLUDED_TABLES = {"alembic_version", "user_session", "invoice_counter"}
VOLATILE_COLUMNS = {"last_login_at", "last_seen_at", "last_used_at", "active_site_id"}
SCOPE_COLUMNS = ("account_id", "site_id", "run_pk", "invoice_id", "user_id", "content_id")


def all_routes() -> list[str]:
    import igny8_app.igny8_app as app_module

    paths = {r.path.rstrip("/") or "/" for r in app_module.api.routes if hasattr(r, "path")}
    # /auth/logout ends the caller's own session: probe it last
    return sorted((p for p in paths if p not in PUBLIC), key=lambda p: (p == "/auth/logout", p))


@pytest.fixture
def world(db, tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("OFFLINE_AI_DELAY_MS", "0")
    from igny8_app.settings import reset_settings

    reset_settings()
    site = seed_site(n_keywords=8, in_article_images=1)
    run = automation.start_run(site_id=site.site_id, enqueue=False)
    assert execute_run(run.id, slice_seconds=600) == "completed"
    with dbmod.write_session() as s:
        victim_owner = make_user(s, email="victim-owner@example.com")
        account_id = site.account_id
        accounts.add_membership(session=s, user_id=victim_owner.id, account_id=account_id, role="owner")
        invoice, payment = payments.buy_package(session=s, account_id=account_id, package_id=1)
        token_row, victim_token = accounts.create_api_token(session=s, user_id=victim_owner.id)
        victim_cookie = accounts.open_session(session=s, user=victim_owner)
        rival_account = make_account(s, "Rival Probe Co", credits=10_000)
        make_site(s, rival_account, name="Rival Probe Site")
        rival = make_user(s, account="Rival Probe Co", role="owner")
        rival_token = accounts.create_api_token(session=s, user_id=rival.id)[1]
        rival_cookie = accounts.open_session(session=s, user=rival)
        content = s.exec(sa.select(Content).where(Content.site_id == site.site_id)).scalars().first()
        image = s.exec(sa.select(Image).where(Image.site_id == site.site_id)).scalars().first()
        site_name = s.execute(sa.text("select name from site where id = :i"), {"i": site.site_id}).scalar_one()
        ids = {"site_id": site.site_id, "account_id": account_id, "run_id": run.run_id, "invoice_id": invoice.id,
               "payment_id": payment.id, "content_id": content.id, "image_id": image.id, "package_id": 1,
               "token_id": token_row.id, "user_id": victim_owner.id, "operation": "clustering"}
        markers = [site_name, run.run_id, invoice.number, payment.reference, content.title,
                   "victim-owner@example.com"]
        users = [victim_owner.id] + [r for r in s.execute(sa.text(
            "select user_id from membership where account_id = :a"), {"a": account_id}).scalars()]
    import igny8_app.igny8_app as app_module

    with TestClient(app_module.api) as client:
        yield {"client": client, "ids": ids, "markers": markers, "users": users,
               "victim": {"token": victim_token, "cookie": victim_cookie},
               "rival": {"token": rival_token, "cookie": rival_cookie}}


def fingerprint(w: dict) -> dict[str, str]:
    ids = w["ids"]
    runs = [ids["run_id"]]
    with dbmod.read_session() as s:
        run_pks = list(s.execute(sa.select(AutomationRun.id).where(AutomationRun.run_id.in_(runs))).scalars())
        contents = list(s.execute(sa.select(Content.id).where(Content.site_id == ids["site_id"])).scalars())
        invoices = list(s.execute(sa.text("select id from invoice where account_id = :a"),
                                  {"a": ids["account_id"]}).scalars())
        scope = {"account_id": [ids["account_id"]], "site_id": [ids["site_id"]], "run_pk": run_pks,
                 "invoice_id": invoices, "user_id": w["users"], "content_id": contents}
        own = {"account": [ids["account_id"]], "site": [ids["site_id"]], "user_account": w["users"]}
        insp = sa.inspect(s.connection())
        out = {}
        for t in insp.get_table_names():
            if t in EXCLUDED_TABLES:
                continue
            cols = [c["name"] for c in insp.get_columns(t)]
            keep = [c for c in cols if c not in VOLATILE_COLUMNS]
            sql = "select " + ", ".join(f'"{c}"' for c in keep) + f' from "{t}"'
            col, vals = ("id", own[t]) if t in own else next(
                ((c, scope[c]) for c in SCOPE_COLUMNS if c in cols), (None, None))
            if col:
                sql += f' where "{col}" in ({",".join(str(int(v)) for v in vals) or "NULL"})'
            rows = s.execute(sa.text(sql + " order by 1")).all()
            out[t] = hashlib.sha256(repr([tuple(map(str, r)) for r in rows]).encode()).hexdigest()
    return out


def _url(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(ids.get(m.group(1), 1)), path)


def _call(w: dict, who: str, method: str, path: str):  # noqa: ANN202
    ids = w["ids"]
    creds = w[who]
    client: TestClient = w["client"]
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, creds["cookie"])
    params = {k: ids[k] for k in ("site_id", "run_id", "invoice_id", "account_id")}
    body = {**ids, "amount": 500, "credits": 500, "reason": "probe", "credits_cost": 0, "note": "probe",
            "enabled": True, "name": "probe", "price_cents": 1}
    kw = {"json": body} if method in ("POST", "PUT", "PATCH") else {}
    return client.request(method, _url(path, ids), params=params,
                          headers={"Authorization": f"Bearer {creds['token']}"}, **kw)


def test_the_probe_covers_the_apps_routes():
    routes = all_routes()
    assert {"/api/v1/automation/run_now", "/files/run/{run_id:str}.zip", "/media/image/{image_id:int}"} <= set(routes)
    assert any(r.startswith("/api/v1/billing/invoices/{invoice_id") for r in routes)
    assert any(r.startswith("/api/v1/admin/") for r in routes)


def test_another_accounts_owner_gets_nothing_from_any_route(world):
    before = fingerprint(world)
    seen = []
    for path in all_routes():
        for method in METHODS:
            r = _call(world, "rival", method, path)
            seen.append((method, path, r.status_code))
            assert r.status_code < 500, (method, path, r.status_code, r.text[:500])
            text = r.content.decode("utf-8", "replace")
            leaked = [m for m in world["markers"] if m and m in text]
            assert not leaked, (method, path, r.status_code, leaked)
            assert fingerprint(world) == before, f"{method} {path} changed the victim's data"
    assert len(seen) >= 5 * 25
    # the rival really was signed in (token and cookie) for every probe, so refusals are about
    # the victim's ids, not a missing login
    assert not [x for x in seen if x[2] == 401 and not x[1].startswith("/auth")], seen


def test_positive_control_the_victims_owner_reads_the_same_routes(world):
    object_routes = [
        "/api/v1/automation/history", "/api/v1/automation/logs", "/api/v1/billing/invoices/{invoice_id}",
        "/api/v1/billing/invoices/{invoice_id}/pdf", "/files/invoices/{invoice_id:int}.pdf",
        "/media/image/{image_id:int}", "/files/content/{content_id:int}.html", "/files/content/{content_id:int}.md",
        "/files/run/{run_id:str}.zip", "/api/v1/billing/payments",
    ]
    texts = []
    for path in object_routes:
        r = _call(world, "victim", "GET", path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        texts.append(r.content.decode("utf-8", "replace"))
    found = {m for m in world["markers"] if any(m in t for t in texts)}
    # run id (history/logs), invoice number (invoice), payment reference (payments), article title (content)
    assert len(found) >= 4, found
    before = fingerprint(world)
    assert _call(world, "victim", "POST", "/api/v1/billing/payments/buy").status_code in (200, 201)
    assert fingerprint(world) != before  # the fingerprint sees the owner's own change
