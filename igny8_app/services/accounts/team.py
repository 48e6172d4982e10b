"""An account's team: members with their role and last login, role changes and removals.

Guard rails, enforced here (the UI only mirrors them):
* only owners may grant the owner role or change/remove an owner (an admin cannot make anyone owner);
* the last owner can be neither demoted nor removed. The account's owner memberships are locked
  (SELECT ... FOR UPDATE on PostgreSQL; SQLite write transactions are serial) so two owners
  demoting each other at the same moment cannot leave the account without one.
Every change is recorded in the account audit log in the same transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.domain.enums import Role
from igny8_app.domain.errors import Conflict, Forbidden, NotFound, ValidationError
from igny8_app.domain.roles import Permission
from igny8_app.models import Membership, Site, User
from igny8_app.services.accounts import audit
from igny8_app.services.accounts.access import AccountAccess, authorize_account

ROLES = [r.value for r in (Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.OWNER)]


def parse_role(value: str) -> Role:
    try:
        return Role(str(value or "").strip().lower())
    except ValueError:
        raise ValidationError(f"'{value}' is not a role (choose one of {', '.join(ROLES)}).") from None


def list_members(*, session: Session, account_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(User, Membership).join(Membership, Membership.user_id == User.id)
        .where(Membership.account_id == account_id).order_by(User.email)
    ).all()
    return [{"user_id": u.id, "email": u.email, "name": u.full_name or "", "role": m.role,
             "last_login": u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never",
             "joined": m.created_at.strftime("%Y-%m-%d")} for u, m in rows]


def _owner_ids(session: Session, account_id: int) -> list[int]:
    """The account's owners, with their membership rows locked until the transaction ends."""
    return list(session.exec(
        select(Membership.user_id).where(Membership.account_id == account_id, Membership.role == Role.OWNER.value)
        .order_by(Membership.id).with_for_update()
    ).all())


def _member(session: Session, account_id: int, user_id: int) -> tuple[Membership, User]:
    row = session.exec(
        select(Membership, User).join(User, User.id == Membership.user_id)
        .where(Membership.account_id == account_id, Membership.user_id == user_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise NotFound("This person is not a member of the account.")
    return row


def _require_owner(access: AccountAccess, message: str) -> None:
    if access.role != Role.OWNER:
        raise Forbidden(message)


def change_role(*, session: Session, actor: User, account_id: int, user_id: int, role: str) -> Membership:
    access = authorize_account(session=session, user=actor, account_id=account_id, permission=Permission.MANAGE)
    new = parse_role(role)
    owners = _owner_ids(session, account_id)
    m, member = _member(session, account_id, int(user_id))
    old = Role(m.role)
    if new == Role.OWNER:
        _require_owner(access, "Only an owner can make someone an owner.")
    if old == Role.OWNER:
        _require_owner(access, "Only an owner can change an owner's role.")
        if new != Role.OWNER and owners == [m.user_id]:
            raise Conflict("The last owner cannot be demoted: make someone else owner first.")
    if new == old:
        return m
    m.role = new.value
    session.add(m)
    audit.record(session=session, account_id=account_id, actor=actor, action="role_changed", target=member.email,
                 detail=f"{old.value} → {new.value}")
    session.flush()
    return m


def remove_member(*, session: Session, actor: User, account_id: int, user_id: int) -> None:
    access = authorize_account(session=session, user=actor, account_id=account_id, permission=Permission.MANAGE)
    owners = _owner_ids(session, account_id)
    m, member = _member(session, account_id, int(user_id))
    if m.role == Role.OWNER.value:
        _require_owner(access, "Only an owner can remove an owner.")
        if owners == [m.user_id]:
            raise Conflict("The last owner cannot be removed: make someone else owner first.")
    role = m.role
    session.delete(m)
    # the removed user's remembered site may be one of this account's: forget it
    session.execute(sa.update(User).where(
        User.id == member.id, User.active_site_id.in_(select(Site.id).where(Site.account_id == account_id))
    ).values(active_site_id=None))
    audit.record(session=session, account_id=account_id, actor=actor, action="member_removed", target=member.email,
                 detail=f"was {role}")
    session.flush()
