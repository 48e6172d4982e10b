"""The account audit log: who changed what in an account's administration, and when."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from igny8_app.models import AccountAudit, User

ACTION_LABELS = {
    "invitation_sent": "Invited",
    "invitation_revoked": "Revoked invitation",
    "invitation_accepted": "Joined",
    "role_changed": "Changed role",
    "member_removed": "Removed member",
    "token_created": "Created API token",
    "token_revoked": "Revoked API token",
    "site_created": "Created site",
    "site_updated": "Updated site",
    "site_deactivated": "Deactivated site",
    "site_activated": "Reactivated site",
    "site_deleted": "Deleted site",
    "password_reset_forced": "Forced password reset",
}


def record(*, session: Session, account_id: int, actor: User | None, action: str, target: str = "",
           detail: str = "") -> AccountAudit:
    """Add an entry in the caller's transaction: it commits (or rolls back) with the change itself."""
    row = AccountAudit(account_id=account_id, actor_id=actor.id if actor else None,
                       actor_email=actor.email if actor else "system", action=action, target=target[:254],
                       detail=detail)
    session.add(row)
    session.flush()
    return row


def list_entries(*, session: Session, account_id: int, limit: int = 200) -> list[dict[str, Any]]:
    rows = session.exec(
        select(AccountAudit).where(AccountAudit.account_id == account_id)
        .order_by(AccountAudit.created_at.desc(), AccountAudit.id.desc()).limit(limit)
    ).all()
    return [{"id": r.id, "when": r.created_at.strftime("%Y-%m-%d %H:%M:%S"), "actor": r.actor_email,
             "action": r.action, "label": ACTION_LABELS.get(r.action, r.action.replace("_", " ")),
             "target": r.target, "detail": r.detail} for r in rows]
