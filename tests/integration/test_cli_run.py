"""`igny8 run …`: the automation services from the command line, in a real subprocess, against the
test database (SQLite and PostgreSQL) and a real Redis. No worker runs, so a started run stays
`running` and pause and cancel take effect at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from igny8_app import db as dbmod
from igny8_app.models import Keyword, RunEvent
from igny8_app.queue import get_queue
from igny8_app.services.content import keywords
from igny8_app.settings import REPO_ROOT
from tests.factories import make_account, make_site

KEYWORDS_CSV = ("keyword,volume\n" + "\n".join(f"espresso machine {w},{i + 1}" for i, w in enumerate(
    ("review", "guide", "cheap", "best", "manual", "automatic", "cleaning", "descaling")))).encode()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "igny8_app.cli", *args], cwd=REPO_ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)


def ok_json(*args: str) -> dict:
    r = cli(*args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def refused(*args: str, code: str) -> str:
    r = cli(*args, "--json")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout == ""
    err = json.loads(r.stderr.strip().splitlines()[-1])
    assert err["error"] == code, err
    return err["detail"]


def make_site_with_keywords(credits: int) -> int:
    with dbmod.write_session() as s:
        site = make_site(s, make_account(s, credits=credits))
        keywords.import_keywords(session=s, site_id=site.id, data=KEYWORDS_CSV)
        return site.id


@pytest.fixture
def site_id(db, redis) -> int:
    return make_site_with_keywords(credits=100_000)


def test_start_pause_resume_cancel_status(site_id: int) -> None:
    started = ok_json("run", "start", "--site", str(site_id))
    assert list(started) == ["run_id"] and started["run_id"].startswith("run_")
    run_id = started["run_id"]
    assert len(get_queue()) == 1

    assert "already has an active run" in refused("run", "start", "--site", str(site_id), code="conflict")

    state = ok_json("run", "status", run_id)
    assert state["run_id"] == run_id and state["status"] == "running" and state["site_id"] == site_id
    assert ok_json("run", "pause", run_id)["status"] == "paused"
    assert "already paused" in refused("run", "pause", run_id, code="conflict")
    assert ok_json("run", "resume", run_id)["status"] == "running"
    assert len(get_queue()) == 2
    cancelled = ok_json("run", "cancel", run_id)
    assert cancelled["status"] == "cancelled" and cancelled["completed_at"]

    # status reports finished runs too; actions on them are refused with the reason
    assert ok_json("run", "status", run_id)["status"] == "cancelled"
    for action in ("resume", "pause", "cancel"):
        assert "cancelled" in refused("run", action, run_id, code="conflict")
    with dbmod.read_session() as s:
        messages = s.execute(sa.select(RunEvent.message).order_by(RunEvent.id)).scalars().all()
    assert messages[0].startswith("Run started") and "Cancelled" in messages[-1]


def test_text_output_and_plain_errors(site_id: int) -> None:
    r = cli("run", "start", "--site", str(site_id))
    assert r.returncode == 0, r.stderr
    run_id = r.stdout.split()[1]
    assert r.stdout.strip() == f"Started {run_id} for site {site_id}."
    r = cli("run", "status", run_id)
    assert r.returncode == 0 and r.stdout.startswith(f"{run_id}: running — stage 1 (Keywords → Clusters)")
    r = cli("run", "pause", run_id)
    assert r.returncode == 0 and f"{run_id}: paused, reason operator" in r.stdout
    r = cli("run", "resume", run_id)
    assert r.returncode == 0 and f"{run_id}: running" in r.stdout
    r = cli("run", "start", "--site", str(site_id))
    assert r.returncode == 1 and r.stdout == "" and r.stderr.startswith("Error: ") and run_id in r.stderr


def test_unknown_run_or_site_is_refused(db, redis) -> None:
    for action in ("status", "pause", "resume", "cancel"):
        assert "run_nope" in refused("run", action, "run_nope", code="not_found")
    assert refused("run", "start", "--site", "999", code="not_found") == "Site not found."
    assert cli("run", "start", "--site", "abc").returncode == 2  # usage errors: Typer's exit status 2
    assert cli("run", "pause").returncode == 2


def test_insufficient_credits_names_both_numbers(db, redis) -> None:
    site_id = make_site_with_keywords(credits=2)
    detail = refused("run", "start", "--site", str(site_id), code="insufficient_credits")
    assert "balance is 2" in detail
    needed = int(detail.split("starting requires ")[1].split()[0])
    assert needed > 2
    assert len(get_queue()) == 0


def test_retry_failed(site_id: int) -> None:
    with dbmod.write_session() as s:
        s.execute(sa.update(Keyword).where(Keyword.site_id == site_id, Keyword.volume <= 3)
                  .values(status="failed", last_error="provider error", attempts=3))
    out = ok_json("run", "retry-failed", "--site", str(site_id))
    assert out["total"] == 3 and out["retried"]["keywords"] == 3 and out["site_id"] == site_id
    with dbmod.read_session() as s:
        rows = s.execute(sa.select(Keyword.status, Keyword.attempts, Keyword.last_error)
                         .where(Keyword.site_id == site_id)).all()
    assert {tuple(r) for r in rows} == {("new", 0, None)}
    r = cli("run", "retry-failed", "--site", str(site_id))
    assert r.returncode == 0 and r.stdout.startswith("Requeued 0 failed item(s)")


def test_estimate_prints_total_stages_and_items(site_id: int) -> None:
    from igny8_app.services.automation import control

    est = ok_json("run", "estimate", "--site", str(site_id))
    assert list(est) == ["total", "stages", "items"]
    with dbmod.read_session() as s:
        same = control.estimate(session=s, site_id=site_id)
    assert est == {"total": same["total"], "stages": same["stages"], "items": same["items"]}
    assert est["items"]["keywords"] == 8 and est["total"] == sum(est["stages"].values()) > 0
    text = cli("run", "estimate", "--site", str(site_id))
    assert text.returncode == 0 and f"About {est['total']:,} credits" in text.stdout
    assert "Site not found" in refused("run", "estimate", "--site", "999999", code="not_found")
    # status keeps credits_used beside the run's estimate
    run_id = ok_json("run", "start", "--site", str(site_id))["run_id"]
    state = ok_json("run", "status", run_id)
    assert state["credits_used"] == 0 and state["estimate_total"] == est["total"]
