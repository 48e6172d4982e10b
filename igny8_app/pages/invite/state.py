"""The invitation accept page (/invite?token=…), open to anyone holding the link.

A new person sets a password; someone whose email already has a login confirms that login's
password. Either way they join with the invited role and are signed in through a one-time ticket
(the same HttpOnly-cookie hand-over as the login page).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import reflex as rx

from igny8_app.api.common import router_client_ip
from igny8_app.components import hard_navigate
from igny8_app.db import read_session
from igny8_app.domain.errors import DomainError
from igny8_app.services.accounts import invitations
from igny8_app.services.accounts import login_tickets


class InviteState(rx.State):
    inv_account: str = ""
    inv_email: str = ""
    inv_role: str = ""
    inv_existing: bool = False
    inv_error: str = ""
    form_error: str = ""
    loaded: bool = False

    def _token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @rx.event
    def load_invite(self):
        self.loaded, self.form_error, self.inv_error = False, "", ""
        try:
            with read_session() as s:
                info = invitations.describe(session=s, token=self._token())
        except DomainError as exc:
            self.inv_error = exc.message
        else:
            self.inv_account, self.inv_email = info["account"], info["email"]
            self.inv_role, self.inv_existing = info["role"], info["existing_user"]
        self.loaded = True

    @rx.event
    def accept(self, form: dict[str, Any]):
        password = str(form.get("password") or "")
        if not self.inv_existing and password != str(form.get("password2") or ""):
            self.form_error = "The two passwords differ."
            return
        try:
            token = invitations.accept(token=self._token(), password=password,
                                       full_name=str(form.get("full_name") or ""),
                                       ip=router_client_ip(self.router))
        except DomainError as exc:
            self.form_error = exc.message
            return
        self.form_error = ""
        return hard_navigate("/auth/complete?" + urlencode({"ticket": login_tickets.issue(token), "next": "/keywords"}))
