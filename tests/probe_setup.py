"""The victim the handler probe attacks (tests/e2e/test_handler_probes.py), built the way users
would: the CLI for users, sites, keywords and runs; the owner's own websocket events for
purchases, the AI key, invitations and settings."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

import redis
from rq import Queue

from igny8_app.ai import prompt_registry
from tests.probe_support import Fingerprint, secret_markers, send
from tests.ws_client import ReflexClient


def _var(client: ReflexClient, name: str) -> Any:
    """The newest value of state var ``name`` in the client's updates."""
    found = None

    def walk(x: Any) -> None:
        nonlocal found
        if isinstance(x, dict):
            for k, val in x.items():
                if k == name or k.startswith(name + "_rx_state_"):
                    found = val
                walk(val)
        elif isinstance(x, list):
            for val in x:
                walk(val)

    walk(client.deltas)
    return found


def build_victim(app: Any, sink: Any, *, names: dict, emails: dict, passwords: dict) -> dict:  # noqa: PLR0915
    db = app.data_dir / "igny8.db"

    def q(sql: str, *args: Any) -> list[tuple]:
        with sqlite3.connect(db) as c:
            return c.execute(sql, args).fetchall()

    def first(sql: str, *args: Any) -> Any:
        rows = q(sql, *args)
        return rows[0][0] if rows else 999_999

    def cli(*args: str) -> str:
        r = app.cli(*args)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r.stdout

    acc = names["account"]
    for who, role in (("owner", "owner"), ("viewer", "viewer"), ("editor", "editor"), ("extra1", "viewer"),
                      ("extra2", "viewer"), ("extra3", "viewer")):
        cli("create-user", "--email", emails[who], "--password", passwords.get(who, "probe-extra-pw-1"),
            "--account", acc, "--role", role)
    cli("create-user", "--email", emails["rival"], "--password", passwords["rival"], "--account", "Probe Rival Co",
        "--role", "owner")
    cli("create-site", "--account", "Probe Rival Co", "--name", "Probe Rival Site", "--domain", "rival-probe.example.com")
    site_names = {"site": names["site"], "site2": "Probe Victim Second", "site3": "Probe Victim Doomed"}
    sites = {k: json.loads(cli("create-site", "--account", acc, "--name", n, "--domain",
                               f"{k}-victim-probe.example.com", "--json"))["id"] for k, n in site_names.items()}
    cli("grant-credits", "--account", acc, "--amount", "100000", "--reason", "probe set-up")
    csv = app.data_dir / "probe-keywords.csv"
    csv.write_text("keyword,volume\n" + f"{names['secret']},50\n"
                   + "".join(f"probe topic {i} care,{i + 10}\n" for i in range(5)))
    for k in ("site", "site2"):
        cli("import-keywords", str(csv), "--site", str(sites[k]))
    run_id = json.loads(cli("run", "start", "--site", str(sites["site"]), "--json"))["run_id"]
    # a long wait between stages keeps run2 going until the pause lands: on a loaded machine its six
    # keywords were all done before 'run pause' arrived, and the set-up failed
    cli("config", "set", "--site", str(sites["site2"]), "between_stage_delay=600")
    run2 = json.loads(cli("run", "start", "--site", str(sites["site2"]), "--json"))["run_id"]
    cli("run", "pause", run2)  # a paused run holds site2's lock: the superuser's release_lock target
    queue = Queue("igny8", connection=redis.Redis.from_url(app.env["REDIS_URL"]))
    failed = [queue.enqueue("igny8_app.jobs.probe_no_such_job").id for _ in range(2)]
    cli("api-token", "--email", emails["owner"], "--name", "probe token")
    superuser = app.creds("superuser")
    reset = json.loads(cli("force-password-reset", "--email", emails["extra3"], "--by", superuser[0], "--json"))
    cookies = {who: app.login_cookie(emails[who], passwords[who]) for who in ("owner", "viewer", "editor", "rival")}
    cookies["superuser"] = app.login_cookie(*superuser)

    # what the owner does in the browser: purchases, the AI key, invitations; and what the probe reads
    owner = ReflexClient(app.url, session_cookie=cookies["owner"], path="/billing")
    try:
        send(owner, "SessionState.load_session")
        send(owner, "SessionState.select_site", {"site_id": str(sites["site"])})
        package = first("select id from credit_package where is_active order by id")
        for _ in range(2):
            send(owner, "BillingState.buy_package", {"package_id": package})
        send(owner, "AISettingsState.save_ai_settings", {"form": {"provider": "", "base_url": "", "api_key": names["ai_key"]}})
        invite_links = []
        for n in (1, 2):
            send(owner, "TeamState.set_invite_role", {"value": "viewer"})
            send(owner, "TeamState.send_invite", {"form": {"email": f"probe-invitee{n}@example.com"}})
            invite_links.append(_var(owner, "invite_link"))
        send(owner, "ConfigState.load_config", path="/automation")
        config = dict(_var(owner, "form") or {})
    finally:
        owner.close()
    config["within_stage_delay"] = str((int(config.get("within_stage_delay") or 0) + 1) % 5)
    config["enabled"] = ""

    deadline = time.time() + 240
    while first("select status from automation_run where run_id = ?", run_id) != "completed" or \
            len(queue.failed_job_registry.get_job_ids()) < 2:
        assert time.time() < deadline, "the victim's run did not complete (or the failing jobs did not fail)"
        time.sleep(0.3)
    deadline = time.time() + 30
    while first("select status from automation_run where run_id = ?", run2) != "paused":
        assert time.time() < deadline, "the victim's second run did not pause"
        time.sleep(0.3)

    account = first("select id from account where name = ?", acc)
    ids = {who: first("select id from user_account where email = ?", emails[who]) for who in emails}
    ids["superuser"] = first("select id from user_account where email = ?", superuser[0])
    content = q("select id, status from content where site_id = ? order by id", sites["site"])
    pkg = q("select name, credits, price_cents from credit_package where id = ?", package)[0]
    prompt = next(iter(prompt_registry.SPECS))
    v = {
        "db": db, "account": account, **sites, **{f"{k}_name": n for k, n in site_names.items()},
        "account_name": acc, "run_id": run_id, "ids": ids, "cookies": cookies, "viewer_id": ids["viewer"],
        "extra1": ids["extra1"], "extra2": ids["extra2"], "owner_email": emails["owner"],
        "owner_password": passwords["owner"], "login_password": passwords["owner"],
        "contents": [c[0] for c in content], "content": content[0][0] if content else 999_999,
        "content_target": {"draft": "review", "review": "draft", "published": "draft"}.get(
            content[0][1] if content else "", "review"),
        "invoice": first("select id from invoice where account_id = ? order by id", account),
        "invoice2": first("select id from invoice where account_id = ? order by id desc", account),
        "payment": first("select id from payment where account_id = ? order by id", account),
        "token": first("select id from api_token where user_id = ?", ids["owner"]),
        "package": package, "package_name": pkg[0], "package_credits": pkg[1], "package_price": f"{pkg[2] / 100:.2f}",
        "invitation": first("select id from invitation where account_id = ? order by id desc", account),
        "invite_token": (invite_links[0] or "").split("token=")[-1],
        "reset_token": reset["link"].split("token=")[-1],
        "notification": first("select id from notification where user_id = ? order by id", ids["owner"]),
        "failed_jobs": failed, "config_form": config, "prompt": prompt,
        "prompt_template": prompt_registry.default_template(prompt),
        "clustering_cost": first("select credits_cost from credit_cost_config where operation_type = 'clustering'"),
    }
    v["fp"] = Fingerprint(app, sink, account, "igny8")
    v["secrets"] = secret_markers(db, account, {"AI key": names["ai_key"],
                                                "Stripe secret key": app.env["STRIPE_SECRET_KEY"],
                                                "Stripe webhook secret": app.env["STRIPE_WEBHOOK_SECRET"]})
    v["names"] = {"account name": acc, "site name": names["site"], "owner email": emails["owner"],
                  "secret keyword": names["secret"]}
    return v
