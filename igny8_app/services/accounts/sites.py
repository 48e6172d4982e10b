"""Sites and sectors, and the user's active site; site administration (create, edit, deactivate,
delete) for owners and admins, recorded in the account audit log.

A deactivated site keeps its data and runs nothing (``automation.start_run`` refuses it); it
is hidden from the site selector unless the user asks to see inactive sites. Deleting a site
needs its name typed as confirmation and no active run; its rows go with it (ON DELETE CASCADE)
and its media and run logs are removed from disk after the commit.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.db import on_commit
from igny8_app.domain.errors import Conflict, ValidationError
from igny8_app.domain.roles import Permission
from igny8_app.models import AutomationConfig, AutomationRun, Keyword, Membership, Sector, Site, SiteLock, User
from igny8_app.services.accounts.access import authorize_account, authorize_site
from igny8_app.settings import get_settings

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
    sectors = _clean_sectors(sectors or ["General"])
    site = Site(account_id=account_id, name=name, domain=normalize_domain(domain))
    session.add(site)
    session.flush()
    for s in sectors:
        session.add(Sector(site_id=site.id, name=s))
    session.add(AutomationConfig(site_id=site.id))
    session.flush()
    return site


def _clean_sectors(sectors: list[str]) -> list[str]:
    cleaned = [s.strip()[:120] for s in sectors if s and s.strip()]
    if not 1 <= len(cleaned) <= MAX_SECTORS or len({s.lower() for s in cleaned}) != len(cleaned):
        raise ValidationError(f"A site needs 1 to {MAX_SECTORS} distinct sectors.")
    return cleaned


def sites_for_user(*, session: Session, user: User, include_inactive: bool = False) -> list[Site]:
    stmt = select(Site).join(Membership, Membership.account_id == Site.account_id).where(
        Membership.user_id == user.id
    )
    if not include_inactive:
        stmt = stmt.where(Site.is_active == True)  # noqa: E712
    return list(session.exec(stmt.order_by(Site.name, Site.id)).all())


def active_site(*, session: Session, user: User, include_inactive: bool = False) -> Site | None:
    """The user's remembered site if they may still see it, else their first site."""
    sites = sites_for_user(session=session, user=user, include_inactive=include_inactive)
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


# --- administration (owners and admins) ------------------------------------------------------------

def parse_sectors(text: str) -> list[str]:
    """Sectors typed as one per line or comma-separated."""
    return [p for p in re.split(r"[,\n]", text or "") if p.strip()]


def list_account_sites(*, session: Session, account_id: int) -> list[dict[str, Any]]:
    sites = session.exec(select(Site).where(Site.account_id == account_id).order_by(Site.name, Site.id)).all()
    ids = [s.id for s in sites]
    sectors: dict[int, list[str]] = {i: [] for i in ids}
    for sid, name in session.exec(select(Sector.site_id, Sector.name).where(Sector.site_id.in_(ids))
                                  .order_by(Sector.id)).all():
        sectors[sid].append(name)
    locked = set(session.exec(select(SiteLock.site_id).where(SiteLock.site_id.in_(ids))).all())
    counts = dict(session.exec(select(Keyword.site_id, sa.func.count()).where(Keyword.site_id.in_(ids))
                               .group_by(Keyword.site_id)).all())
    return [{"id": s.id, "name": s.name, "domain": s.domain, "active": s.is_active, "sectors": sectors[s.id],
             "sectors_text": ", ".join(sectors[s.id]), "running": s.id in locked, "keywords": counts.get(s.id, 0),
             "created": s.created_at.strftime("%Y-%m-%d")} for s in sites]


def _audit(session: Session, actor: User, site: Site, action: str, detail: str = "") -> None:
    from igny8_app.services.accounts import audit

    audit.record(session=session, account_id=site.account_id, actor=actor, action=action, target=site.name,
                 detail=detail)


def add_site(*, session: Session, actor: User, account_id: int, name: str, domain: str,
             sectors: list[str]) -> Site:
    authorize_account(session=session, user=actor, account_id=account_id, permission=Permission.MANAGE)
    site = create_site(session=session, account_id=account_id, name=name, domain=domain, sectors=sectors)
    _audit(session, actor, site, "site_created", f"{site.domain}; sectors: {', '.join(_clean_sectors(sectors))}")
    return site


def update_site(*, session: Session, actor: User, site_id: int, name: str, domain: str, sectors: list[str]) -> Site:
    """Rename, change the domain and the 1-5 sectors (kept sectors keep their rows)."""
    site, _ = authorize_site(session=session, user=actor, site_id=site_id, permission=Permission.MANAGE)
    name = (name or "").strip()
    if not name:
        raise ValidationError("A site needs a name.")
    if session.exec(select(Site.id).where(Site.account_id == site.account_id, Site.name == name,
                                          Site.id != site.id)).first():
        raise ValidationError(f"This account already has a site named '{name}'.")
    domain = normalize_domain(domain)
    wanted = _clean_sectors(sectors)
    changes = []
    if name != site.name:
        changes.append(f"renamed from {site.name}")
    if domain != site.domain:
        changes.append(f"domain {site.domain} → {domain}")
    current = {s.name: s for s in session.exec(select(Sector).where(Sector.site_id == site.id)).all()}
    if set(current) != set(wanted):
        changes.append(f"sectors: {', '.join(wanted)}")
    for n, row in current.items():
        if n not in wanted:
            session.delete(row)
    session.flush()
    for n in wanted:
        if n not in current:
            session.add(Sector(site_id=site.id, name=n))
    site.name, site.domain = name, domain
    session.add(site)
    session.flush()
    if changes:
        _audit(session, actor, site, "site_updated", "; ".join(changes))
    return site


def _refuse_if_running(session: Session, site: Site, what: str) -> None:
    lock = session.exec(select(SiteLock).where(SiteLock.site_id == site.id).with_for_update()).one_or_none()
    if lock is not None:
        run = session.get(AutomationRun, lock.run_pk)
        raise Conflict(f"Site '{site.name}' has an active run ({run.run_id if run else '?'}): cancel it or let it "
                       f"finish before you {what} the site.")


def set_site_active(*, session: Session, actor: User, site_id: int, active: bool) -> Site:
    site, _ = authorize_site(session=session, user=actor, site_id=site_id, permission=Permission.MANAGE)
    if site.is_active == bool(active):
        return site
    if not active:
        _refuse_if_running(session, site, "deactivate")
    site.is_active = bool(active)
    session.add(site)
    session.flush()
    _audit(session, actor, site, "site_activated" if active else "site_deactivated")
    return site


def delete_site(*, session: Session, actor: User, site_id: int, confirm_name: str) -> list[Path]:
    """Delete a site and its data (owners only). Its folders (media, its runs' logs) are removed
    once the caller's transaction commits (``remove_files`` as an after-commit effect), never when
    it rolls back. Returns those folders."""
    site, _ = authorize_site(session=session, user=actor, site_id=site_id, permission=Permission.OWN)
    if (confirm_name or "").strip() != site.name:
        raise ValidationError(f"Type the site's name ({site.name}) exactly to confirm.")
    _refuse_if_running(session, site, "delete")
    settings = get_settings()
    run_ids = session.exec(select(AutomationRun.run_id).where(AutomationRun.site_id == site.id)).all()
    paths = [settings.media_dir / f"site_{site.id}", *[settings.runs_dir / r for r in run_ids if r]]
    _audit(session, actor, site, "site_deleted", site.domain)
    session.execute(sa.update(User).where(User.active_site_id == site.id).values(active_site_id=None))
    session.delete(site)
    session.flush()
    on_commit(session, lambda: remove_files(paths))
    return paths


def remove_files(paths: list[Path]) -> None:
    """Remove a deleted site's folders (only ones inside the data folder)."""
    root = get_settings().data_dir.resolve()
    for p in paths:
        p = p.resolve()
        if p != root and root in p.parents and p.exists():
            shutil.rmtree(p, ignore_errors=True)
