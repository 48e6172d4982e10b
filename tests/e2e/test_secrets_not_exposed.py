"""Passwords and API tokens are never returned or logged.

A user signs in (once with a wrong password), creates an API token, uses it on the REST API, and
loads pages over the websocket. Afterwards neither the password, nor the token, nor their hashes
appear in any response, state update or log file the app wrote (web server, workers, app logs),
and the database holds only hashes. The positive control shows the scan would find them: the
token is printed once by `igny8 api-token` (that is how a user gets it), and the scan sees it
there.
"""

from __future__ import annotations

import hashlib
import sqlite3

import httpx

from igny8_app.pages.keywords.state import KeywordsState
from igny8_app.state import SessionState
from tests.ws_client import ReflexClient

EMAIL, PASSWORD = "secret-probe@example.com", "a-Very-distinct-Passw0rd"


def _all_logs(app) -> str:  # noqa: ANN001
    files = [p for p in app.data_dir.rglob("*") if p.is_file() and p.suffix in (".log", ".jsonl", ".txt", "")]
    return "\n".join(p.read_text(errors="replace") for p in files if p.stat().st_size < 50_000_000)


def test_passwords_and_tokens_never_leave_the_server(live_app):
    r = live_app.cli("create-user", "--email", EMAIL, "--password", PASSWORD, "--account", "Secret Probe Co",
                     "--role", "owner")
    assert r.returncode == 0, r.stderr
    r = live_app.cli("create-site", "--account", "Secret Probe Co", "--name", "Secret Site",
                     "--domain", "secret-probe.example.com", "--json")
    assert r.returncode == 0, r.stderr
    site_id = int(__import__("json").loads(r.stdout)["id"])
    r = live_app.cli("api-token", "--email", EMAIL, "--name", "probe")
    assert r.returncode == 0, r.stderr
    token = next(w for w in r.stdout.split() if w.startswith("igny8_"))
    assert token in r.stdout  # control: shown once, to the user who asked for it

    seen: list[str] = []
    bad = httpx.post(f"{live_app.url}/auth/login", data={"email": EMAIL, "password": PASSWORD + "x"},
                     follow_redirects=False, timeout=10)
    seen.append(bad.text + str(bad.headers))
    cookie = live_app.login_cookie(EMAIL, PASSWORD)
    for path in ("current_run", "history", "estimate", "pipeline_overview"):
        resp = httpx.get(f"{live_app.url}/api/v1/automation/{path}", params={"site_id": site_id},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert resp.status_code == 200, resp.text
        seen.append(resp.text + str(resp.headers))
    wrong = httpx.get(f"{live_app.url}/api/v1/automation/current_run", params={"site_id": site_id},
                      headers={"Authorization": f"Bearer {token}x"}, timeout=10)
    assert wrong.status_code == 401
    seen.append(wrong.text)
    client = ReflexClient(live_app.url, session_cookie=cookie)
    try:
        client.send(f"{SessionState.get_full_name()}.load_session")
        client.send(f"{KeywordsState.get_full_name()}.load_keywords")
        seen.append(client.all_text())
    finally:
        client.close()

    with sqlite3.connect(live_app.data_dir / "igny8.db") as c:
        pw_hash = c.execute("select password_hash from user_account where email = ?", (EMAIL,)).fetchone()[0]
        token_hashes = [h for (h,) in c.execute("select token_hash from api_token")]
        dump = "\n".join(c.iterdump())
    assert pw_hash.startswith("$argon2") and PASSWORD not in dump  # only the hash is stored
    assert hashlib.sha256(token.encode()).hexdigest() in token_hashes and token not in dump

    secrets = {"password": PASSWORD, "token": token, "password hash": pw_hash,
               "token hash": hashlib.sha256(token.encode()).hexdigest()}
    responses = "\n".join(seen)
    logs = _all_logs(live_app)
    assert len(logs) > 1000, "no logs were scanned"
    for what, value in secrets.items():
        assert value not in responses, f"the {what} was returned"
        assert value not in logs, f"the {what} was logged"
    # the key names of the secrets are not in any response either
    assert "password_hash" not in responses and "token_hash" not in responses
