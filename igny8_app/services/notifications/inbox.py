"""Notifications: the in-app notification centre and its email copies.

Events: run completed, run paused (with the reason), run failed, low balance, invoice issued,
invoice paid. Run events go to every member of the run's account; billing events to its owners
and admins. Each recipient gets their own row (own read state); ``(user_id, dedup_key)`` is
unique, so an event published twice notifies once.

Email copies go to recipients who did not opt out, only when SMTP_URL is set, and only from an
RQ job queued after the notifying transaction commits: a slow or failing SMTP server (or Redis)
never fails nor slows the run or the payment that caused it. Hooks are one call each:
``run_events.publish`` calls ``run_changed`` and billing calls ``low_balance`` / ``invoice_event``,
each inside the transaction that changed the run or the balance (in a SAVEPOINT, so a failure here
never rolls the operation back; a crash after it loses nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.db import insert_ignore, on_commit
from igny8_app.domain.enums import PauseReason, Role, RunStatus
from igny8_app.domain.errors import NotFound
from igny8_app.models import Account, Membership, Notification, Site, User, utcnow
from igny8_app.services.notifications import mail as mailer

log = logging.getLogger(__name__)
KINDS = ("run_completed", "run_paused", "run_failed", "low_balance", "invoice_issued", "invoice_paid")
PAUSE_REASONS = {
    PauseReason.OPERATOR.value: "paused by an operator",
    PauseReason.INSUFFICIENT_CREDITS.value: "the account ran out of credits",
    PauseReason.PROVIDER_UNAVAILABLE.value: "the AI provider is unavailable",
    PauseReason.REVIEW.value: "waiting for a review of the last stage's output",
}
MANAGER_ROLES = (Role.OWNER.value, Role.ADMIN.value)
PAGE_SIZE = 50


@dataclass(frozen=True)
class Event:
    kind: str
    account_id: int
    title: str
    body: str
    link: str
    dedup_key: str
    site_id: int | None = None
    managers_only: bool = False


# --- creating -------------------------------------------------------------------------------------------

def _recipients(session: Session, ev: Event) -> list[User]:
    stmt = select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.account_id == ev.account_id, User.is_active == True)  # noqa: E712
    if ev.managers_only:
        stmt = stmt.where(Membership.role.in_(MANAGER_ROLES))
    return list(session.exec(stmt.order_by(User.id)).all())


def _insert_ignore(session: Session, values: dict[str, Any]) -> bool:
    """Insert unless (user_id, dedup_key) exists; True when a row was added."""
    return insert_ignore(session, Notification.__table__, [values], conflict_columns=["user_id", "dedup_key"]) == 1


def emit(*, session: Session, ev: Event) -> int:
    """Add the event's notifications in the caller's transaction (inside a SAVEPOINT: a failure
    here is logged and rolled back alone). Emails are queued only once the transaction commits."""
    mails: list[tuple[str, str, str]] = []
    try:
        with session.begin_nested():
            now = utcnow()
            for user in _recipients(session, ev):
                added = _insert_ignore(session, {
                    "user_id": user.id, "account_id": ev.account_id, "site_id": ev.site_id, "kind": ev.kind,
                    "title": ev.title[:200], "body": ev.body, "link": ev.link[:300], "dedup_key": ev.dedup_key[:160],
                    "created_at": now})
                if added and user.email_notifications:
                    mails.append((user.email, ev.title, _email_body(ev)))
    except Exception:  # noqa: BLE001 - notifications must never break the operation that caused them
        log.exception("could not record the %s notification for account %s", ev.kind, ev.account_id)
        return 0
    if mails and mailer.mail_settings().enabled:
        on_commit(session, lambda: _queue(mails))
    return len(mails)


def _queue(mails: list[tuple[str, str, str]]) -> None:
    for to, subject, body in mails:
        try:
            mailer.send(to=to, subject=subject, body=body)
        except Exception:  # noqa: BLE001
            log.exception("could not queue the notification email to %s", to)


def _email_body(ev: Event) -> str:
    from igny8_app.settings import get_settings

    url = get_settings().public_url + ev.link if ev.link.startswith("/") else ev.link
    return (f"{ev.body}\n\nOpen in IGNY8: {url}\n\n--\nYou receive this because you are a member of this IGNY8 "
            f"account. Turn email notifications off under My account.\n")


# --- the hooks ------------------------------------------------------------------------------------------

def run_changed(*, session: Session, run: Any) -> None:
    """Called by run_events.publish in the transaction that changed the run. Acts on completed,
    paused and failed; never raises."""
    status = getattr(run, "status", None)
    if status not in (RunStatus.COMPLETED.value, RunStatus.PAUSED.value, RunStatus.FAILED.value):
        return
    try:
        site = session.get(Site, run.site_id)
        where = f" on {site.name}" if site else ""
        if status == RunStatus.COMPLETED.value:
            ev = Event("run_completed", run.account_id, f"Run {run.run_id} completed{where}",
                       f"The automation run {run.run_id}{where} completed and used "
                       f"{run.total_credits_used:,} credits.", "/automation", f"run_completed:{run.run_id}",
                       run.site_id)
        elif status == RunStatus.PAUSED.value:
            reason = PAUSE_REASONS.get(run.pause_reason or "", run.pause_reason or "unknown reason")
            stamp = run.paused_at.isoformat() if run.paused_at else ""
            ev = Event("run_paused", run.account_id, f"Run {run.run_id} paused{where}: {reason}",
                       f"The automation run {run.run_id}{where} was paused: {reason}. Resume it from the "
                       f"Automation page.", "/automation", f"run_paused:{run.run_id}:{stamp}", run.site_id)
        else:
            ev = Event("run_failed", run.account_id, f"Run {run.run_id} failed{where}",
                       f"The automation run {run.run_id}{where} failed: {run.error or 'unknown error'}.",
                       "/automation", f"run_failed:{run.run_id}", run.site_id)
        emit(session=session, ev=ev)
    except Exception:  # noqa: BLE001 - a run never fails because of a notification
        log.exception("run notification for %s failed", getattr(run, "run_id", "?"))


def low_balance(*, session: Session, account: Account) -> None:
    """Called by billing when the balance has just dropped below the account's threshold."""
    stamp = utcnow().isoformat()
    emit(session=session, ev=Event(
        "low_balance", account.id, f"Low balance: {account.credits:,} credits left",
        f"The balance of {account.name} is {account.credits:,} credits, below your alert threshold of "
        f"{account.low_balance_threshold:,}. Runs pause when credits run out: buy credits on the Billing page.",
        "/billing", f"low_balance:{stamp}", managers_only=True))


def invoice_event(*, session: Session, invoice: Any, paid: bool) -> None:
    """Called by billing when an invoice is issued (pending) or paid."""
    total = f"{invoice.total_cents / 100:,.2f} {invoice.currency}"
    if paid:
        ev = Event("invoice_paid", invoice.account_id, f"Invoice {invoice.number} paid",
                   f"Invoice {invoice.number} ({total}) is paid" +
                   (f": {invoice.credits:,} credits were added." if invoice.credits else "."),
                   "/billing/invoices", f"invoice_paid:{invoice.id}", managers_only=True)
    else:
        ev = Event("invoice_issued", invoice.account_id, f"Invoice {invoice.number} issued",
                   f"Invoice {invoice.number} over {total} was issued.", "/billing/invoices",
                   f"invoice_issued:{invoice.id}", managers_only=True)
    emit(session=session, ev=ev)


# --- reading ----------------------------------------------------------------------------------------------

def unread_count(*, session: Session, user_id: int) -> int:
    return session.exec(select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))).one()


def list_for_user(*, session: Session, user_id: int, unread_only: bool = False,
                  limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = session.exec(stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)).all()
    return [{"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "link": n.link, "site_id": n.site_id or 0,
             "unread": n.read_at is None, "when": n.created_at.strftime("%Y-%m-%d %H:%M")} for n in rows]


def mark_read(*, session: Session, user_id: int, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (another user's is NotFound)."""
    n = session.get(Notification, int(notification_id))
    if n is None or n.user_id != user_id:
        raise NotFound("Notification not found.")
    if n.read_at is None:
        n.read_at = utcnow()
        session.add(n)
        session.flush()
    return n


def mark_all_read(*, session: Session, user_id: int) -> int:
    return session.execute(sa.update(Notification).where(Notification.user_id == user_id,
                                                         Notification.read_at.is_(None)).values(read_at=utcnow())).rowcount


def set_email_opt_in(*, session: Session, user: User, enabled: bool) -> None:
    user.email_notifications = bool(enabled)
    session.add(user)
    session.flush()
