"""Site administration: create, rename, domain and 1-5 sectors, deactivate (keeps data, hidden
from the selector, runs nothing), delete (name typed, no active run, data and media removed)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import select

from igny8_app import db as dbmod
from igny8_app.domain.errors import Conflict, Forbidden, NotFound, ValidationError
from igny8_app.models import AccountAudit, AutomationRun, Keyword, Sector, Site, SiteLock, User
from igny8_app.services.accounts import access as accounts
from igny8_app.services.automation import control as automation
from igny8_app.services.content import keywords
from igny8_app.services.accounts import sites
from igny8_app.settings import get_settings
from tests.factories import make_account, make_user


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
def w(db):
    with dbmod.write_session() as s:
        a = make_account(s, "Sites Co", credits=100_000)
        ids = {r: make_user(s, account="Sites Co", role=r, email=f"{r}@sites.example").id
               for r in ("owner", "admin", "editor")}
        ids["outsider"] = make_user(s, account="Else Co", email="x@else.example").id
        return a.id, ids


def _u(s, uid):
    return s.get(User, uid)


def _sectors(s, site_id):
    return s.exec(select(Sector.name).where(Sector.site_id == site_id).order_by(Sector.id)).all()


def test_create_and_edit_a_site_with_one_to_five_sectors(w) -> None:
    aid, ids = w
    with dbmod.write_session() as s:
        site = sites.add_site(session=s, actor=_u(s, ids["admin"]), account_id=aid, name="Garden",
                              domain="https://Garden.example.com/blog", sectors=sites.parse_sectors("Roses, Tools"))
        sid = site.id
        assert site.domain == "garden.example.com"
        with pytest.raises(ValidationError, match="1 to 5"):
            sites.update_site(session=s, actor=_u(s, ids["admin"]), site_id=sid, name="Garden", domain="g.example.com",
                              sectors=["a", "b", "c", "d", "e", "f"])
        with pytest.raises(ValidationError, match="1 to 5"):
            sites.update_site(session=s, actor=_u(s, ids["admin"]), site_id=sid, name="Garden", domain="g.example.com",
                              sectors=[" "])
        with pytest.raises(ValidationError, match="not a valid domain"):
            sites.update_site(session=s, actor=_u(s, ids["admin"]), site_id=sid, name="Garden", domain="nope",
                              sectors=["Roses"])
    with dbmod.write_session() as s:
        rose_id = s.exec(select(Sector.id).where(Sector.site_id == sid, Sector.name == "Roses")).one()
        sites.update_site(session=s, actor=_u(s, ids["owner"]), site_id=sid, name="Garden Pro",
                          domain="gardenpro.example.com", sectors=["Roses", "Soil", "Bulbs", "Trees", "Ponds"])
    with dbmod.read_session() as s:
        site = s.get(Site, sid)
        assert (site.name, site.domain) == ("Garden Pro", "gardenpro.example.com")
        assert _sectors(s, sid) == ["Roses", "Soil", "Bulbs", "Trees", "Ponds"]
        assert s.exec(select(Sector.id).where(Sector.site_id == sid, Sector.name == "Roses")).one() == rose_id
        audit = s.exec(select(AccountAudit.action, AccountAudit.detail).order_by(AccountAudit.id)).all()
    assert [a for a, _ in audit] == ["site_created", "site_updated"]
    assert "renamed from Garden" in audit[1][1] and "gardenpro.example.com" in audit[1][1]


def test_editors_and_outsiders_cannot_administer_sites(w) -> None:
    aid, ids = w
    with dbmod.write_session() as s:
        sid = sites.add_site(session=s, actor=_u(s, ids["owner"]), account_id=aid, name="S", domain="s.example.com",
                             sectors=["A"]).id
    with dbmod.write_session() as s:
        with pytest.raises(Forbidden):
            sites.add_site(session=s, actor=_u(s, ids["editor"]), account_id=aid, name="T", domain="t.example.com",
                           sectors=["A"])
        with pytest.raises(Forbidden):
            sites.set_site_active(session=s, actor=_u(s, ids["editor"]), site_id=sid, active=False)
        with pytest.raises(NotFound):
            sites.update_site(session=s, actor=_u(s, ids["outsider"]), site_id=sid, name="X", domain="x.example.com",
                              sectors=["A"])
        with pytest.raises(Forbidden):  # deleting is for owners only; an admin is refused
            sites.delete_site(session=s, actor=_u(s, ids["admin"]), site_id=sid, confirm_name="S")
    with dbmod.read_session() as s:
        assert s.get(Site, sid).is_active and s.get(Site, sid).name == "S"


def test_deactivated_site_keeps_its_data_is_hidden_and_runs_nothing(w, redis) -> None:
    aid, ids = w
    with dbmod.write_session() as s:
        sid = sites.add_site(session=s, actor=_u(s, ids["owner"]), account_id=aid, name="Quiet",
                             domain="quiet.example.com", sectors=["A"]).id
        keywords.add_keyword(session=s, site_id=sid, keyword="quiet garden ideas", volume=10)
    with dbmod.write_session() as s:
        sites.set_site_active(session=s, actor=_u(s, ids["admin"]), site_id=sid, active=False)
    with dbmod.read_session() as s:
        owner = _u(s, ids["owner"])
        assert [x.id for x in sites.sites_for_user(session=s, user=owner)] == []
        assert [x.id for x in sites.sites_for_user(session=s, user=owner, include_inactive=True)] == [sid]
        assert s.exec(select(sa.func.count()).select_from(Keyword).where(Keyword.site_id == sid)).one() == 1
    with pytest.raises(Conflict, match="deactivated"):
        automation.start_run(site_id=sid, enqueue=False)
    with dbmod.write_session() as s:  # positive control: reactivated, it runs again
        sites.set_site_active(session=s, actor=_u(s, ids["admin"]), site_id=sid, active=True)
    run = automation.start_run(site_id=sid, enqueue=False)
    assert run.site_id == sid


def test_delete_needs_the_name_and_no_active_run_and_removes_data_and_media(w, redis) -> None:
    aid, ids = w
    with dbmod.write_session() as s:
        sid = sites.add_site(session=s, actor=_u(s, ids["owner"]), account_id=aid, name="Doomed",
                             domain="doomed.example.com", sectors=["A"]).id
        keywords.add_keyword(session=s, site_id=sid, keyword="doomed garden ideas", volume=10)
        keep = sites.add_site(session=s, actor=_u(s, ids["owner"]), account_id=aid, name="Kept",
                              domain="kept.example.com", sectors=["A"]).id
    media = get_settings().media_dir / f"site_{sid}"
    media.mkdir(parents=True)
    (media / "image_1.png").write_bytes(b"png")
    other_media = get_settings().media_dir / f"site_{keep}"
    other_media.mkdir(parents=True)
    run = automation.start_run(site_id=sid, enqueue=False)
    run_dir = get_settings().runs_dir / run.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    with dbmod.write_session() as s:
        owner = _u(s, ids["owner"])
        with pytest.raises(ValidationError, match="exactly"):
            sites.delete_site(session=s, actor=owner, site_id=sid, confirm_name="doomed")
        with pytest.raises(Conflict, match="active run"):
            sites.delete_site(session=s, actor=owner, site_id=sid, confirm_name="Doomed")
        with pytest.raises(Conflict, match="active run"):
            sites.set_site_active(session=s, actor=owner, site_id=sid, active=False)
    automation.cancel_run(run_id=run.run_id)
    with dbmod.read_session() as s:
        assert s.get(SiteLock, sid) is None
    with pytest.raises(RuntimeError), dbmod.write_session() as s:  # rolled back: the files stay
        sites.delete_site(session=s, actor=_u(s, ids["owner"]), site_id=sid, confirm_name="Doomed")
        raise RuntimeError("the command fails after the delete")
    assert media.exists() and run_dir.exists()
    with dbmod.write_session() as s:
        sites.delete_site(session=s, actor=_u(s, ids["owner"]), site_id=sid, confirm_name="Doomed")
        assert media.exists()  # not before the commit
    assert not media.exists() and not run_dir.exists() and other_media.exists()
    with dbmod.read_session() as s:
        assert s.get(Site, sid) is None and s.get(Site, keep) is not None
        assert s.exec(select(sa.func.count()).select_from(Keyword).where(Keyword.site_id == sid)).one() == 0
        assert s.exec(select(sa.func.count()).select_from(AutomationRun).where(AutomationRun.site_id == sid)).one() == 0
        assert s.exec(select(AccountAudit.action).order_by(AccountAudit.id.desc())).first() == "site_deleted"
