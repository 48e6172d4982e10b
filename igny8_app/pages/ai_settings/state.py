"""AI settings for account owners and admins: the provider, its base URL, API key and models, a
"Test connection" button, and the account's prompt overrides. The layout is in view.py.

Every handler re-authorises on the server (``Permission.MANAGE`` on the active site's account) and
takes the account from that check, never from the client. The API key is write-only: the page only
ever receives its last 4 characters.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.domain.errors import DomainError
from igny8_app.domain.roles import Permission
from igny8_app.services.automation import ai_settings
from igny8_app.services.content import prompts
from igny8_app.services.billing.profile import FieldErrors
from igny8_app.state import PAGE_LOADERS, SessionState

ROUTE = "/settings/ai"
DEFAULT_CHOICE = "default"  # the select's value for "the server default" (Radix selects refuse '')


class AISettingsState(SessionState):
    ai_denied: str = ""
    ai_loaded: bool = False
    ai_form: dict[str, str] = {}
    ai_defaults: dict[str, str] = {}
    api_key_hint: str = ""
    ai_errors: dict[str, str] = {}
    ai_saved: bool = False
    form_version: int = 0  # remounts the uncontrolled form after a load or save
    checking: bool = False
    check_ok: bool = False
    check_message: str = ""
    prompt_rows: list[dict[str, Any]] = []
    prompt_errors: dict[str, str] = {}
    prompt_saved: str = ""

    def _denied(self, exc: DomainError):
        self.ai_denied = exc.message
        return self._fail(exc) if exc.code == "unauthenticated" else None

    def _show(self, view: dict[str, Any], rows: list[dict[str, Any]] | None = None) -> None:
        self.ai_form = {"provider": view["provider"] or DEFAULT_CHOICE, "base_url": view["base_url"],
                        **{f"model_{k}": v for k, v in view["models"].items()}}
        self.ai_defaults = {"provider": view["default_provider"], "base_url": view["default_base_url"],
                            "key": "set on the server" if view["default_key_set"] else "none",
                            **{f"model_{k}": v for k, v in view["default_models"].items()}}
        self.api_key_hint = view["api_key_hint"]
        if rows is not None:
            self._set_rows(rows)
        self.form_version += 1

    @rx.event
    def load_ai_settings(self):
        self.ai_denied, self.ai_errors, self.prompt_errors = "", {}, {}
        self.ai_saved, self.prompt_saved, self.check_message, self.ai_loaded = False, "", "", False
        if not self.active_site_id:
            return
        try:
            with self._authorize(Permission.MANAGE, write=False) as ctx:
                view = ai_settings.get_view(session=ctx.session, account_id=ctx.site.account_id)
                rows = prompts.list_prompts(session=ctx.session, account_id=ctx.site.account_id)
        except DomainError as exc:
            return self._denied(exc)
        self._show(view, rows)
        self.ai_loaded = True

    @rx.event
    def save_ai_settings(self, form: dict[str, Any]):
        self.ai_saved = False
        provider = str(form.get("provider") or "")
        models = {f: str(form.get(f"model_{f}") or "") for f in ai_settings.MODEL_FIELDS}
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                view = ai_settings.update(
                    session=ctx.session, account_id=ctx.site.account_id,
                    provider="" if provider == DEFAULT_CHOICE else provider, base_url=str(form.get("base_url") or ""),
                    models=models, api_key=str(form.get("api_key") or ""),
                    clear_key=str(form.get("clear_key") or "") in ("on", "true", "1"), user_id=ctx.user.id)
        except FieldErrors as exc:
            self.ai_errors = {("model_" + k if k in ai_settings.MODEL_FIELDS else k): v for k, v in exc.errors.items()}
            return rx.toast.error("Please correct the highlighted fields.")
        except DomainError as exc:
            return self._fail(exc)
        self.ai_errors = {}
        self._show(view)
        self.ai_saved = True
        return rx.toast.success("AI settings saved.")

    @rx.event
    def test_connection(self):
        self.check_message = ""
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                account_id = ctx.site.account_id
        except DomainError as exc:
            return self._fail(exc)
        self.checking = True
        yield
        result = ai_settings.check_connection(account_id=account_id)  # outside any transaction
        self.checking = False
        self.check_ok = bool(result.get("ok"))
        self.check_message = str(result.get("message") or "")

    @rx.event
    def save_prompt(self, form: dict[str, Any]):
        name = str(form.get("name") or "")
        self.prompt_saved = ""
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                prompts.save_override(session=ctx.session, account_id=ctx.site.account_id, name=name,
                                      template=str(form.get("template") or ""), user_id=ctx.user.id)
                rows = prompts.list_prompts(session=ctx.session, account_id=ctx.site.account_id)
        except DomainError as exc:
            if exc.code == "unauthenticated":
                return self._fail(exc)
            self.prompt_errors = {**self.prompt_errors, name: exc.message}
            return rx.toast.error(exc.message, duration=8000)
        self.prompt_errors = {k: v for k, v in self.prompt_errors.items() if k != name}
        self._set_rows(rows)
        self.prompt_saved = name
        return rx.toast.success("Prompt saved.")

    @rx.event
    def reset_prompt(self, name: str):
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                prompts.reset_override(session=ctx.session, account_id=ctx.site.account_id, name=str(name))
                rows = prompts.list_prompts(session=ctx.session, account_id=ctx.site.account_id)
        except DomainError as exc:
            return self._fail(exc)
        self.prompt_errors = {k: v for k, v in self.prompt_errors.items() if k != name}
        self._set_rows(rows)
        self.prompt_saved = ""
        return rx.toast.success("Prompt reset to the built-in default.")

    def _set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.prompt_rows = [{**r, "required_label": ", ".join("{{%s}}" % p for p in r["required"]),
                             "optional_label": ", ".join("{{%s}}" % p for p in r["optional"]) or "none"}
                            for r in rows]
        self.form_version += 1


PAGE_LOADERS[ROUTE] = AISettingsState.load_ai_settings
