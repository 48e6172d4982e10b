"""Sites and sectors, and the user's active site."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from igny8_app.domain.errors import ValidationError
from igny8_app.domain.roles import Permission
from igny8_app.models import AutomationConfig, Membership, Sector, Site, User
from igny8_app.services.accounts import authorize_site

MAX_SECTORS = 5
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_domain(domain: str) -> str:
    d = (domain or "").strip().lower()
    d = re.sub(r"^https?://", "", d).split("/")[0]
    if not _DOMAIN.fullmatch(d):
        raise ValidationError(f"'{domain}' is not a valid domain name (for example example.com).")
    return d


def create_site(*, session: Session, account_id: int, name: str, domain: str,
                sectors: list[str] | None = None) -> Site:
    name = (name or "").strip()
    if not name:
        raise ValidationError("A site needs a name.")
    if session.exec(select(Site).where(Site.account_id == account_id, Site.name == name)).first():
        raise ValidationError(f"This account already has a site named '{name}'.")
    sectors = [s.strip() for s in (sectors or ["General"]) if s and s.strip()]
    if not 1 <= len(sectors) <= MAX_SECTORS or len(set(sectors)) != len(sectors):
        raise ValidationError(f"A site needs 1 to {MAX_SECTORS} distinct sectors.")
    site = Site(account_id=account_id, name=name, domain=normalize_domain(domain))
    session.add(site)
    session.flush()
    for s in sectors:
        session.add(Sector(site_id=site.id, name=s))
    session.add(AutomationConfig(site_id=site.id))
    session.flush()
    return site


def sites_for_user(*, session: Session, user: User, include_inactive: bool = False) -> list[Site]:
    stmt = select(Site).join(Membership, Membership.account_id == Site.account_id).where(
        Membership.user_id == user.id
    )
    if not include_inactive:
        stmt = stmt.where(Site.is_active == True)  # noqa: E712
    return list(session.exec(stmt.order_by(Site.name, Site.id)).all())


def active_site(*, session: Session, user: User) -> Site | None:
    """The user's remembered site if they may still see it, else their first site."""
    sites = sites_for_user(session=session, user=user)
    for s in sites:
        if s.id == user.active_site_id:
            return s
    return sites[0] if sites else None


def set_active_site(*, session: Session, user: User, site_id: int) -> Site:
    site, _ = authorize_site(session=session, user=user, site_id=site_id, permission=Permission.READ)
    user.active_site_id = site.id
    session.add(user)
    session.flush()
    return site
