"""Notifications: run completed / paused (with reason) / failed, low balance, invoice issued and
paid reach the right members once; the unread count and read state are per user; email copies
are delivered by an RQ worker through a real local SMTP server (aiosmtpd), honour the per-user
opt-out, and a failing SMTP server neither fails nor holds up the run."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from rq import SimpleWorker

from igny8_app import db as dbmod
from igny8_app.domain.costs import Usage
from igny8_app.domain.errors import NotFound
from igny8_app.models import Account, AutomationRun, User
from igny8_app.queue import get_queue, get_redis
from igny8_app.services.accounts import access as accounts
from igny8_app.services.automation import control as automation
from igny8_app.services.billing import ledger as billing
from igny8_app.services.billing import invoices
from igny8_app.services.notifications import inbox as notifications
from igny8_app.services.billing import payments
from igny8_app.services.automation import events as run_events
from igny8_app.services.automation.run_loop import execute_run
from tests.engine_helpers import seed_site
from tests.factories import make_user
from tests.smtp_sink import SmtpSink


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch):
    with SmtpSink() as s:
        monkeypatch.setenv("SMTP_URL", s.url)
        monkeypatch.setenv("SMTP_FROM", "IGNY8 Alerts <alerts@igny8.test>")
        yield s


@pytest.fixture
def team(db, redis):
    """A site with keywords in an account with an owner, an admin and an editor."""
    ref = seed_site(n_keywords=6, credits=50_000)
    with dbmod.write_session() as s:
        name = s.get(Account, ref.account_id).name
        ids = {r: make_user(s, account=name, role=r, email=f"{r}@note.example").id for r in ("owner", "admin", "editor")}
    return ref, ids


def _work_mail_jobs() -> None:
    SimpleWorker([get_queue()], connection=get_redis()).work(burst=True)


def _kinds(user_id: int) -> list[str]:
    with dbmod.read_session() as s:
        return [n["kind"] for n in notifications.list_for_user(session=s, user_id=user_id)]


def test_run_completed_notifies_every_member_and_emails_them(team, sink) -> None:
    ref, ids = team
    with dbmod.write_session() as s:
        notifications.set_email_opt_in(session=s, user=s.get(User, ids["editor"]), enabled=False)
    run = automation.start_run(site_id=ref.site_id, enqueue=False)
    assert execute_run(run.id) == "completed"
    for role in ("owner", "admin", "editor"):
        assert _kinds(ids[role]) == ["run_completed"]
    with dbmod.read_session() as s:
        note = notifications.list_for_user(session=s, user_id=ids["owner"])[0]
        assert note["link"] == "/automation" and note["site_id"] == ref.site_id and note["unread"]
        assert notifications.unread_count(session=s, user_id=ids["owner"]) == 1
    assert sink.messages == []  # queued, not sent inline by the run
    _work_mail_jobs()
    mail = sink.wait_for("owner@note.example")[0]
    assert mail["Subject"] == f"Run {run.run_id} completed on {note['title'].split(' on ')[1]}"
    assert mail["From"] == "IGNY8 Alerts <alerts@igny8.test>"
    body = mail.get_content()
    assert run.run_id in body and "credits" in body and "/automation" in body
    assert sink.to("admin@note.example") and sink.to("editor@note.example") == []  # opt-out honoured
    # publishing the same final state again notifies nobody twice
    with dbmod.write_session() as s:
        run_events.publish(s, s.get(AutomationRun, run.id))
    assert _kinds(ids["owner"]) == ["run_completed"]


def test_pause_carries_its_reason_and_failure_its_error(team) -> None:
    ref, ids = team
    run = automation.start_run(site_id=ref.site_id, enqueue=False)
    automation.pause_run(run_id=run.run_id)  # nobody holds the lease: takes effect at once and is published
    with dbmod.read_session() as s:
        note = notifications.list_for_user(session=s, user_id=ids["editor"])[0]
    assert note["kind"] == "run_paused" and "paused by an operator" in note["title"]
    automation.cancel_run(run_id=run.run_id)
    run2 = automation.start_run(site_id=ref.site_id, enqueue=False)
    with dbmod.write_session() as s:
        r = s.get(AutomationRun, run2.id)
        r.status, r.error = "failed", "the stage 2 provider returned garbage"
        s.add(r)
    with dbmod.write_session() as s:
        run_events.publish(s, s.get(AutomationRun, run2.id))
    with dbmod.read_session() as s:
        note = notifications.list_for_user(session=s, user_id=ids["owner"])[0]
    assert note["kind"] == "run_failed" and "returned garbage" in note["body"]
    assert _kinds(ids["admin"]) == ["run_failed", "run_paused"]


def test_low_balance_and_invoices_notify_owners_and_admins_only(team, sink) -> None:
    ref, ids = team
    with dbmod.write_session() as s:
        acct = s.get(Account, ref.account_id)
        acct.low_balance_threshold = acct.credits - 1  # the next charge crosses it
        s.add(acct)
    with dbmod.write_session() as s:
        billing.charge(session=s, account_id=ref.account_id, operation_type="clustering", usage=Usage(requests=1),
                       idempotency_key="note-test:1", site_id=ref.site_id)
    with dbmod.write_session() as s:  # still low: no second notice for the same crossing
        billing.charge(session=s, account_id=ref.account_id, operation_type="clustering", usage=Usage(requests=1),
                       idempotency_key="note-test:2", site_id=ref.site_id)
        package = payments.list_packages(session=s)[0]
        inv, _ = payments.buy_package(session=s, account_id=ref.account_id, package_id=package.id,
                                      method="bank_transfer")
    with dbmod.write_session() as s:
        invoices.mark_paid(session=s, invoice_id=inv.id)
    assert _kinds(ids["owner"]) == ["invoice_paid", "invoice_issued", "low_balance"]
    assert _kinds(ids["admin"]) == ["invoice_paid", "invoice_issued", "low_balance"]
    assert _kinds(ids["editor"]) == []
    _work_mail_jobs()
    subjects = sorted(m["Subject"] for m in sink.wait_for("owner@note.example", 3))
    assert subjects[0] == f"Invoice {inv.number} issued" and subjects[1] == f"Invoice {inv.number} paid"
    assert subjects[2].startswith("Low balance:")


def test_read_state_is_per_user_and_private(team) -> None:
    ref, ids = team
    run = automation.start_run(site_id=ref.site_id, enqueue=False)
    automation.pause_run(run_id=run.run_id)
    with dbmod.write_session() as s:
        mine = notifications.list_for_user(session=s, user_id=ids["owner"])[0]["id"]
        with pytest.raises(NotFound):  # another user's notification cannot be touched
            notifications.mark_read(session=s, user_id=ids["admin"], notification_id=mine)
        notifications.mark_read(session=s, user_id=ids["owner"], notification_id=mine)
        assert notifications.unread_count(session=s, user_id=ids["owner"]) == 0
        assert notifications.unread_count(session=s, user_id=ids["admin"]) == 1
        assert notifications.mark_all_read(session=s, user_id=ids["admin"]) == 1
        assert notifications.unread_count(session=s, user_id=ids["admin"]) == 0


def test_failing_smtp_server_never_fails_the_run(team, sink) -> None:
    ref, ids = team
    sink.reject = True  # every message gets 451
    run = automation.start_run(site_id=ref.site_id, enqueue=False)
    assert execute_run(run.id) == "completed"  # the run does not wait for, nor see, SMTP
    assert _kinds(ids["owner"]) == ["run_completed"]
    _work_mail_jobs()  # the email jobs fail in the worker and wait for their first retry
    q = get_queue()  # (the retry itself, on real workers: tests/integration/test_email_retries.py)
    assert q.scheduled_job_registry.count == 3 and q.failed_job_registry.count == 0
    assert sink.messages == []
    sink.reject = False  # positive control: the same delivery works once SMTP accepts
    from igny8_app.jobs import send_email

    send_email("owner@note.example", "hello", "body")
    assert len(sink.to("owner@note.example")) == 1


def test_no_smtp_url_means_no_email_jobs(team, monkeypatch) -> None:
    monkeypatch.delenv("SMTP_URL", raising=False)
    ref, ids = team
    run = automation.start_run(site_id=ref.site_id, enqueue=False)
    assert execute_run(run.id) == "completed"
    assert _kinds(ids["owner"]) == ["run_completed"]
    assert get_queue().count == 0


class _Crash(BaseException):
    """The process dies (SIGKILL, OOM) the moment the run's transaction has committed."""


def _crash_right_after_commit(monkeypatch) -> None:
    def crash(*_a, **_k):
        raise _Crash
    monkeypatch.setattr(run_events, "get_redis", crash)  # the first thing after the commit is the live event


def test_a_crash_after_the_commit_loses_no_notification(team, monkeypatch) -> None:
    """The notification rows commit with the run's new state, in the same transaction."""
    ref, ids = team
    run = automation.start_run(site_id=ref.site_id, enqueue=False)
    _crash_right_after_commit(monkeypatch)
    with pytest.raises(_Crash):
        automation.pause_run(run_id=run.run_id)
    with dbmod.read_session() as s:
        assert s.get(AutomationRun, run.id).status == "paused"
    assert _kinds(ids["owner"]) == ["run_paused"]


def test_a_run_that_completes_and_crashes_keeps_its_notification(team, monkeypatch) -> None:
    ref, ids = team
    run = automation.start_run(site_id=ref.site_id, enqueue=False)
    real = run_events._send

    def send_until_done(payload):  # progress events go out; the process dies after the final commit
        if payload.get("status") == "completed":
            raise _Crash
        real(payload)

    monkeypatch.setattr(run_events, "_send", send_until_done)
    with pytest.raises(_Crash):
        execute_run(run.id)
    with dbmod.read_session() as s:
        assert s.get(AutomationRun, run.id).status == "completed"
    assert _kinds(ids["owner"]) == ["run_completed"]
