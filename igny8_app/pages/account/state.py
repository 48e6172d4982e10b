"""My account, for every logged-in user: change the password (ends the user's other sessions).
Email notification preferences are added by the notifications page module."""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.domain.errors import DomainError
from igny8_app.services.notifications import mail as mailer
from igny8_app.services.notifications import inbox as notifications
from igny8_app.services.accounts import passwords
from igny8_app.state import SessionState


class AccountState(SessionState):
    pw_error: str = ""
    pw_done: str = ""
    pw_form_key: int = 0  # bumped to remount (clear) the form after a change
    email_notifications: bool = True
    email_enabled: bool = False  # SMTP_URL is set

    @rx.event
    def load_account(self):
        self.pw_error, self.pw_done = "", ""
        try:
            with self._authorize(site=False, write=False) as ctx:
                self.email_notifications = ctx.user.email_notifications
        except DomainError as exc:
            return self._fail(exc)
        self.email_enabled = mailer.mail_settings().enabled

    @rx.event
    def set_email_notifications(self, value: bool):
        try:
            with self._authorize(site=False) as ctx:
                notifications.set_email_opt_in(session=ctx.session, user=ctx.user, enabled=bool(value))
        except DomainError as exc:
            return self._fail(exc)
        self.email_notifications = bool(value)
        return rx.toast.success("Email notifications " + ("on." if value else "off."))

    @rx.event
    def change_password(self, form: dict[str, Any]):
        self.pw_error, self.pw_done = "", ""
        new = str(form.get("new_password") or "")
        if new != str(form.get("new_password2") or ""):
            self.pw_error = "The two new passwords differ."
            return
        try:
            with self._authorize(site=False) as ctx:
                ended = passwords.change_password(session=ctx.session, user=ctx.user,
                                                  current_password=str(form.get("current_password") or ""),
                                                  new_password=new, keep_session_token=self._session_token())
        except DomainError as exc:
            if exc.code == "unauthenticated":
                return self._fail(exc)
            self.pw_error = exc.message
            return
        self.pw_form_key += 1
        self.pw_done = (f"Password changed. {ended} other session(s) were signed out." if ended
                        else "Password changed.")
