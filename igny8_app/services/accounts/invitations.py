"""Invitations to join an account: single-use, expiring links whose token is stored hashed.

The invitee opens ``/invite?token=…`` and either sets a password (new user) or confirms their
existing login's password (the invitation's email already has a user); either way they become a
member with the invited role and are signed in. An admin cannot invite an owner.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.db import on_commit, within
from igny8_app.domain.enums import Role
from igny8_app.domain.errors import Forbidden, NotFound, RateLimited, Unauthenticated, ValidationError
from igny8_app.domain.roles import Permission
from igny8_app.models import Account, Invitation, Membership, User, utcnow
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import audit
from igny8_app.services.accounts import throttle
from igny8_app.services.accounts.team import parse_role
from igny8_app.settings import get_settings

INVITATION_TTL = timedelta(days=7)
INVALID = "This invitation link is not valid. Ask the account's owner for a new one."


def accept_url(token: str) -> str:
    return f"{get_settings().public_url}/invite?" + urlencode({"token": token})


def create_invitation(*, session: Session, actor: User, account_id: int, email: str, role: str) -> tuple[Invitation, str]:
    """Invite ``email`` with ``role``; returns the row and the plain token (shown/sent once, never stored)."""
    access = accounts.authorize_account(session=session, user=actor, account_id=account_id,
                                        permission=Permission.MANAGE)
    new_role = parse_role(role)
    if new_role == Role.OWNER and access.role != Role.OWNER:
        raise Forbidden("Only an owner can invite an owner.")
    email = accounts.normalize_email(email)
    member = session.exec(select(Membership.id).join(User, User.id == Membership.user_id)
                          .where(Membership.account_id == account_id, User.email == email)).first()
    if member is not None:
        raise ValidationError(f"{email} is already a member of this account.")
    now = utcnow()
    # a new invitation replaces any earlier pending one for the same person
    session.execute(sa.update(Invitation).where(
        Invitation.account_id == account_id, Invitation.email == email, Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None)).values(revoked_at=now))
    token = secrets.token_urlsafe(32)
    inv = Invitation(account_id=account_id, email=email, role=new_role.value, token_hash=accounts.token_hash(token),
                     invited_by_id=actor.id, created_at=now, expires_at=now + INVITATION_TTL)
    session.add(inv)
    audit.record(session=session, account_id=account_id, actor=actor, action="invitation_sent", target=email,
                 detail=f"as {new_role.value}")
    session.flush()
    return inv, token


def list_pending(*, session: Session, account_id: int) -> list[dict[str, Any]]:
    now = utcnow()
    rows = session.exec(select(Invitation).where(
        Invitation.account_id == account_id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
        Invitation.expires_at > now).order_by(Invitation.created_at.desc())).all()
    return [{"id": r.id, "email": r.email, "role": r.role, "sent": r.created_at.strftime("%Y-%m-%d %H:%M"),
             "expires": r.expires_at.strftime("%Y-%m-%d %H:%M")} for r in rows]


def revoke_invitation(*, session: Session, actor: User, account_id: int, invitation_id: int) -> None:
    accounts.authorize_account(session=session, user=actor, account_id=account_id, permission=Permission.MANAGE)
    inv = session.get(Invitation, int(invitation_id))
    if inv is None or inv.account_id != account_id:
        raise NotFound("Invitation not found.")
    if inv.accepted_at is None and inv.revoked_at is None:
        inv.revoked_at = utcnow()
        session.add(inv)
        audit.record(session=session, account_id=account_id, actor=actor, action="invitation_revoked",
                     target=inv.email)
        session.flush()


def _usable(session: Session, token: str | None) -> Invitation:
    inv = session.exec(select(Invitation).where(
        Invitation.token_hash == accounts.token_hash(token or ""))).one_or_none() if token else None
    if inv is None or inv.revoked_at is not None:
        raise NotFound(INVALID)
    if inv.accepted_at is not None:
        raise ValidationError("This invitation has already been used. Sign in instead.")
    if inv.expires_at <= utcnow():
        raise ValidationError("This invitation has expired. Ask the account's owner for a new one.")
    return inv


def describe(*, session: Session, token: str | None) -> dict[str, Any]:
    """What the accept page shows: the account, email and role, and whether the email has a login."""
    inv = _usable(session, token)
    account = session.get(Account, inv.account_id)
    has_user = session.exec(select(User.id).where(User.email == inv.email)).first() is not None
    return {"account": account.name if account else "", "email": inv.email, "role": inv.role,
            "existing_user": has_user}


def accept_in(*, session: Session, token: str | None, password: str, full_name: str | None = None) -> User:
    """Accept in the caller's transaction: set a password (new user) or prove the existing login.
    The invitation is claimed with a conditional UPDATE, so it is used at most once."""
    inv = _usable(session, token)
    user = session.exec(select(User).where(User.email == inv.email)).one_or_none()
    if user is None:
        user = accounts.create_user(session=session, email=inv.email, password=password,
                                    full_name=(full_name or "").strip() or None)
    elif not user.is_active or not accounts.verify_password(user.password_hash, password or ""):
        raise Unauthenticated("Wrong password for " + inv.email + ".")
    claimed = session.execute(sa.update(Invitation).where(
        Invitation.id == inv.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
    ).values(accepted_at=utcnow(), accepted_user_id=user.id))
    if claimed.rowcount != 1:
        raise ValidationError("This invitation has already been used. Sign in instead.")
    already = session.exec(select(Membership.id).where(Membership.user_id == user.id,
                                                       Membership.account_id == inv.account_id)).first()
    if already is None:  # joined meanwhile (e.g. by another invitation): keep the role they have
        accounts.add_membership(session=session, user_id=user.id, account_id=inv.account_id, role=inv.role)
    audit.record(session=session, account_id=inv.account_id, actor=user, action="invitation_accepted",
                 target=user.email, detail=f"as {inv.role}")
    session.flush()
    return user


def accept(*, token: str | None, password: str, full_name: str | None = None, ip: str,
           session: Session | None = None) -> str:
    """The accept page's use case: accept and sign in. Returns a new session token. Wrong
    passwords for an existing login count towards the same throttle as the login form; the
    attempt is refunded once the acceptance has committed."""
    with within(session) as s:
        email = _usable(s, token).email
        attempt = throttle.begin(email, ip)  # counted before the password is checked
        if attempt.wait_s:
            raise RateLimited(throttle.refused_message(attempt.wait_s))
        try:
            user = accept_in(session=s, token=token, password=password, full_name=full_name)
            session_token = accounts.open_session(session=s, user=user)
            on_commit(s, lambda: throttle.refund(attempt))
        except Unauthenticated:
            raise  # a wrong password for an existing login stays counted for the window
        except Exception:
            throttle.refund(attempt, clear_email=False)  # e.g. a too-short new password: not a guess
            raise
    return session_token
