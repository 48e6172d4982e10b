"""Shared session state: who is logged in, their sites and the active site.

Every page state subclasses ``SessionState`` and authorises each handler on the server with
``self._authorize(...)``: the user comes from the HttpOnly session cookie in the websocket
handshake headers (never from anything the client sends in an event), and the role check runs
against the database on every call.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import reflex as rx
from sqlmodel import Session

from igny8_app.components import hard_navigate
from igny8_app.api.common import session_token_from_cookie_header
from igny8_app.user_scope import user_scope
from igny8_app.domain.errors import DomainError, Forbidden, Unauthenticated
from igny8_app.domain.roles import Permission, role_allows
from igny8_app.models import Account, Site, User
from igny8_app.services.accounts import access as accounts
from igny8_app.services.notifications import inbox as notifications
from igny8_app.services.accounts import signin
from igny8_app.services.accounts import sites

# Page loaders re-run after the active site changes: route -> event handler (registered by pages).
PAGE_LOADERS: dict[str, Callable[[], Any]] = {}


@dataclass
class Ctx:
    session: Session
    user: User
    site: Site | None
    role: str


class SessionState(rx.State):
    authenticated: bool = False
    user_email: str = ""
    user_name: str = ""
    is_superuser: bool = False
    sites: list[dict[str, Any]] = []
    active_site_id: int = 0
    active_site_name: str = ""
    active_account_name: str = ""
    active_role: str = ""
    balance: int = 0
    error: str = ""
    show_inactive: bool = False  # list deactivated sites in the site selector too
    unread: int = 0  # unread notifications (header bell)

    # --- server-side guard ----------------------------------------------------------------------

    def _session_token(self) -> str | None:
        return session_token_from_cookie_header(self.router.headers.cookie)

    @contextmanager
    def _authorize(self, permission: Permission = Permission.READ, *, site: bool = True, write: bool | None = None):
        """Open the handler's unit of work and check the caller. Yields a Ctx; raises DomainError on refusal.

        With ``site=True`` the active site is resolved and the user's role in its account must
        allow ``permission``; without it, only a logged-in user is required. A READ on the active
        site is a read (``user_scope``: no write lock, the session touch in its own short write);
        anything else is one write transaction, unless ``write`` says otherwise.
        """
        if write is None:
            write = not (site and permission is Permission.READ)
        with user_scope(self._session_token(), write=write) as (s, user):
            site_row = None
            role = ""
            if site:
                site_row, access = accounts.authorize_site(session=s, user=user, site_id=self.active_site_id,
                                                           permission=permission)
                role = access.role.value
            yield Ctx(session=s, user=user, site=site_row, role=role)

    @contextmanager
    def _superuser(self, what: str = "this page", *, write: bool = True):
        """``_authorize`` for the platform admin pages: a logged-in, active superuser, else Forbidden.
        ``write=False`` for a handler that only reads (no write lock)."""
        with self._authorize(site=False, write=write) as ctx:
            if not ctx.user.is_superuser:
                raise Forbidden(f"Only platform admins can see {what}.")
            yield ctx

    def _fail(self, exc: DomainError):
        """Turn a refusal into what the user sees (and a redirect when logged out)."""
        if isinstance(exc, Unauthenticated):
            self.authenticated = False
            return rx.redirect("/login")
        self.error = exc.message
        return rx.toast.error(exc.message, duration=6000)

    # --- loading --------------------------------------------------------------------------------

    def _fill(self, s: Session, user: User) -> None:
        self.authenticated = True
        self.user_email = user.email
        self.user_name = user.full_name or user.email
        self.is_superuser = user.is_superuser
        self.unread = notifications.unread_count(session=s, user_id=user.id)
        site_rows = sites.sites_for_user(session=s, user=user, include_inactive=self.show_inactive)
        account_names = {a.id: a.name for a, _ in accounts.user_accounts(session=s, user=user)}
        self.sites = [{"id": x.id, "value": str(x.id), "name": x.name, "domain": x.domain,
                       "account": account_names.get(x.account_id, ""),
                       "label": f"{x.name} · {x.domain}" + ("" if x.is_active else " (inactive)")}
                      for x in site_rows]
        current = sites.active_site(session=s, user=user, include_inactive=self.show_inactive)
        if current is None:
            self.active_site_id, self.active_site_name, self.active_role = 0, "", ""
            self.active_account_name, self.balance = "", 0
            return
        self.active_site_id = current.id
        self.active_site_name = current.name
        account = s.get(Account, current.account_id)
        self.active_account_name = account.name if account else ""
        self.balance = account.credits if account else 0
        role = accounts.role_in_account(session=s, user=user, account_id=current.account_id)
        self.active_role = role.value if role else ("owner" if user.is_superuser else "")

    @rx.event
    def load_session(self):
        """on_load of every protected page: resolve the user or send them to the login page."""
        self.error = ""
        try:
            with user_scope(self._session_token(), write=False) as (s, user):
                self._fill(s, user)
        except Unauthenticated:
            self.authenticated = False
            path = self.router.page.raw_path or self.router.page.path or "/"  # /content/12, not its route
            return rx.redirect(f"/login?next={quote(path, safe='/')}")

    @rx.event
    def log_out(self):
        """Revoke this browser's session on the server, then let /auth/logout drop the cookie."""
        signin.sign_out(token=self._session_token())
        self.authenticated = False
        return hard_navigate("/auth/logout")

    @rx.event
    def select_site(self, site_id: str):
        try:
            with user_scope(self._session_token(), write=True) as (s, user):
                sites.set_active_site(session=s, user=user, site_id=int(site_id))
                self._fill(s, user)
        except (DomainError, ValueError) as exc:
            return self._fail(exc if isinstance(exc, DomainError) else DomainError("Unknown site."))
        loader = PAGE_LOADERS.get(self.router.page.path)
        return loader() if loader else None

    @rx.event
    def set_show_inactive(self, value: bool):
        self.show_inactive = bool(value)
        try:
            with user_scope(self._session_token(), write=False) as (s, user):
                self._fill(s, user)
        except DomainError as exc:
            return self._fail(exc)
        loader = PAGE_LOADERS.get(self.router.page.path)
        return loader() if loader else None

    # --- derived --------------------------------------------------------------------------------

    @rx.var
    def can_run(self) -> bool:
        return bool(self.active_role) and role_allows(self.active_role, Permission.RUN)

    @rx.var
    def can_manage(self) -> bool:
        return bool(self.active_role) and role_allows(self.active_role, Permission.MANAGE)

    @rx.var
    def balance_label(self) -> str:
        return f"{self.balance:,}"

    @rx.var
    def active_site_value(self) -> str:
        return str(self.active_site_id) if self.active_site_id else ""
