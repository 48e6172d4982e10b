"""API tokens from the user's side: list, create (the plain value is returned once), revoke.

Tokens belong to users. A user lists and revokes their own; an owner also sees and revokes every
token of their account's members (recorded in the account audit log). A revoked token is refused
by the very next request: ``accounts.resolve_api_token`` reads ``revoked_at`` on every call.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from igny8_app.domain.errors import NotFound
from igny8_app.domain.roles import Permission
from igny8_app.models import ApiToken, Membership, User, utcnow
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import audit


def _fmt(value) -> str:  # noqa: ANN001
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


def _row(t: ApiToken, email: str, me: int) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "prefix": t.prefix + "…", "owner": email, "mine": t.user_id == me,
            "created": _fmt(t.created_at), "last_used": _fmt(t.last_used_at)}


def list_tokens(*, session: Session, user: User, account_id: int | None = None) -> list[dict[str, Any]]:
    """The user's live tokens; with ``account_id`` (owners only), every member's live tokens."""
    stmt = select(ApiToken, User.email).join(User, User.id == ApiToken.user_id).where(ApiToken.revoked_at.is_(None))
    if account_id is not None:
        accounts.authorize_account(session=session, user=user, account_id=account_id, permission=Permission.OWN)
        stmt = stmt.where(ApiToken.user_id.in_(select(Membership.user_id).where(Membership.account_id == account_id)))
    else:
        stmt = stmt.where(ApiToken.user_id == user.id)
    rows = session.exec(stmt.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()
    return [_row(t, email, user.id) for t, email in rows]


def create_token(*, session: Session, user: User, name: str) -> tuple[dict[str, Any], str]:
    name = (name or "").strip() or "API token"
    row, plain = accounts.create_api_token(session=session, user_id=user.id, name=name)
    return _row(row, user.email, user.id), plain


def revoke_token(*, session: Session, user: User, token_id: int, account_id: int | None = None) -> None:
    """Revoke one of the user's tokens, or (owner of ``account_id``) one of a member's tokens."""
    token = session.get(ApiToken, int(token_id))
    if token is None:
        raise NotFound("Token not found.")
    if token.user_id != user.id:
        if account_id is None:
            raise NotFound("Token not found.")
        accounts.authorize_account(session=session, user=user, account_id=account_id, permission=Permission.OWN)
        member = session.exec(select(Membership.id).where(Membership.account_id == account_id,
                                                          Membership.user_id == token.user_id)).first()
        if member is None:
            raise NotFound("Token not found.")
        holder = session.get(User, token.user_id)
        audit.record(session=session, account_id=account_id, actor=user, action="token_revoked",
                     target=holder.email if holder else "", detail=f"{token.name} ({token.prefix}…)")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        session.flush()
