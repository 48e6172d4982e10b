"""Sites & sectors page for owners and admins: create, rename, edit the domain and 1-5 sectors,
deactivate/reactivate, delete (owners; the site's name typed as confirmation, no active run).
Rules live in services/accounts/sites.py, which authorises again on every call."""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.components.layout import dialog_actions, empty_state, page_frame
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
            with self._authorize(site=False) as ctx:
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
                paths = sites.delete_site(session=ctx.session, actor=ctx.user, site_id=self.delete_id,
                                          confirm_name=str(form.get("confirm") or ""))
        except DomainError as exc:
            if exc.code == "unauthenticated":
                return self._fail(exc)
            self.delete_error = exc.message
            return
        sites.remove_files(paths)
        self.delete_open = False
        return self._refresh(f"Site '{self.delete_name}' and its data were deleted.")

    @rx.var
    def is_account_owner(self) -> bool:
        return self.account_role == "owner"


PAGE_LOADERS["/sites"] = SitesAdminState.load_sites
S = SitesAdminState


# --- views ------------------------------------------------------------------------------------------

def _edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.edit_id == 0, "New site", "Edit site")),
            rx.form(
                rx.vstack(
                    rx.text("Name", size="2", weight="medium"),
                    rx.input(name="name", default_value=S.edit_name, required=True, id="site-name", width="100%"),
                    rx.text("Domain", size="2", weight="medium"),
                    rx.input(name="domain", default_value=S.edit_domain, required=True, id="site-domain",
                             placeholder="example.com", width="100%"),
                    rx.text("Sectors (1-5, one per line)", size="2", weight="medium"),
                    rx.text_area(name="sectors", default_value=S.edit_sectors, id="site-sectors", rows="5",
                                 width="100%"),
                    rx.cond(S.edit_error != "", rx.callout(S.edit_error, icon="triangle-alert", color_scheme="red",
                                                           id="site-error", width="100%")),
                    dialog_actions(rx.button("Save", type="submit", id="site-save")),
                    spacing="2", width="100%",
                ),
                on_submit=S.save_site, reset_on_submit=False,
            ),
            max_width="480px",
        ),
        open=S.edit_open, on_open_change=S.set_edit_open,
    )


def _delete_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Delete site"),
            rx.form(
                rx.vstack(
                    rx.callout(rx.text("This deletes ", rx.text.strong(S.delete_name), " with all its keywords, "
                                       "clusters, ideas, tasks, content, images and run history. It cannot be undone."),
                               icon="triangle-alert", color_scheme="red", width="100%"),
                    rx.text("Type the site's name to confirm:", size="2"),
                    rx.input(name="confirm", id="delete-confirm-name", width="100%", auto_complete="off"),
                    rx.cond(S.delete_error != "", rx.text(S.delete_error, color_scheme="red", size="2",
                                                          id="delete-error")),
                    dialog_actions(rx.button("Delete site", color_scheme="red", type="submit", id="delete-submit")),
                    spacing="3", width="100%",
                ),
                on_submit=S.delete_site, reset_on_submit=False,
            ),
            max_width="480px",
        ),
        open=S.delete_open, on_open_change=S.set_delete_open,
    )


def _status(r) -> rx.Component:  # noqa: ANN001
    return rx.cond(r["running"].to(bool), rx.badge("running", color_scheme="blue", variant="soft"),
                   rx.cond(r["active"].to(bool), rx.badge("active", color_scheme="green", variant="soft"),
                           rx.badge("inactive", color_scheme="gray", variant="soft")))


def _table() -> rx.Component:
    heads = ["Site", "Sectors", "Keywords", "Status", "Created", ""]
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
        rx.table.body(rx.foreach(S.site_rows, lambda r: rx.table.row(
            rx.table.cell(rx.vstack(rx.text(r["name"].to(str), weight="medium", class_name="site-row-name"),
                                    rx.text(r["domain"].to(str), size="1", color_scheme="gray"), spacing="0")),
            rx.table.cell(rx.flex(rx.foreach(r["sectors"].to(list[str]), lambda x: rx.badge(x, variant="outline")),
                                  gap="4px", wrap="wrap", max_width="320px")),
            rx.table.cell(r["keywords"].to(int).to_string()),
            rx.table.cell(_status(r)),
            rx.table.cell(r["created"].to(str)),
            rx.table.cell(rx.hstack(
                rx.button(rx.icon("pencil", size=13), "Edit", size="1", variant="soft", class_name="site-edit",
                          on_click=S.open_edit(r["id"].to(int))),
                rx.cond(r["active"].to(bool),
                        rx.button("Deactivate", size="1", variant="soft", color_scheme="amber",
                                  class_name="site-deactivate", on_click=S.set_active(r["id"].to(int), False)),
                        rx.button("Reactivate", size="1", variant="soft", color_scheme="green",
                                  class_name="site-activate", on_click=S.set_active(r["id"].to(int), True))),
                rx.cond(S.is_account_owner,
                        rx.button(rx.icon("trash-2", size=13), "Delete", size="1", variant="soft", color_scheme="red",
                                  class_name="site-delete",
                                  on_click=S.open_delete(r["id"].to(int), r["name"].to(str)))),
                spacing="2")),
            class_name="site-row", align="center",
        ))),
        width="100%", variant="surface",
    )


def sites_admin_page() -> rx.Component:
    return page_frame(
        "Sites & sectors",
        rx.cond(
            S.sites_denied != "",
            rx.callout(S.sites_denied + " Sites are managed by account owners and admins.", icon="lock",
                       color_scheme="amber", id="sites-denied"),
            rx.vstack(
                rx.hstack(
                    rx.hstack(rx.switch(checked=S.show_inactive, on_change=S.set_show_inactive, id="show-inactive"),
                              rx.text("Show inactive sites in the site selector", size="2"), spacing="2",
                              align="center"),
                    rx.spacer(),
                    rx.button(rx.icon("plus", size=16), "New site", size="3", id="site-new", on_click=S.open_edit(0)),
                    width="100%", align="center",
                ),
                rx.card(rx.cond(S.site_rows.length() > 0, _table(),
                                empty_state("globe", "No sites yet", "Create a site to import keywords and run "
                                            "the automation.")), width="100%"),
                rx.text("A deactivated site keeps its data and runs nothing. Deleting a site needs no active run.",
                        size="1", color_scheme="gray"),
                _edit_dialog(), _delete_dialog(),
                width="100%", spacing="4",
            ),
        ),
    )
