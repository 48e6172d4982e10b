"""Security probe over EVERY event handler of the app, introspected from the Reflex state classes
(so a handler added later is probed without anyone listing it).

A victim account (owner, viewer, a site with keywords and a completed run, a pending invoice, an
API token) is set up. Then every handler is sent over the websocket, one at a time, with
arguments that point at the victim's objects (the victim's site, run, content, invoice, users,
token: an IDOR attempt), by:

* an anonymous client,
* the victim's viewer,
* the owner of another account;

and after each event the victim's data must be exactly as before (a fingerprint of every row of
every table that belongs to the victim, plus the global tables), and nothing of the victim may
show up in what the anonymous client or the other owner receive.

Positive control: the victim's owner sends the same events with the same arguments; the
fingerprint must then change for the handlers that mutate data (a required set), which proves
both the event names/arguments and the fingerprint can see a change.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sqlite3
import time

import pytest

import igny8_app.igny8_app  # noqa: F401  (registers every page and state)
from igny8_app.state import SessionState
from reflex.state import State
from tests.ws_client import ReflexClient

VICTIM_ACCOUNT = "Probe Victim Co"
VICTIM_SITE = "Probe Victim Garden"
SECRET = "zzprobe secret keyword"
OWNER = ("probe-owner@example.com", "probe-owner-pw")
VIEWER = ("probe-viewer@example.com", "probe-viewer-pw")
RIVAL = ("probe-rival@example.com", "probe-rival-pw")

#: Handlers not sent over the websocket, with the reason. Everything else is probed.
NOT_PROBED = {
    "handle_upload": "an upload handler: it is only reachable through the upload endpoint with files "
                     "(the keywords e2e test and the import authorisation cover it)",
    "watch": "a background task that only reads, started by the automation page itself",
}
#: Sent last in each pass: it ends the caller's own session.
LAST = ("log_out",)
#: The owner's pass must change the victim's data through at least these handlers.
REQUIRED_MUTATIONS = {"add_keyword", "buy_package", "save_settings", "create_token", "run_now"}

# Tables and columns that change on every request or login and carry no account data.
EXCLUDED_TABLES = {"alembic_version", "user_session", "invoice_counter"}
VOLATILE_COLUMNS = {"last_login_at", "last_seen_at", "last_used_at", "active_site_id"}
SCOPE_COLUMNS = ("account_id", "site_id", "run_pk", "invoice_id", "user_id", "content_id")


def app_handlers() -> list[tuple[str, str, list[str]]]:
    """(event name, handler name, parameter names) for every handler defined by the app's states."""
    out = []

    def walk(cls):  # noqa: ANN001, ANN202
        for sub in cls.get_substates():
            if sub.__module__.startswith("igny8_app"):
                for name, handler in sub.event_handlers.items():
                    if name in sub.__dict__ and name not in NOT_PROBED:
                        params = list(inspect.signature(handler.fn).parameters)[1:]
                        out.append((f"{sub.get_full_name()}.{name}", name, params))
            walk(sub)

    walk(State)
    # keywords first (so the owner's control pass has a pending keyword when it reaches run_now),
    # the session-ending handlers last
    return sorted(out, key=lambda h: (h[1] in LAST, "keywords_state." not in h[0], h[0]))


def _q(app, sql: str, *args):  # noqa: ANN001, ANN202
    with sqlite3.connect(app.data_dir / "igny8.db") as c:
        return c.execute(sql, args).fetchall()


def fingerprint(app, v: dict, actor: int | None = None) -> dict[str, str]:  # noqa: ANN001
    """table -> hash of the victim's rows (whole table for global ones). Rows of the acting user
    themselves (``actor``: e.g. a viewer's own API token or profile) are theirs to change."""
    scope = {"account_id": [v["account"]], "site_id": [v["site"]], "user_id": v["users"],
             "run_pk": v["runs"], "invoice_id": v["invoices"], "content_id": v["contents"]}
    own = {"account": ("id", [v["account"]]), "site": ("id", [v["site"]]), "user_account": ("id", v["users"])}
    out = {}
    with sqlite3.connect(app.data_dir / "igny8.db") as c:
        tables = [r[0] for r in c.execute("select name from sqlite_master where type='table' "
                                          "and name not like 'sqlite_%'")]
        for t in tables:
            if t in EXCLUDED_TABLES:
                continue
            cols = [r[1] for r in c.execute(f'pragma table_info("{t}")')]
            keep = [x for x in cols if x not in VOLATILE_COLUMNS]
            col, ids = own.get(t, (None, None))
            if col is None:
                col = next((x for x in SCOPE_COLUMNS if x in cols), None)
                ids = scope.get(col) if col else None
            sql = "select " + ", ".join(f'"{x}"' for x in keep) + f' from "{t}"'
            where = []
            if col:
                where.append(f'"{col}" in ({",".join(str(int(i)) for i in ids) or "NULL"})')
            if actor is not None and "user_id" in cols:
                where.append(f'"user_id" is not {int(actor)}')
            if actor is not None and t == "user_account":
                where.append(f'"id" != {int(actor)}')
            if where:
                sql += " where " + " and ".join(where)
            rows = c.execute(sql + " order by 1").fetchall()
            out[t] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def _payload(params: list[str], v: dict, state_vars: list[str]) -> dict:
    ids = {"site_id": v["site"], "run_id": v["run_id"], "content_id": v["content"], "invoice_id": v["invoice"],
           "payment_id": v["payment"], "user_id": v["viewer_id"], "token_id": v["token"],
           "account_id": v["account"], "package_id": v["package"], "invitation_id": v["invitation"]}
    generic = {"delta": 1, "column": "volume", "target": "published", "action": "void", "approve": True,
               "role": "owner", "email": "probe-new@example.com", "name": "probe", "operation": "clustering",
               "approve_": True, "value": "1"}
    form = {"keyword": "probe injected keyword", "volume": "10", "name": "Probe Injected", "domain":
            "injected.example.com", "email": "probe-injected@example.com", "role": "editor",
            "company": "Injected Ltd", "low_balance_threshold": "1", "amount": "1000", "credits": "1000",
            "reason": "probe", "title": "Injected title", "meta_title": "x", "meta_description": "x",
            "body": "<p>x</p>", "html": "<p>x</p>", "password": "injected-password-1",
            "new_password": "injected-password-1", "current_password": OWNER[1], "note": "probe",
            "price": "1", "price_cents": "100", "credits_cost": "1", "description": "x", "sector": "x"}
    out = {}
    for p in params:
        if p == "form":
            out[p] = dict(form)
        elif p == "var_name":
            out[p] = "active_site_id" if "active_site_id" in state_vars else (state_vars[0] if state_vars else "x")
        elif p in ids:
            out[p] = ids[p] if p == "run_id" else str(ids[p])
        elif p in generic:
            out[p] = generic[p]
        else:
            out[p] = "1"
    if params == ["var_name", "value"]:
        out["value"] = v["site"]
    return out


@pytest.fixture(scope="module")
def victim(live_app):  # noqa: ANN001, ANN201
    def cli(*args: str) -> str:
        r = live_app.cli(*args)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r.stdout

    cli("create-user", "--email", OWNER[0], "--password", OWNER[1], "--account", VICTIM_ACCOUNT, "--role", "owner")
    cli("create-user", "--email", VIEWER[0], "--password", VIEWER[1], "--account", VICTIM_ACCOUNT, "--role", "viewer")
    cli("create-user", "--email", RIVAL[0], "--password", RIVAL[1], "--account", "Probe Rival Co", "--role", "owner")
    cli("create-site", "--account", "Probe Rival Co", "--name", "Probe Rival Site", "--domain", "rival-probe.example.com")
    site = json.loads(cli("create-site", "--account", VICTIM_ACCOUNT, "--name", VICTIM_SITE,
                          "--domain", "victim-probe.example.com", "--json"))["id"]
    cli("grant-credits", "--account", VICTIM_ACCOUNT, "--amount", "100000", "--reason", "probe set-up")
    csv = live_app.data_dir / "probe-keywords.csv"
    csv.write_text("keyword,volume\n" + f"{SECRET},50\n" + "".join(f"probe topic {i} care,{i + 10}\n" for i in range(5)))
    cli("import-keywords", str(csv), "--site", str(site))
    run_id = json.loads(cli("run", "start", "--site", str(site), "--json"))["run_id"]
    deadline = time.time() + 240
    while _q(live_app, "select status from automation_run where run_id = ?", run_id)[0][0] != "completed":
        assert time.time() < deadline, "the victim's run did not complete"
        time.sleep(0.5)
    cli("api-token", "--email", OWNER[0], "--name", "probe token")
    cookies = {who: live_app.login_cookie(*creds) for who, creds in
               (("owner", OWNER), ("viewer", VIEWER), ("rival", RIVAL))}
    # a pending invoice and payment, made by the owner as a user would
    from igny8_app.pages.billing import BillingState
    from igny8_app.state import SessionState

    client = ReflexClient(live_app.url, session_cookie=cookies["owner"], path="/billing")
    try:
        client.send(f"{SessionState.get_full_name()}.load_session")
        client.send(f"{BillingState.get_full_name()}.buy_package", {"package_id": 1})
    finally:
        client.close()

    account = _q(live_app, "select id from account where name = ?", VICTIM_ACCOUNT)[0][0]
    users = [r[0] for r in _q(live_app, "select user_id from membership where account_id = ?", account)]

    def first(sql: str, *args):  # noqa: ANN202
        rows = _q(live_app, sql, *args)
        return rows[0][0] if rows else 999_999

    v = {"account": account, "site": site, "users": users, "run_id": run_id,
         "runs": [r[0] for r in _q(live_app, "select id from automation_run where site_id = ?", site)],
         "invoices": [r[0] for r in _q(live_app, "select id from invoice where account_id = ?", account)],
         "contents": [r[0] for r in _q(live_app, "select id from content where site_id = ?", site)],
         "content": first("select id from content where site_id = ? order by id", site),
         "invoice": first("select id from invoice where account_id = ? order by id", account),
         "payment": first("select id from payment where account_id = ? order by id", account),
         "viewer_id": first("select id from user_account where email = ?", VIEWER[0]),
         "token": first("select t.id from api_token t join user_account u on u.id = t.user_id where u.email = ?",
                        OWNER[0]),
         "package": first("select id from credit_package order by id"),
         "invitation": 999_999, "cookies": cookies}
    assert v["contents"] and v["invoices"], "the victim set-up produced no content or invoice"
    return v


def _probe(live_app, victim, cookie: str | None, actor: int | None = None):  # noqa: ANN001, ANN202
    """Send every handler; returns (handlers whose event changed the victim's data, the client)."""
    client = ReflexClient(live_app.url, session_cookie=cookie)
    changed: dict[str, list[str]] = {}
    state_vars: dict[str, list[str]] = {}
    try:
        # hydrate as the page would, and try to make the victim's site the active one (works for
        # the victim's own users; refused for the others, who keep their own site)
        client.send(f"{SessionState.get_full_name()}.load_session", quiet=0.3)
        client.send(f"{SessionState.get_full_name()}.select_site", {"site_id": str(victim["site"])}, quiet=0.3)
        before = fingerprint(live_app, victim, actor)
        for event, name, params in app_handlers():
            state = event.rsplit(".", 1)[0]
            if state not in state_vars:
                cls = next(c for c in _all_states() if c.get_full_name() == state)
                state_vars[state] = sorted(cls.base_vars)
            client.send(event, _payload(params, victim, state_vars[state]), quiet=0.3)
            after = fingerprint(live_app, victim, actor)
            diff = sorted(t for t in after if after[t] != before.get(t))
            if diff:
                changed[event] = diff
            before = after
        time.sleep(1.0)  # anything still in flight from the last events lands now
        late = sorted(t for t, h in fingerprint(live_app, victim, actor).items() if h != before.get(t))
        if late:
            changed["(late, after the last event)"] = late
    except BaseException:
        client.close()
        raise
    return changed, client


def _all_states():  # noqa: ANN202
    def walk(cls):  # noqa: ANN001, ANN202
        for sub in cls.get_substates():
            yield sub
            yield from walk(sub)

    return list(walk(State))


def test_the_probe_covers_the_apps_handlers():
    handlers = app_handlers()
    names = {n for _, n, _ in handlers}
    # the introspection really sees the app: a sample of handlers from different pages
    assert {"add_keyword", "run_now", "pause", "buy_package", "save_settings", "select_site"} <= names
    assert len(handlers) >= 60


@pytest.mark.parametrize("who", ["anonymous", "viewer", "rival"])
def test_forged_events_change_nothing_and_leak_nothing(live_app, victim, who):
    cookie = None if who == "anonymous" else victim["cookies"][who]
    changed, client = _probe(live_app, victim, cookie, victim["viewer_id"] if who == "viewer" else None)
    try:
        assert changed == {}, f"{who} changed the victim's data: {changed}"
        if who != "viewer":
            text = client.all_text()
            for marker in (SECRET, VICTIM_SITE, OWNER[0]):
                assert marker not in text, f"{who} received {marker!r}"
    finally:
        client.close()


def test_positive_control_owner_changes_data(live_app, victim):
    changed, client = _probe(live_app, victim, victim["cookies"]["owner"])
    client.close()
    mutated = {e.rsplit(".", 1)[-1] for e in changed}
    assert REQUIRED_MUTATIONS <= mutated, f"missing: {REQUIRED_MUTATIONS - mutated}; changed: {changed}"
