"""Sites & sectors page for owners and admins: create, rename, edit the domain and 1-5 sectors,
deactivate/reactivate, delete (owners; the site's name typed as confirmation, no active run).
Rules live in services/accounts/sites.py, which authorises again on every call."""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.domain.errors import DomainError, NotFound
from igny8_app.domain.roles import Permission, role_allows
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import sites
from igny8_app.state import PAGE_LOADERS, SessionState


class SitesAdminState(SessionState):
    sites_denied: str = ""
    site_rows: list[dict[str, Any]] = []
    account_role: str = ""
    edit_open: bool = False
    edit_id: int = 0
    edit_name: str = ""
    edit_domain: str = ""
    edit_sectors: str = ""
    edit_error: str = ""
    delete_open: bool = False
    delete_id: int = 0
    delete_name: str = ""
    delete_error: str = ""

    def _account_id(self, ctx) -> int:  # noqa: ANN001
        """The active site's account, else the first account the user manages (no sites yet)."""
        if self.active_site_id:
            try:
                site, _ = accounts.authorize_site(session=ctx.session, user=ctx.user, site_id=self.active_site_id,
                                                  permission=Permission.MANAGE)
                return site.account_id
            except NotFound:  # the active site was just deleted: fall back to an account they manage
                pass
        for account, role in accounts.user_accounts(session=ctx.session, user=ctx.user):
            if role_allows(role, Permission.MANAGE):
                return account.id
        raise NotFound("You manage no account.")

    @rx.event
    def load_sites(self):
        self.sites_denied = ""
        try:
            with self._authorize(site=False, write=False) as ctx:
                aid = self._account_id(ctx)
                access = accounts.authorize_account(session=ctx.session, user=ctx.user, account_id=aid,
                                                    permission=Permission.MANAGE)
                self.account_role = access.role.value
                self.site_rows = sites.list_account_sites(session=ctx.session, account_id=aid)
        except DomainError as exc:
            if exc.code == "unauthenticated":
                return self._fail(exc)
            self.sites_denied = exc.message

    def _refresh(self, message: str):
        return [rx.toast.success(message), SessionState.load_session, SitesAdminState.load_sites]

    # --- create / edit -----------------------------------------------------------------------------

    @rx.event
    def open_edit(self, site_id: int):
        self.edit_error, self.edit_id = "", int(site_id)
        row = next((r for r in self.site_rows if r["id"] == self.edit_id), None)
        self.edit_name, self.edit_domain = (row["name"], row["domain"]) if row else ("", "")
        self.edit_sectors = "\n".join(row["sectors"]) if row else "General"
        self.edit_open = True

    @rx.event
    def set_edit_open(self, value: bool):
        self.edit_open = value

    @rx.event
    def save_site(self, form: dict[str, Any]):
        name, domain = str(form.get("name") or ""), str(form.get("domain") or "")
        sectors = sites.parse_sectors(str(form.get("sectors") or ""))
        try:
            with self._authorize(site=False) as ctx:
                if self.edit_id:
                    site = sites.update_site(session=ctx.session, actor=ctx.user, site_id=self.edit_id, name=name,
                                             domain=domain, sectors=sectors)
                else:
                    site = sites.add_site(session=ctx.session, actor=ctx.user, account_id=self._account_id(ctx),
                                          name=name, domain=domain, sectors=sectors)
                label = site.name
        except DomainError as exc:
            if exc.code == "unauthenticated":
                return self._fail(exc)
            self.edit_error = exc.message
            return
        self.edit_open = False
        return self._refresh(f"Site '{label}' saved.")

    # --- activate / delete -------------------------------------------------------------------------

    @rx.event
    def set_active(self, site_id: int, active: bool):
        try:
            with self._authorize(site=False) as ctx:
                site = sites.set_site_active(session=ctx.session, actor=ctx.user, site_id=int(site_id),
                                             active=bool(active))
                label = site.name
        except DomainError as exc:
            return self._fail(exc)
        return self._refresh(f"Site '{label}' {'reactivated' if active else 'deactivated'}.")

    @rx.event
    def open_delete(self, site_id: int, name: str):
        self.delete_id, self.delete_name, self.delete_error, self.delete_open = int(site_id), name, "", True

    @rx.event
    def set_delete_open(self, value: bool):
        self.delete_open = value

    @rx.event
    def delete_site(self, form: dict[str, Any]):
        try:
            with self._authorize(site=False) as ctx:
                sites.delete_site(session=ctx.session, actor=ctx.user, site_id=self.delete_id,
                                  confirm_name=str(form.get("confirm") or ""))  # its files go after the commit
        except DomainError as exc:
            if exc.code == "unauthenticated":
                return self._fail(exc)
            self.delete_error = exc.message
            return
        self.delete_open = False
        return self._refresh(f"Site '{self.delete_name}' and its data were deleted.")

    @rx.var
    def is_account_owner(self) -> bool:
        return self.account_role == "owner"


PAGE_LOADERS["/sites"] = SitesAdminState.load_sites
