"""Passwords: change (ends the user's other sessions), reset by an emailed single-use expiring link,
and a reset forced by an account owner or a platform admin.

Reset links carry a 256-bit token; only its SHA-256 is stored. A link is claimed with a
conditional UPDATE, so it works once even under concurrent use. Setting a password through a link
ends every session of the user and every other open link.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.db import on_commit, within
from igny8_app.domain.errors import Forbidden, NotFound, Unauthenticated, ValidationError
from igny8_app.domain.roles import Permission
from igny8_app.models import Membership, PasswordReset, User, UserSession, utcnow
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import audit
from igny8_app.services.notifications import mail as mailer
from igny8_app.services.accounts import throttle

RESET_TTL = timedelta(minutes=60)
MAX_RESETS_PER_HOUR = 5  # requests per user; more are silently dropped (no email flood)
INVALID_LINK = "This password-reset link is not valid or was already used. Ask for a new one."


def reset_url(token: str) -> str:
    from igny8_app.settings import get_settings

    return f"{get_settings().public_url}/reset?" + urlencode({"token": token})


def _end_sessions(session: Session, user_id: int, *, keep_token: str | None = None) -> int:
    stmt = sa.update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep_token:
        stmt = stmt.where(UserSession.token_hash != accounts.token_hash(keep_token))
    return session.execute(stmt.values(revoked_at=utcnow())).rowcount


def _close_links(session: Session, user_id: int) -> None:
    session.execute(sa.update(PasswordReset).where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
                    .values(used_at=utcnow()))


def change_password(*, session: Session, user: User, current_password: str, new_password: str,
                    keep_session_token: str | None) -> int:
    """Change the password after checking the current one; ends every other session of the user.
    Returns how many sessions were ended."""
    if not accounts.verify_password(user.password_hash, current_password or ""):
        raise ValidationError("Your current password is not correct.")
    if current_password == new_password:
        raise ValidationError("The new password must differ from the current one.")
    accounts._validate_password(new_password)
    user.password_hash = accounts.hash_password(new_password)
    session.add(user)
    _close_links(session, user.id)
    ended = _end_sessions(session, user.id, keep_token=keep_session_token)
    session.flush()
    return ended


def _new_link(session: Session, user: User, forced_by: User | None = None) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(PasswordReset(user_id=user.id, token_hash=accounts.token_hash(token), created_at=now,
                              expires_at=now + RESET_TTL, forced_by_id=forced_by.id if forced_by else None))
    session.flush()
    return token


def request_reset(*, email: str, session: Session | None = None) -> None:
    """'Forgot password': email a link when the address has a login. Says nothing either way (the
    page shows the same message), and never sends more than MAX_RESETS_PER_HOUR per user."""
    try:
        email = accounts.normalize_email(email)
    except ValidationError:
        return
    with within(session) as s:
        user = s.exec(select(User).where(User.email == email)).one_or_none()
        if user is None or not user.is_active:
            return
        recent = s.exec(select(sa.func.count()).select_from(PasswordReset).where(
            PasswordReset.user_id == user.id, PasswordReset.created_at > utcnow() - timedelta(hours=1))).one()
        if recent >= MAX_RESETS_PER_HOUR:
            return
        token = _new_link(s, user)
        on_commit(s, lambda: mailer.send_password_reset(email=email, link=reset_url(token), forced=False,
                                                        ttl_minutes=int(RESET_TTL.total_seconds() // 60)))


def _authorize_force(session: Session, actor: User, user_id: int, account_id: int | None) -> tuple[User, list[int]]:
    """The user whose password an owner (of ``account_id``) or a platform admin may reset, and
    the accounts whose audit logs record it."""
    if account_id is not None:
        accounts.authorize_account(session=session, user=actor, account_id=account_id, permission=Permission.OWN)
        member = session.exec(select(Membership.id).where(Membership.account_id == account_id,
                                                          Membership.user_id == int(user_id))).first()
        if member is None:
            raise NotFound("This person is not a member of the account.")
        audit_accounts = [account_id]
    else:
        if not actor.is_superuser:
            raise Forbidden("Only a platform admin can force a reset outside an account.")
        audit_accounts = list(session.exec(select(Membership.account_id).where(Membership.user_id == int(user_id))))
    target = session.get(User, int(user_id))
    if target is None:
        raise NotFound("User not found.")
    return target, audit_accounts


def _replace_password(session: Session, actor: User, target: User, audit_accounts: list[int], password: str) -> None:
    target.password_hash = accounts.hash_password(password)
    session.add(target)
    _close_links(session, target.id)
    _end_sessions(session, target.id)
    for aid in audit_accounts:
        audit.record(session=session, account_id=aid, actor=actor, action="password_reset_forced",
                     target=target.email)


def force_reset(*, session: Session, actor: User, user_id: int, account_id: int | None = None) -> str:
    """An owner (of ``account_id``, which the user belongs to) or a platform admin (any user; no
    account needed) forces a reset: the old password stops working, every session ends, and a new
    link is returned (emailed by ``email_forced_reset``; shown once to the actor when email is off).
    Recorded in the audit log of the account(s) concerned."""
    target, audit_accounts = _authorize_force(session, actor, user_id, account_id)
    _replace_password(session, actor, target, audit_accounts, secrets.token_urlsafe(32))  # nobody knows it
    return _new_link(session, target, forced_by=actor)


def force_new_password(*, session: Session, actor: User, user_id: int) -> str:
    """A platform admin (from the command line) gives a user a new random password and is shown it
    once: the way back into a superuser whose password nobody has (the demo's is printed only when
    it is created). The old password stops working and every session ends, as with a forced reset."""
    target, audit_accounts = _authorize_force(session, actor, user_id, None)
    password = secrets.token_urlsafe(18)
    _replace_password(session, actor, target, audit_accounts, password)
    session.flush()
    return password


def email_forced_reset(*, email: str, token: str) -> bool:
    return mailer.send_password_reset(email=email, link=reset_url(token), forced=True,
                                      ttl_minutes=int(RESET_TTL.total_seconds() // 60))


def _usable(session: Session, token: str | None) -> PasswordReset:
    row = session.exec(select(PasswordReset).where(
        PasswordReset.token_hash == accounts.token_hash(token or ""))).one_or_none() if token else None
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise NotFound(INVALID_LINK)
    return row


def reset_email(*, session: Session, token: str | None) -> str:
    """The email a link belongs to (for the reset page), or NotFound."""
    row = _usable(session, token)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise NotFound(INVALID_LINK)
    return user.email


def complete_reset(*, token: str | None, new_password: str, session: Session | None = None) -> str:
    """Set the new password through a link (once), end all the user's sessions and other links,
    and sign them in: returns a new session token."""
    accounts._validate_password(new_password)
    with within(session) as s:
        row = _usable(s, token)
        claimed = s.execute(sa.update(PasswordReset).where(PasswordReset.id == row.id, PasswordReset.used_at.is_(None))
                            .values(used_at=utcnow()))
        if claimed.rowcount != 1:
            raise NotFound(INVALID_LINK)
        user = s.get(User, row.user_id)
        if user is None or not user.is_active:
            raise Unauthenticated(INVALID_LINK)
        user.password_hash = accounts.hash_password(new_password)
        s.add(user)
        _close_links(s, user.id)
        _end_sessions(s, user.id)
        email = user.email
        session_token = accounts.open_session(session=s, user=user)
        on_commit(s, lambda: throttle.clear(email))  # a fresh password starts with a clean failed-login count
    return session_token
