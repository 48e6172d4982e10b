"""Team page for owners and admins: members (role, last login), invitations, role changes,
removals, and the account audit log (owners). State and views; the rules live in services/accounts/team.py
and services/accounts/invitations.py, which authorise again on every call.

Every handler re-authorises on the server (``Permission.MANAGE`` on the active site's account) and
takes the account from that check, never from the client.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.components.layout import dialog_actions, empty_state, page_frame
from igny8_app.domain.errors import DomainError
from igny8_app.domain.roles import Permission
from igny8_app.services.accounts import audit
from igny8_app.services.accounts import invitations
from igny8_app.services.notifications import mail as mailer
from igny8_app.services.accounts import passwords
from igny8_app.services.accounts import team
from igny8_app.state import PAGE_LOADERS, SessionState

ROLE_SCHEME = {"owner": "purple", "admin": "indigo", "editor": "green", "viewer": "gray"}


class TeamState(SessionState):
    team_denied: str = ""
    members: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    invite_open: bool = False
    invite_role: str = "editor"
    invite_link: str = ""
    invite_emailed: bool = False
    invite_error: str = ""
    remove_open: bool = False
    remove_id: int = 0
    remove_email: str = ""
    reset_email: str = ""
    reset_link: str = ""
    reset_emailed: bool = False

    def _denied(self, exc: DomainError):
        if exc.code in ("forbidden", "not_found"):
            self.team_denied = exc.message
        return self._fail(exc)

    @rx.event
    def load_team(self):
        self.team_denied = ""
        if not self.active_site_id:
            return
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                aid = ctx.site.account_id
                self.members = team.list_members(session=ctx.session, account_id=aid)
                self.pending = invitations.list_pending(session=ctx.session, account_id=aid)
                self.audit_rows = audit.list_entries(session=ctx.session, account_id=aid) \
                    if ctx.role == "owner" else []
        except DomainError as exc:
            return self._denied(exc)

    # --- invitations ------------------------------------------------------------------------------

    @rx.event
    def set_invite_open(self, value: bool):
        self.invite_open = value
        if value:
            self.invite_link, self.invite_error, self.invite_emailed = "", "", False

    @rx.event
    def set_invite_role(self, value: str):
        self.invite_role = value

    @rx.event
    def send_invite(self, form: dict[str, Any]):
        self.invite_error = ""
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                inv, token = invitations.create_invitation(session=ctx.session, actor=ctx.user,
                                                           account_id=ctx.site.account_id,
                                                           email=str(form.get("email") or ""), role=self.invite_role)
                email, role, account_name = inv.email, inv.role, self.active_account_name
        except DomainError as exc:
            if exc.code == "unauthenticated":
                return self._fail(exc)
            self.invite_error = exc.message
            return
        self.invite_link = invitations.accept_url(token)
        self.invite_emailed = mailer.send_invitation(email=email, account=account_name, role=role,
                                                      link=self.invite_link)
        return TeamState.load_team

    @rx.event
    def revoke_invite(self, invitation_id: int):
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                invitations.revoke_invitation(session=ctx.session, actor=ctx.user, account_id=ctx.site.account_id,
                                              invitation_id=int(invitation_id))
        except DomainError as exc:
            return self._fail(exc)
        return [rx.toast.success("Invitation revoked."), TeamState.load_team]

    # --- members ----------------------------------------------------------------------------------

    @rx.event
    def change_role(self, user_id: int, role: str):
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                team.change_role(session=ctx.session, actor=ctx.user, account_id=ctx.site.account_id,
                                 user_id=int(user_id), role=role)
        except DomainError as exc:
            return [self._fail(exc), TeamState.load_team]
        return [rx.toast.success(f"Role changed to {role}."), TeamState.load_team, SessionState.load_session]

    @rx.event
    def open_remove(self, user_id: int, email: str):
        self.remove_id, self.remove_email, self.remove_open = int(user_id), email, True

    @rx.event
    def set_remove_open(self, value: bool):
        self.remove_open = value

    @rx.event
    def confirm_remove(self):
        self.remove_open = False
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                team.remove_member(session=ctx.session, actor=ctx.user, account_id=ctx.site.account_id,
                                   user_id=self.remove_id)
        except DomainError as exc:
            return self._fail(exc)
        return [rx.toast.success(f"{self.remove_email} was removed."), TeamState.load_team,
                SessionState.load_session]

    @rx.event
    def force_reset(self, user_id: int, email: str):
        try:
            with self._authorize(Permission.OWN) as ctx:
                token = passwords.force_reset(session=ctx.session, actor=ctx.user, user_id=int(user_id),
                                              account_id=ctx.site.account_id)
        except DomainError as exc:
            return self._fail(exc)
        emailed = passwords.email_forced_reset(email=email, token=token)
        self.reset_email, self.reset_link, self.reset_emailed = email, passwords.reset_url(token), emailed
        return TeamState.load_team

    @rx.event
    def close_reset(self, value: bool = False):
        if not value:
            self.reset_link = ""

    @rx.var
    def is_owner(self) -> bool:
        return self.active_role == "owner"


PAGE_LOADERS["/team"] = TeamState.load_team
T = TeamState


# --- views --------------------------------------------------------------------------------------------

def role_badge(role: rx.Var) -> rx.Component:
    return rx.match(role.to(str), *[(k, rx.badge(k, color_scheme=v, variant="soft")) for k, v in ROLE_SCHEME.items()],
                    rx.badge(role.to(str), variant="soft"))


def _role_select(value: rx.Var, on_change, **props) -> rx.Component:  # noqa: ANN001
    return rx.select.root(
        rx.select.trigger(min_width="110px", **props),
        rx.select.content(*[rx.select.item(r, value=r, disabled=(r == "owner") & ~T.is_owner)
                            for r in team.ROLES]),
        value=value, on_change=on_change, size="2",
    )


def _invite_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("user-plus", size=16), "Invite someone", id="invite-open", size="3")),
        rx.dialog.content(
            rx.dialog.title("Invite a team member"),
            rx.cond(
                T.invite_link != "",
                rx.vstack(
                    rx.callout(rx.cond(T.invite_emailed, "The invitation was emailed. You can also share this link:",
                                       "Send this link to the invitee. It works once and expires in 7 days."),
                               icon="circle-check", color_scheme="green", width="100%"),
                    rx.input(value=T.invite_link, read_only=True, id="invite-link", width="100%"),
                    rx.text("The link is shown only now: we keep just a fingerprint of it.", size="1",
                            color_scheme="gray"),
                    rx.hstack(rx.dialog.close(rx.button("Done", id="invite-done")), justify="end", width="100%"),
                    spacing="3", width="100%",
                ),
                rx.form(
                    rx.vstack(
                        rx.text("Email", size="2", weight="medium"),
                        rx.input(name="email", type="email", required=True, placeholder="name@company.com",
                                 id="invite-email", width="100%"),
                        rx.text("Role", size="2", weight="medium"),
                        _role_select(T.invite_role, T.set_invite_role, id="invite-role"),
                        rx.cond(T.invite_error != "", rx.callout(T.invite_error, icon="triangle-alert",
                                                                 color_scheme="red", id="invite-error", width="100%")),
                        dialog_actions(rx.button("Create invitation", type="submit", id="invite-submit")),
                        spacing="2", width="100%",
                    ),
                    on_submit=T.send_invite, reset_on_submit=False,
                ),
            ),
            max_width="480px",
        ),
        open=T.invite_open,
        on_open_change=T.set_invite_open,
    )


def _remove_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Remove member"),
            rx.alert_dialog.description("Remove ", rx.text.strong(T.remove_email),
                                        " from this account? They lose access to its sites at once."),
            rx.hstack(rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                      rx.alert_dialog.action(rx.button("Remove", color_scheme="red", on_click=T.confirm_remove,
                                                       id="remove-confirm")),
                      justify="end", spacing="3", margin_top="16px"),
        ),
        open=T.remove_open,
        on_open_change=T.set_remove_open,
    )


def _reset_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Password reset forced"),
            rx.vstack(
                rx.text(rx.text.strong(T.reset_email), "'s password no longer works and all their sessions ended. ",
                        rx.cond(T.reset_emailed, "We emailed them a link to choose a new one; you can also pass "
                                "this link on:", "Email is not configured: pass this link on to them:"), size="2"),
                rx.input(value=T.reset_link, read_only=True, id="force-reset-link", width="100%"),
                rx.text("Single use, expires in 60 minutes, shown only now.", size="1", color_scheme="gray"),
                rx.hstack(rx.dialog.close(rx.button("Done", id="force-reset-done")), justify="end", width="100%"),
                spacing="3", width="100%",
            ),
            max_width="520px",
        ),
        open=T.reset_link != "", on_open_change=T.close_reset,
    )


def _members_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                       ["Member", "Role", "Last login", "Joined", ""]])),
        rx.table.body(rx.foreach(T.members, lambda m: rx.table.row(
            rx.table.cell(rx.vstack(rx.text(m["email"].to(str), weight="medium"),
                                    rx.text(m["name"].to(str), size="1", color_scheme="gray"), spacing="0")),
            rx.table.cell(_role_select(m["role"].to(str), lambda v: T.change_role(m["user_id"].to(int), v),
                                       class_name="member-role")),
            rx.table.cell(m["last_login"].to(str)),
            rx.table.cell(m["joined"].to(str)),
            rx.table.cell(rx.hstack(
                rx.cond(T.is_owner, rx.button(rx.icon("key-round", size=14), "Force reset", size="1", variant="soft",
                                              color_scheme="gray", class_name="member-force-reset",
                                              on_click=T.force_reset(m["user_id"].to(int), m["email"].to(str)))),
                rx.button(rx.icon("user-minus", size=14), "Remove", size="1", variant="soft",
                          color_scheme="red", class_name="member-remove",
                          on_click=T.open_remove(m["user_id"].to(int), m["email"].to(str))),
                spacing="2")),
            class_name="member-row", data_email=m["email"].to(str), align="center",
        ))),
        width="100%", variant="surface",
    )


def _pending_table() -> rx.Component:
    return rx.cond(
        T.pending.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ["Email", "Role", "Sent", "Expires", ""]])),
            rx.table.body(rx.foreach(T.pending, lambda p: rx.table.row(
                rx.table.cell(p["email"].to(str)), rx.table.cell(role_badge(p["role"])),
                rx.table.cell(p["sent"].to(str)), rx.table.cell(p["expires"].to(str)),
                rx.table.cell(rx.button("Revoke", size="1", variant="soft", color_scheme="gray",
                                        on_click=T.revoke_invite(p["id"].to(int)), class_name="invite-revoke")),
                class_name="pending-row", align="center",
            ))),
            width="100%", variant="surface",
        ),
        rx.text("No pending invitations.", size="2", color_scheme="gray"),
    )


def _audit_table() -> rx.Component:
    return rx.cond(
        T.audit_rows.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ["When (UTC)", "Who", "What", "Whom", "Detail"]])),
            rx.table.body(rx.foreach(T.audit_rows, lambda a: rx.table.row(
                rx.table.cell(a["when"].to(str), white_space="nowrap"), rx.table.cell(a["actor"].to(str)),
                rx.table.cell(a["label"].to(str)), rx.table.cell(a["target"].to(str)),
                rx.table.cell(a["detail"].to(str)), class_name="audit-row",
            ))),
            width="100%", variant="ghost", size="1",
        ),
        empty_state("scroll-text", "No changes yet", "Invitations, role changes and removals appear here."),
    )


def _card(title: str, hint: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="4"), rx.text(hint, size="2", color_scheme="gray"), *children,
                             width="100%", spacing="3"), width="100%", **props)


def team_page() -> rx.Component:
    return page_frame(
        "Team",
        rx.cond(
            T.team_denied != "",
            rx.callout(T.team_denied + " The team is managed by account owners and admins.", icon="lock",
                       color_scheme="amber", id="team-denied"),
            rx.vstack(
                rx.hstack(
                    rx.text("People with access to every site of ", rx.text.strong(T.active_account_name), ".",
                            size="2", color_scheme="gray"),
                    rx.spacer(), _invite_dialog(), width="100%", align="center",
                ),
                _card("Members", "Owners and admins manage the team; only owners can make someone an owner, and "
                      "the last owner stays.", _members_table(), id="members-card"),
                _card("Pending invitations", "Single-use links that expire after 7 days.", _pending_table(),
                      id="pending-card"),
                rx.cond(T.is_owner, _card("Audit log", "Who changed what, and when. Visible to owners.",
                                          _audit_table(), id="audit-card")),
                _remove_dialog(), _reset_dialog(),
                width="100%", spacing="4",
            ),
        ),
    )
