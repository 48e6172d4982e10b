"""Helpers for the live-app tests that watch a run's live feed: a team of its own (owner + editor,
an account with credits, a site with keywords), changes made through the real services in the app's
environment (a subprocess with the live app's env, which prints the moment of the commit), and the
run's progress straight from the app's database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass

from tests.live_app import REPO, LiveApp

PASSWORD = "live-feed-password-1"

_PRELUDE = """
import json, sys, time
from sqlmodel import select
from igny8_app.db import write_session
from igny8_app.models import Account, Site, User
from igny8_app.services.accounts import access as accounts
from igny8_app.services.billing import ledger as billing
from igny8_app.services.content import keywords
from igny8_app.services.accounts import passwords
from igny8_app.services.accounts import sites
from igny8_app.services.accounts import team
args = json.loads(sys.argv[1])
def user(s, email):
    return s.exec(select(User).where(User.email == email)).one()
"""


def live_python(app: LiveApp, code: str, **args) -> dict:
    """Run ``code`` (after a prelude with the services imported and ``args``) in the live app's
    environment; it prints one JSON object on its last line, returned here."""
    r = subprocess.run([sys.executable, "-c", _PRELUDE + code, json.dumps(args)], cwd=REPO, env=app.env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@dataclass
class Team:
    tag: str
    account: str
    account_id: int
    site_id: int
    site_name: str
    owner: tuple[str, str]
    editor: tuple[str, str]
    editor_id: int


def make_team(app: LiveApp, tag: str, *, n_keywords: int) -> Team:
    """A new account ``tag`` with credits, an owner, an editor and a site with demo keywords."""
    out = live_python(app, """
from igny8_app.domain.enums import Role
from igny8_app.services.system.demo import demo_keywords
import csv, io
tag, n = args["tag"], args["n"]
buf = io.StringIO()
w = csv.DictWriter(buf, fieldnames=["keyword", "volume", "difficulty", "intent"])
w.writeheader()
w.writerows(demo_keywords()[:n])
with write_session() as s:
    owner = accounts.create_user(session=s, email=f"{tag}-owner@example.com", password=args["pw"],
                                 account_name=tag, role=Role.OWNER)
    editor = accounts.create_user(session=s, email=f"{tag}-editor@example.com", password=args["pw"],
                                  account_name=tag, role=Role.EDITOR)
    acc = accounts.get_account_by_name(session=s, name=tag)
    billing.grant(session=s, account_id=acc.id, amount=500_000, description="live feed test",
                  idempotency_key=f"live-feed:{tag}")
    site = sites.create_site(session=s, account_id=acc.id, name=f"{tag} site", domain=f"{tag}.example.com")
    keywords.import_keywords(session=s, site_id=site.id, data=buf.getvalue().encode())
    print(json.dumps({"account_id": acc.id, "site_id": site.id, "editor_id": editor.id}))
""", tag=tag, n=n_keywords, pw=PASSWORD)
    return Team(tag=tag, account=tag, account_id=out["account_id"], site_id=out["site_id"], site_name=f"{tag} site",
                owner=(f"{tag}-owner@example.com", PASSWORD), editor=(f"{tag}-editor@example.com", PASSWORD),
                editor_id=out["editor_id"])


def start_run(app: LiveApp, team: Team) -> str:
    r = app.cli("run", "start", "--site", str(team.site_id), "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["run_id"]


def run_row(app: LiveApp, run_id: str) -> tuple[str, int]:
    """The run's status and how many items it has processed so far (all stages)."""
    with sqlite3.connect(app.data_dir / "igny8.db") as c:
        status, pk = c.execute("select status, id from automation_run where run_id = ?", (run_id,)).fetchone()
        done = c.execute("select coalesce(sum(processed_items), 0) from stage_progress where run_pk = ?",
                         (pk,)).fetchone()[0]
    return status, done


def cancel_and_wait(app: LiveApp, run_id: str, timeout: float = 60) -> None:
    app.cli("run", "cancel", run_id)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if run_row(app, run_id)[0] in ("cancelled", "completed", "failed"):
            return
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not stop")


# --- the changes that end a page's access (each prints the commit time) ------------------------

def remove_member(app: LiveApp, team: Team) -> float:
    return live_python(app, """
with write_session() as s:
    team.remove_member(session=s, actor=user(s, args["owner"]), account_id=args["account_id"],
                       user_id=args["user_id"])
print(json.dumps({"at": time.time()}))
""", owner=team.owner[0], account_id=team.account_id, user_id=team.editor_id)["at"]


def change_password(app: LiveApp, team: Team) -> float:
    """The editor changes their password from another browser: every other session of theirs ends."""
    return live_python(app, """
with write_session() as s:
    passwords.change_password(session=s, user=user(s, args["email"]), current_password=args["pw"],
                              new_password=args["pw"] + "-new", keep_session_token=None)
print(json.dumps({"at": time.time()}))
""", email=team.editor[0], pw=team.editor[1])["at"]


def force_reset(app: LiveApp, team: Team) -> float:
    return live_python(app, """
with write_session() as s:
    passwords.force_reset(session=s, actor=user(s, args["owner"]), user_id=args["user_id"],
                          account_id=args["account_id"])
print(json.dumps({"at": time.time()}))
""", owner=team.owner[0], account_id=team.account_id, user_id=team.editor_id)["at"]


def delete_site(app: LiveApp, team: Team) -> float:
    return live_python(app, """
with write_session() as s:
    paths = sites.delete_site(session=s, actor=user(s, args["owner"]), site_id=args["site_id"],
                              confirm_name=args["name"])
print(json.dumps({"at": time.time()}))
""", owner=team.owner[0], site_id=team.site_id, name=team.site_name)["at"]
