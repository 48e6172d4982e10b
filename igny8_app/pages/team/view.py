"""Team page: layout."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import dialog_actions, empty_state, page_frame
from igny8_app.components.widgets import card, status_badge
from igny8_app.services.accounts import team
from igny8_app.pages.team.state import ROLE_SCHEME, TeamState


T = TeamState


# --- views --------------------------------------------------------------------------------------------

def role_badge(role: rx.Var) -> rx.Component:
    return status_badge(role, ROLE_SCHEME)


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
    return card(title, *children, hint=hint, **props)


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
