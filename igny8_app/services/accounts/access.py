"""Accounts, users, memberships, logins, API tokens, and the server-side authorisation guards.

Passwords are hashed with argon2 (argon2-cffi). Session and API tokens are 256-bit random
strings; only their SHA-256 is stored, so a database leak gives no usable token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, select

from igny8_app.domain.enums import Role
from igny8_app.domain.errors import Forbidden, NotFound, Unauthenticated, ValidationError
from igny8_app.domain.roles import Permission, role_allows
from igny8_app.models import Account, ApiToken, Membership, Site, User, UserSession, utcnow
from igny8_app.settings import get_settings

_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
API_TOKEN_PREFIX = "igny8_"
# A real hash to verify against when the user does not exist, so timing does not reveal emails.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.fullmatch(email):
        raise ValidationError(f"'{email}' is not a valid email address.")
    return email


def _validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")


# --- accounts and users -------------------------------------------------------------------------

def get_account_by_name(*, session: Session, name: str) -> Account:
    account = session.exec(select(Account).where(Account.name == name)).one_or_none()
    if account is None:
        raise NotFound(f"No account is named '{name}'.")
    return account


def get_or_create_account(*, session: Session, name: str) -> tuple[Account, bool]:
    name = (name or "").strip()
    if not name:
        raise ValidationError("An account needs a name.")
    account = session.exec(select(Account).where(Account.name == name)).one_or_none()
    if account is not None:
        return account, False
    account = Account(name=name)
    session.add(account)
    session.flush()
    return account, True


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    account_name: str | None = None,
    role: Role | str = Role.OWNER,
    is_superuser: bool = False,
    full_name: str | None = None,
) -> User:
    """Create a user; with ``account_name``, also a membership (creating the account if needed)."""
    email = normalize_email(email)
    _validate_password(password)
    role = Role(role)
    if session.exec(select(User).where(User.email == email)).one_or_none() is not None:
        raise ValidationError(f"A user with email {email} already exists.")
    user = User(email=email, password_hash=hash_password(password), is_superuser=is_superuser,
                full_name=full_name)
    session.add(user)
    session.flush()
    if account_name:
        account, _ = get_or_create_account(session=session, name=account_name)
        session.add(Membership(user_id=user.id, account_id=account.id, role=role.value))
        session.flush()
    return user


def add_membership(*, session: Session, user_id: int, account_id: int, role: Role | str) -> Membership:
    role = Role(role)
    existing = session.exec(
        select(Membership).where(Membership.user_id == user_id, Membership.account_id == account_id)
    ).one_or_none()
    if existing is not None:
        existing.role = role.value
        session.add(existing)
        return existing
    m = Membership(user_id=user_id, account_id=account_id, role=role.value)
    session.add(m)
    session.flush()
    return m


# --- login sessions -----------------------------------------------------------------------------

def login(*, session: Session, email: str, password: str) -> tuple[User, str]:
    """Check the password and open a browser session. Returns the user and the plain token."""
    try:
        email = normalize_email(email)
    except ValidationError:
        raise Unauthenticated("Wrong email or password.") from None
    user = session.exec(select(User).where(User.email == email)).one_or_none()
    if user is None:
        verify_password(_DUMMY_HASH, password or "")
        raise Unauthenticated("Wrong email or password.")
    if not verify_password(user.password_hash, password or "") or not user.is_active:
        raise Unauthenticated("Wrong email or password.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user, open_session(session=session, user=user)


def open_session(*, session: Session, user: User) -> str:
    """Open a browser session for a user whose identity is already proven; returns the plain token."""
    settings = get_settings()
    now = utcnow()
    token = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user.id, token_hash=token_hash(token), created_at=now, last_seen_at=now,
                            expires_at=now + timedelta(hours=settings.session_lifetime_hours)))
    user.last_login_at = now
    session.add(user)
    session.flush()
    return token


def authenticate(*, session: Session, token: str | None) -> tuple[User, bool]:
    """The user behind a browser session token, or Unauthenticated (idle and lifetime limits are
    enforced), and whether the session's ``last_seen_at`` is due a touch (``touch_session``). A read."""
    if not token:
        raise Unauthenticated("Please log in.")
    row = session.exec(select(UserSession).where(UserSession.token_hash == token_hash(token))).one_or_none()
    now = utcnow()
    settings = get_settings()
    if (
        row is None
        or row.revoked_at is not None
        or row.expires_at <= now
        or row.last_seen_at + timedelta(minutes=settings.session_idle_minutes) <= now
    ):
        raise Unauthenticated("Your session has expired. Please log in again.")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("Please log in.")
    return user, now - row.last_seen_at > SESSION_TOUCH_INTERVAL


def touch_session(*, session: Session, token: str) -> bool:
    """Stamp the session's last use, at most once per ``SESSION_TOUCH_INTERVAL``: the update is
    conditional, so of several requests at once only one writes. True when it wrote."""
    now = utcnow()
    return session.execute(sa.update(UserSession).where(
        UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None),
        UserSession.last_seen_at < now - SESSION_TOUCH_INTERVAL).values(last_seen_at=now)).rowcount > 0


def resolve_session(*, session: Session, token: str | None, touch: bool = True) -> User:
    """``authenticate`` plus, with ``touch``, the (throttled) touch in the caller's transaction.
    ``touch=False`` only checks (a read; the session's last_seen_at stays as it is)."""
    user, due = authenticate(session=session, token=token)
    if touch and due:
        touch_session(session=session, token=token)
    return user


def logout(*, session: Session, token: str | None) -> None:
    if not token:
        return
    session.execute(
        sa.update(UserSession).where(UserSession.token_hash == token_hash(token)).values(revoked_at=utcnow())
    )


# --- API tokens ---------------------------------------------------------------------------------

def create_api_token(*, session: Session, user_id: int, name: str = "API token") -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned once and never stored."""
    plain = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user_id, name=(name or "API token").strip()[:120], token_hash=token_hash(plain),
                   prefix=plain[: len(API_TOKEN_PREFIX) + 4])
    session.add(row)
    session.flush()
    return row, plain


def authenticate_api_token(*, session: Session, token: str | None) -> tuple[User, bool]:
    """The user behind an API token, or Unauthenticated; and whether its ``last_used_at`` is due a
    touch (``touch_api_token``). A read."""
    if not token:
        raise Unauthenticated("An API token is required: send 'Authorization: Bearer <token>'.")
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).one_or_none()
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("This API token is not valid.")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("This API token is not valid.")
    return user, row.last_used_at is None or utcnow() - row.last_used_at > SESSION_TOUCH_INTERVAL


def touch_api_token(*, session: Session, token: str) -> bool:
    """Stamp the token's last use, at most once per ``SESSION_TOUCH_INTERVAL`` (a conditional update)."""
    now = utcnow()
    return session.execute(sa.update(ApiToken).where(
        ApiToken.token_hash == token_hash(token),
        sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - SESSION_TOUCH_INTERVAL))
        .values(last_used_at=now)).rowcount > 0


def resolve_api_token(*, session: Session, token: str | None) -> User:
    """``authenticate_api_token`` plus the (throttled) touch in the caller's transaction."""
    user, due = authenticate_api_token(session=session, token=token)
    if due:
        touch_api_token(session=session, token=token)
    return user


# --- authorisation ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountAccess:
    account_id: int
    role: Role
    is_superuser: bool


def role_in_account(*, session: Session, user: User, account_id: int) -> Role | None:
    m = session.exec(
        select(Membership).where(Membership.user_id == user.id, Membership.account_id == account_id)
    ).one_or_none()
    return Role(m.role) if m else None


def authorize_account(*, session: Session, user: User, account_id: int, permission: Permission) -> AccountAccess:
    """Raise NotFound when the user has no access to the account at all (nothing leaks), and
    Forbidden when their role may not do ``permission``. Superusers may do everything."""
    role = role_in_account(session=session, user=user, account_id=account_id)
    if user.is_superuser:
        return AccountAccess(account_id, role or Role.OWNER, True)
    if role is None:
        raise NotFound("Not found.")
    if not role_allows(role, permission):
        raise Forbidden(f"Your role ({role.value}) may not do this.")
    return AccountAccess(account_id, role, False)


def authorize_site(*, session: Session, user: User, site_id: int, permission: Permission) -> tuple[Site, AccountAccess]:
    site = session.get(Site, site_id) if site_id else None
    if site is None:
        raise NotFound("Site not found.")
    try:
        access = authorize_account(session=session, user=user, account_id=site.account_id, permission=permission)
    except NotFound:
        raise NotFound("Site not found.") from None
    return site, access


def user_accounts(*, session: Session, user: User) -> list[tuple[Account, Role]]:
    rows = session.exec(
        select(Account, Membership.role).join(Membership, Membership.account_id == Account.id)
        .where(Membership.user_id == user.id).order_by(Account.name)
    ).all()
    return [(a, Role(r)) for a, r in rows]
