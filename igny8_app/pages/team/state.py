"""Team page for owners and admins: members (role, last login), invitations, role changes,
removals, and the account audit log (owners). State and views; the rules live in services/accounts/team.py
and services/accounts/invitations.py, which authorise again on every call.

Every handler re-authorises on the server (``Permission.MANAGE`` on the active site's account) and
takes the account from that check, never from the client.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

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
            with self._authorize(Permission.MANAGE, write=False) as ctx:
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
