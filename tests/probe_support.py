"""Machinery of the handler probe (tests/e2e/test_handler_probes.py): the app's handlers, a
fingerprint of everything an event could change (database rows, the app's Redis keys, the data
folder's files, the mail sent) and the secrets no delta may carry.

The recipes (what each mutating handler is sent, in which order) are in tests/probe_recipes.py.
"""

from __future__ import annotations

import hashlib
import inspect
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import redis

import igny8_app.igny8_app  # noqa: F401  (registers every page and state)
from reflex.state import State
from tests.ws_client import ReflexClient

# --- the app's handlers ---------------------------------------------------------------------------


def app_states() -> list[type]:
    out = []

    def walk(cls):  # noqa: ANN001, ANN202
        for sub in cls.get_substates():
            if sub.__module__.startswith("igny8_app"):
                out.append(sub)
            walk(sub)

    walk(State)
    return out


def app_handlers() -> dict[str, tuple[str, list[str]]]:
    """"StateClass.handler" -> (event name to send, parameter names), for every handler the app's
    state classes define themselves (Reflex's generated ``setvar`` included)."""
    out = {}
    for cls in app_states():
        for name, handler in cls.event_handlers.items():
            if name in cls.__dict__:
                params = list(inspect.signature(handler.fn).parameters)[1:]
                out[f"{cls.__name__}.{name}"] = (f"{cls.get_full_name()}.{name}", params)
    return out


HANDLERS = app_handlers()


def send(client: ReflexClient, key: str, payload: dict | None = None, *, path: str | None = None) -> list[dict]:
    """Send one handler (by "StateClass.handler") and wait until it was processed: a barrier event
    (a UI-only setter given a nonce) is sent after it; a client's events are processed
    in order, so once the nonce comes back the handler's own updates are in."""
    if path:
        client.path = path
    start = len(client.deltas)
    client.send(HANDLERS[key][0], payload or {}, quiet=0.0, timeout=0.0)
    barrier(client)
    return client.deltas[start:]


def barrier(client: ReflexClient, timeout: float = 15.0) -> None:
    nonce = f"probe-barrier-{uuid.uuid4().hex}"
    client.send(HANDLERS["AdminPaymentsState.set_review_note"][0], {"value": nonce}, quiet=0.0, timeout=0.0)
    deadline = time.time() + timeout
    while nonce not in client.all_text(start=-4):
        assert time.time() < deadline, "the app did not process the probe's events in time"
        time.sleep(0.01)


# --- the fingerprint ------------------------------------------------------------------------------

#: Tables left out, with the reason.
EXCLUDED_TABLES = {
    "alembic_version": "the schema version: no account data, no authority",
    "invoice_counter": "one global sequence that numbers invoices; any account's legitimate purchase "
                       "bumps it, and the invoice rows it numbers are fingerprinted",
}
#: Columns rewritten on every request or login, with the reason (they carry no data and no authority).
VOLATILE_COLUMNS = {
    "last_login_at": "the time of the last sign-in",
    "last_seen_at": "a session's sliding activity time, bumped by every request",
    "last_used_at": "an API token's last use",
    "expires_at": "a session's sliding expiry, bumped with last_seen_at",
}
#: What the acting identity may legitimately change for itself: its own API tokens, notifications
#: (read marks), sessions (sign in/out), and two of its own user columns. Its role (membership) and
#: its superuser flag are NOT here: an identity must not be able to promote itself.
SELF_TABLES = ("api_token", "notification", "user_session", "password_reset")
SELF_COLUMNS = ("email_notifications", "active_site_id")

#: Redis key prefixes the app owns that are left out, with the reason. Everything else under igny8:*
#: is fingerprinted (login tickets among them: a ticket is a credential), and so is the RQ failed
#: registry of the app's queue (the operations page retries and deletes failed jobs).
REDIS_EXCLUDED = {
    "igny8:heartbeat:": "the scheduler's liveness beat, rewritten every tick whoever asks what",
    "igny8:login-fail:": "the sign-in throttle counts failed logins by design: a forged wrong-password "
                         "login counting is the throttle working",
}
#: Files of the data folder left out, with the reason.
FILES_EXCLUDED = {
    "igny8.db": "the database (and its -wal/-shm), fingerprinted table by table",
    "logs": "the app's logs", "web.log": "the web process's log", "worker-": "the workers' logs",
    "probe-": "the probe's own set-up inputs",
}

_SCOPE_COLUMNS = ("account_id", "site_id", "run_pk", "invoice_id", "user_id", "content_id")


def _ids(c: sqlite3.Connection, sql: str, *args: Any) -> list[int]:
    return [r[0] for r in c.execute(sql, args)]


def _in(ids: list[int]) -> str:
    return "(" + (",".join(str(int(i)) for i in ids) or "NULL") + ")"


def db_fingerprint(db: Path, account: int, actor: int | None) -> dict[str, str]:
    """table -> hash of the victim account's rows (the whole table for global ones), the acting
    identity's own user and membership rows included."""
    out = {}
    with sqlite3.connect(db) as c:
        sites = _ids(c, "select id from site where account_id = ?", account)
        users = _ids(c, "select user_id from membership where account_id = ?", account)
        users += [actor] if actor is not None else []
        scope = {"account_id": [account], "site_id": sites, "user_id": users,
                 "run_pk": _ids(c, f"select id from automation_run where site_id in {_in(sites)}"),
                 "invoice_id": _ids(c, "select id from invoice where account_id = ?", account),
                 "content_id": _ids(c, f"select id from content where site_id in {_in(sites)}")}
        tables = _ids_names(c)
        for t in tables:
            if t in EXCLUDED_TABLES:
                continue
            cols = [r[1] for r in c.execute(f'pragma table_info("{t}")')]
            keep = [x for x in cols if x not in VOLATILE_COLUMNS]
            if t == "account":
                where = f'"id" = {int(account)}'
            elif t == "user_account":
                where = f'"id" in {_in(users)}'
            elif t == "membership":
                where = f'("account_id" = {int(account)} or "user_id" = {int(actor or 0)})'
            else:
                col = next((x for x in _SCOPE_COLUMNS if x in cols), None)
                where = f'"{col}" in {_in(scope[col])}' if col else ""
            if actor is not None and t in SELF_TABLES and "user_id" in cols:
                where = (where + " and " if where else "") + f'"user_id" is not {int(actor)}'
            sql = "select " + ", ".join(f'"{x}"' for x in keep) + f' from "{t}"' + (f" where {where}" if where else "")
            rows = c.execute(sql + " order by 1").fetchall()
            if t == "user_account" and actor is not None:  # its own self-service columns only
                blank = [i for i, x in enumerate(keep) if x in SELF_COLUMNS]
                idx = keep.index("id")
                rows = [tuple(None if (r[idx] == actor and i in blank) else v for i, v in enumerate(r))
                        for r in rows]
            out[t] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def _ids_names(c: sqlite3.Connection) -> list[str]:
    return [r[0] for r in c.execute("select name from sqlite_master where type='table' and name not like 'sqlite_%'")]


def redis_fingerprint(r: redis.Redis, queue: str) -> dict[str, str]:
    out = {}
    for key in sorted(k.decode() for k in r.scan_iter("igny8:*")):
        if any(key.startswith(p) for p in REDIS_EXCLUDED):
            continue
        kind = r.type(key).decode()
        value = {"string": r.get, "hash": r.hgetall, "list": lambda k: r.lrange(k, 0, -1),
                 "set": lambda k: sorted(r.smembers(k)), "zset": lambda k: r.zrange(k, 0, -1, withscores=True)
                 }.get(kind, lambda k: kind)(key)
        out[key] = repr(value)
    out["rq:failed"] = repr(r.zrange(f"rq:failed:{queue}", 0, -1, withscores=True))
    return {"redis:" + k: hashlib.sha256(v.encode()).hexdigest() for k, v in out.items()}


def victim_scope(db: Path, account: int) -> tuple[list[str], set[str]]:
    """The victim's folders in the data dir (its sites' media, its runs' logs) and its addresses."""
    with sqlite3.connect(db) as c:
        sites = _ids(c, "select id from site where account_id = ?", account)
        runs = [r[0] for r in c.execute(f"select run_id from automation_run where site_id in {_in(sites)}")]
        emails = {r[0].lower() for r in c.execute("select u.email from user_account u join membership m on "
                                                  "m.user_id = u.id where m.account_id = ?", (account,))}
        emails |= {r[0].lower() for r in c.execute("select email from invitation where account_id = ?", (account,))}
    return [f"media/site_{i}/" for i in sites] + [f"runs/{r}/" for r in runs], emails


def files_fingerprint(data_dir: Path, folders: list[str]) -> dict[str, str]:
    """The victim's files: other accounts' runs write their own folders, legitimately; anything of
    the victim's outside its folders (or at the data dir's top level) is fingerprinted too."""
    rows = []
    for p in sorted(data_dir.rglob("*")):
        rel = p.relative_to(data_dir).as_posix()
        if not p.is_file() or any(rel.startswith(x) for x in FILES_EXCLUDED):
            continue
        if rel.startswith(("media/", "runs/")) and not rel.startswith(tuple(folders)):
            continue
        try:
            rows.append((rel, hashlib.sha256(p.read_bytes()).hexdigest()))
        except FileNotFoundError:  # removed while we looked: the next look sees it gone
            continue
    return {"files": hashlib.sha256(repr(rows).encode()).hexdigest()}


def mail_fingerprint(sink: Any, emails: set[str]) -> dict[str, str]:
    """The mail sent to the victim's people (members and invitees): an attacker's mail to its own is its own."""
    with sink.lock:
        sent = [(str(m["To"]), str(m["Subject"])) for m in sink.messages
                if any(e in str(m["To"]).lower() for e in emails)]
    return {"mail": hashlib.sha256(repr(sent).encode()).hexdigest()}


class Fingerprint:
    """Everything an event could change, as one comparable dict."""

    def __init__(self, app: Any, sink: Any, account: int, queue: str) -> None:
        self.app, self.sink, self.account, self.queue = app, sink, account, queue
        self.redis = redis.Redis.from_url(app.env["REDIS_URL"])

    def take(self, actor: int | None = None) -> dict[str, str]:
        db = self.app.data_dir / "igny8.db"
        folders, emails = victim_scope(db, self.account)
        return {**db_fingerprint(db, self.account, actor), **redis_fingerprint(self.redis, self.queue),
                **files_fingerprint(self.app.data_dir, folders), **mail_fingerprint(self.sink, emails)}


def diff(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


# --- what no delta may carry ----------------------------------------------------------------------


def secret_markers(db: Path, account: int, extra: dict[str, str]) -> dict[str, str]:
    """Secrets of the victim account from its own tables: password and token hashes, the stored AI
    key's ciphertext (plus ``extra``: the AI key's plaintext, the Stripe secrets)."""
    out = dict(extra)
    with sqlite3.connect(db) as c:
        users = _ids(c, "select user_id from membership where account_id = ?", account)
        for uid, h in c.execute(f"select id, password_hash from user_account where id in {_in(users)}"):
            out[f"password hash of user {uid}"] = h
        for t in ("api_token", "user_session", "password_reset"):
            for i, h in c.execute(f"select id, token_hash from {t} where user_id in {_in(users)}"):
                out[f"{t} {i} token hash"] = h
        for i, h in c.execute("select id, token_hash from invitation where account_id = ?", (account,)):
            out[f"invitation {i} token hash"] = h
        for (ct,) in c.execute("select api_key_encrypted from account_ai_settings where account_id = ?", (account,)):
            out["AI key ciphertext"] = ct
    return {k: v for k, v in out.items() if v}


def leaks(client: ReflexClient, markers: dict[str, str]) -> list[str]:
    text = client.all_text()
    return [name for name, value in markers.items() if value in text]
