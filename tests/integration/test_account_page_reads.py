"""Account-level page loads (``_authorize(site=False)``: account, notifications, sites, tokens, the
System and admin pages; ``Permission.MANAGE``: billing, team, AI settings) are reads too: they take no write lock (on SQLite no ``BEGIN IMMEDIATE``)
and write nothing, like the site pages' READ loads (tests/integration/test_page_reads.py). The real
handlers run on a stand-in for the Reflex state."""

from __future__ import annotations

import types
from types import SimpleNamespace

import pytest

from igny8_app import db as dbmod
from igny8_app.domain.enums import CostUnit, OperationType, Role
from igny8_app.pages.account.state import AccountState
from igny8_app.pages.ai_settings.state import AISettingsState
from igny8_app.pages.billing.state import BillingState
from igny8_app.pages.admin.state import (AdminAccountsState, AdminCostsState, AdminInvoicesState, AdminPackagesState,
                                         AdminPaymentsState)
from igny8_app.pages.notifications.state import NotificationsState
from igny8_app.pages.sites.state import SitesAdminState
from igny8_app.pages.team.state import TeamState
from igny8_app.pages.system.state import SystemState
from igny8_app.pages.tokens.state import TokensState
from igny8_app.services.accounts import access as accounts
from tests.factories import make_account, make_site, make_user
from tests.integration.test_page_reads import _writes, transactions  # noqa: F401 - the fixture

LOADS = [(AccountState, "load_account"), (NotificationsState, "load_notifications"),
         (SitesAdminState, "load_sites"), (TokensState, "load_tokens"),
         *((BillingState, h) for h in ("load_overview", "load_usage", "load_invoices", "load_payments",
                                       "load_settings")),
         (TeamState, "load_team"), (AISettingsState, "load_ai_settings")]
ADMIN_LOADS = [(AdminCostsState, "load_costs"), (AdminCostsState, "refresh_preview"),
               (AdminAccountsState, "load_accounts"), (AdminPaymentsState, "load_payments"),
               (AdminInvoicesState, "load_invoices"), (AdminPackagesState, "load_packages")]


@pytest.fixture
def people(db):
    """An account owner and a platform superuser, each signed in, the owner's site active."""
    with dbmod.write_session() as s:
        account = make_account(s, credits=100)
        owner = make_user(s, account=account.name, role=Role.OWNER)
        admin = make_user(s, superuser=True)
        site = make_site(s, account)
        return SimpleNamespace(site_id=site.id, account_id=account.id,
                               owner=accounts.open_session(session=s, user=owner),
                               admin=accounts.open_session(session=s, user=admin))


def _page(cls: type, token: str, site_id: int) -> SimpleNamespace:
    """The state's own methods on plain attributes (what the handler reads starts from the class
    defaults)."""
    page = SimpleNamespace(active_site_id=site_id, show_inactive=False, authenticated=True, error="",
                           router=SimpleNamespace(page=SimpleNamespace(path="/", params={})))
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if name.startswith("_") and not name.startswith("__") and isinstance(value, types.FunctionType):
                setattr(page, name, types.MethodType(value, page))
    for name, field in cls.get_fields().items():
        if not hasattr(page, name) and not name.startswith("rx_router"):
            setattr(page, name, field.default_value())
    page._session_token = lambda: token
    return page


def _load(cls: type, handler: str, token: str, site_id: int):
    page = _page(cls, token, site_id)
    if handler == "refresh_preview":  # the price preview of an edit in progress
        page.e_op, page.e_cost, page.e_unit, page.e_min = OperationType.IDEAS.value, "3", CostUnit.PER_ITEM.value, "0"
    out = getattr(cls, handler).fn(page)
    assert not getattr(page, "error", ""), page.error
    assert not (getattr(page, "preview", None) or {}).get("error"), page.preview
    for denied in ("sites_denied", "admin_denied", "denied", "billing_denied", "team_denied", "ai_denied"):
        assert not getattr(page, denied, ""), (denied, getattr(page, denied))
    return out


@pytest.mark.parametrize(("cls", "handler"), LOADS, ids=[f"{c.__name__}.{h}" for c, h in LOADS])
def test_an_account_page_load_takes_no_write_lock(people, transactions, cls, handler) -> None:  # noqa: F811
    transactions.clear()
    _load(cls, handler, people.owner, people.site_id)
    assert transactions, "the page read nothing?"
    assert _writes(transactions) == []


@pytest.mark.parametrize(("cls", "handler"), ADMIN_LOADS, ids=[f"{c.__name__}.{h}" for c, h in ADMIN_LOADS])
def test_an_admin_page_load_takes_no_write_lock(people, transactions, cls, handler) -> None:  # noqa: F811
    transactions.clear()
    _load(cls, handler, people.admin, people.site_id)
    assert transactions, "the page read nothing?"
    assert _writes(transactions) == []


def test_the_system_page_load_takes_no_write_lock(people, transactions, redis) -> None:  # noqa: F811
    transactions.clear()
    _load(SystemState, "load_system", people.admin, people.site_id)
    _load(SystemState, "refresh", people.admin, people.site_id)
    assert transactions, "the page read nothing?"
    assert _writes(transactions) == []
