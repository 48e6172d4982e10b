"""What the handler probe sends for each MUTATING handler: a recipe of steps with valid payloads
that name the victim's real objects (ids, tokens, names), set up the way the page would (open a
dialog, then save). The ids a handler keeps in its state come from the client through the opening
handler (open_remove, open_delete, ask_release: that is the forging path an attacker has; Reflex 0.10
has no automatic setters, so ``setvar`` cannot set them). The same recipe is sent by every
identity: for the legitimate one it
must change data (so the payload is valid), for the others nothing (so a refusal is the
authorisation check working).

``allowed``: the identities that may legitimately change data with the handler; they skip it in
their forged pass (their success is the owner's, the superuser's or the token holder's pass).
``legit``: the identity whose pass must show the change. ``phase``: 0 normal, 1 run control (in
sequence: run_now, pause, resume, cancel), 2 destructive (sessions, passwords, members, sites),
sent last. ``verify``: an extra check of the legitimate pass (where workers also move the rows).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, Callable

Payload = dict | Callable[[dict], dict]

ANON, RIVAL, VIEWER, EDITOR, OWNER, SUPER = "anonymous", "rival", "viewer", "editor", "owner", "superuser"
SIGNED_IN = frozenset({RIVAL, VIEWER, EDITOR, OWNER, SUPER})
FORGED_TOKEN = "Jx3kq9TbWc1mZr8uYp2sLd4fHa6gNe0v"  # the shape of a real one, but nobody's


@dataclass(frozen=True)
class Step:
    handler: str  # "StateClass.handler", or "upload" (the keywords CSV upload endpoint)
    payload: Payload = field(default_factory=dict)
    path: str | Callable[[dict], str] | None = None


@dataclass(frozen=True)
class Recipe:
    steps: tuple[Step, ...]
    legit: str = OWNER
    allowed: frozenset = frozenset({OWNER})
    phase: int = 0
    verify: Callable[[dict], bool] | None = None
    after: tuple[Step, ...] = ()  # unmeasured: put things back for the rest of the pass


def q(v: dict, sql: str, *args: Any) -> list[tuple]:
    with sqlite3.connect(v["db"]) as c:
        return c.execute(sql, args).fetchall()


def _latest_run(v: dict) -> tuple:
    rows = q(v, "select status, coalesce(requested_action, '') from automation_run where site_id = ? "
                "order by id desc limit 1", v["site"])
    return rows[0] if rows else ("", "")


def S(handler: str, payload: Payload | None = None, path: Any = None) -> Step:  # noqa: N802
    return Step(handler, payload or {}, path)


def R(*steps: Step, **kw: Any) -> Recipe:  # noqa: N802
    return Recipe(tuple(steps), **kw)


RUNNERS = frozenset({OWNER, EDITOR})  # Permission.RUN
SELF = SIGNED_IN  # acts on the caller's own rows only (SELF_TABLES / SELF_COLUMNS of the fingerprint)

RECIPES: dict[str, Recipe] = {
    # --- session, account, tokens, notifications: the caller's own rows ----------------------------
    "SessionState.select_site": R(S("SessionState.select_site", lambda v: {"site_id": str(v["site2"])}),
                                  allowed=frozenset({OWNER, VIEWER, EDITOR}),
                                  after=(S("SessionState.select_site", lambda v: {"site_id": str(v["site"])}),)),
    "AccountState.set_email_notifications": R(S("AccountState.set_email_notifications", {"value": False}),
                                              allowed=SELF),
    "TokensState.create_token": R(S("TokensState.create_token", {"form": {"name": "probe forged token"}}),
                                  allowed=SELF),
    "TokensState.revoke": R(S("TokensState.revoke", lambda v: {"token_id": v["token"]})),
    "NotificationsState.open_item": R(S("NotificationsState.open_item", lambda v: {"notification_id": v["notification"]}),
                                      after=(S("SessionState.select_site", lambda v: {"site_id": str(v["site"])}),)),
    "NotificationsState.mark_all_read": R(S("NotificationsState.mark_all_read"), allowed=SELF),
    # --- keywords, content (Permission.RUN) --------------------------------------------------------
    "KeywordsState.add_keyword": R(S("KeywordsState.add_keyword", {"form": {"keyword": "probe injected keyword",
                                                                           "volume": "10"}}), allowed=RUNNERS),
    "KeywordsState.handle_upload": R(S("upload"), allowed=RUNNERS),
    "KeywordsState.run_import": R(S("upload"), allowed=RUNNERS),
    "ContentState.change_status": R(S("ContentState.open_article", lambda v: {"content_id": v["content"]}),
                                    S("ContentState.change_status", lambda v: {"target": v["content_target"]}),
                                    allowed=RUNNERS),
    "ContentState.save_edit": R(S("ContentState.open_article", lambda v: {"content_id": v["content"]}),
                                S("ContentState.save_edit", {"form": {"title": "Probe injected title",
                                                                      "meta_title": "Probe meta",
                                                                      "meta_description": "Probe description",
                                                                      "body": "<p>Probe injected body.</p>"}}),
                                allowed=RUNNERS),
    # --- account settings (Permission.MANAGE) ------------------------------------------------------
    "BillingState.save_settings": R(S("BillingState.save_settings", {"form": {
        "billing_email": "probe-billing@example.com", "company": "Probe Injected Ltd", "address": "1 Probe Road",
        "country": "GB", "tax_id": "", "low_balance_threshold": "9000000"}})),
    "BillingState.buy_package": R(S("BillingState.buy_package", lambda v: {"package_id": v["package"]})),
    "BillingState.buy_with_card": R(S("BillingState.buy_with_card", lambda v: {"package_id": v["package"]})),
    "AISettingsState.save_ai_settings": R(S("AISettingsState.save_ai_settings", {"form": {
        "provider": "", "base_url": "", "api_key": "sk-probe-injected-key-0000"}})),
    "AISettingsState.save_prompt": R(S("AISettingsState.save_prompt", lambda v: {"form": {
        "name": v["prompt"], "template": v["prompt_template"] + "\nProbe: keep it short."}})),
    "AISettingsState.reset_prompt": R(S("AISettingsState.reset_prompt", lambda v: {"name": v["prompt"]})),
    "ConfigState.save_config": R(S("ConfigState.save_config", lambda v: {"data": v["config_form"]})),
    "TeamState.send_invite": R(S("TeamState.set_invite_role", {"value": "admin"}),
                               S("TeamState.send_invite", {"form": {"email": "probe-forged-invite@example.com"}})),
    "TeamState.revoke_invite": R(S("TeamState.revoke_invite", lambda v: {"invitation_id": v["invitation"]})),
    "TeamState.change_role": R(S("TeamState.change_role", lambda v: {"user_id": v["viewer_id"], "role": "owner"}),
                               after=(S("TeamState.change_role", lambda v: {"user_id": v["viewer_id"],
                                                                            "role": "viewer"}),)),
    "SitesAdminState.save_site": R(S("SitesAdminState.load_sites"),
                                   S("SitesAdminState.open_edit", lambda v: {"site_id": v["site2"]}),
                                   S("SitesAdminState.save_site", lambda v: {"form": {
                                       "name": v["site2_name"], "domain": "probe-renamed.example.com",
                                       "sectors": "Probe Injected"}})),
    "SitesAdminState.set_active": R(S("SitesAdminState.set_active", lambda v: {"site_id": v["site3"], "active": False}),
                                    after=(S("SitesAdminState.set_active", lambda v: {"site_id": v["site3"],
                                                                                       "active": True}),)),
    # --- run control (Permission.RUN), in this order ------------------------------------------------
    "LiveRunState.run_now": R(S("LiveRunState.load_automation"), S("LiveRunState.run_now"), allowed=RUNNERS, phase=1,
                              verify=lambda v: _latest_run(v)[0] in ("queued", "running")),
    "LiveRunState.pause": R(S("LiveRunState.load_automation"), S("LiveRunState.pause"), allowed=RUNNERS, phase=1,
                            verify=lambda v: "paus" in "".join(_latest_run(v))),
    "LiveRunState.resume": R(S("LiveRunState.resume"), allowed=RUNNERS, phase=1,
                             verify=lambda v: "resum" in "".join(_latest_run(v)) or _latest_run(v)[0] == "running"),
    "LiveRunState.cancel": R(S("LiveRunState.cancel"), allowed=RUNNERS, phase=1,
                             verify=lambda v: "cancel" in "".join(_latest_run(v))),
    # after save_settings raised the threshold over the balance and the run charged: a notice is up
    "BillingState.dismiss_notice": R(S("BillingState.dismiss_notice"), phase=1),
    # --- platform admin (superusers) ----------------------------------------------------------------
    "AdminCostsState.save_cost": R(S("AdminCostsState.load_costs"), S("AdminCostsState.edit_cost", {"operation": "clustering"}),
                              S("AdminCostsState.set_e_cost", lambda v: {"value": str(v["clustering_cost"] + 1)}),
                              S("AdminCostsState.save_cost"), legit=SUPER, allowed=frozenset({SUPER})),
    "AdminAccountsState.adjust": R(S("AdminAccountsState.open_adjust", lambda v: {"account_id": v["account"], "name": "x"}),
                           S("AdminAccountsState.adjust", {"form": {"amount": "7", "reason": "probe adjustment"}}),
                           legit=SUPER, allowed=frozenset({SUPER})),
    "AdminPaymentsState.review": R(S("AdminPaymentsState.review", lambda v: {"payment_id": v["payment"], "approve": True}),
                           legit=SUPER, allowed=frozenset({SUPER})),
    "AdminInvoicesState.invoice_action": R(S("AdminInvoicesState.invoice_action", lambda v: {"invoice_id": v["invoice2"],
                                                                             "action": "void"}),
                                   legit=SUPER, allowed=frozenset({SUPER})),
    "AdminPackagesState.save_package": R(S("AdminPackagesState.load_packages"),
                                 S("AdminPackagesState.open_package", lambda v: {"package_id": v["package"]}),
                                 S("AdminPackagesState.save_package", lambda v: {"form": {
                                     "name": v["package_name"], "credits": str(v["package_credits"] + 1),
                                     "price": v["package_price"], "is_active": "on"}}),
                                 legit=SUPER, allowed=frozenset({SUPER})),
    "SystemState.retry_job": R(S("SystemState.retry_job", lambda v: {"job_id": v["failed_jobs"][0]}),
                               legit=SUPER, allowed=frozenset({SUPER})),
    "SystemState.delete_job": R(S("SystemState.delete_job", lambda v: {"job_id": v["failed_jobs"][1]}),
                                legit=SUPER, allowed=frozenset({SUPER})),
    "SystemState.release_lock": R(S("SystemState.ask_release", lambda v: {"site_id": v["site2"]}),
                                  S("SystemState.release_lock"), legit=SUPER, allowed=frozenset({SUPER})),
    # --- bearer of a link (the token is the authority), or anyone --------------------------------
    "InviteState.accept": R(S("InviteState.load_invite", path=lambda v: f"/invite?token={v['invite_token']}"),
                            S("InviteState.accept", {"form": {"password": "probe-invitee-pw-1",
                                                              "password2": "probe-invitee-pw-1",
                                                              "full_name": "Probe Invitee"}},
                              path=lambda v: f"/invite?token={v['invite_token']}"),
                            legit=ANON, allowed=frozenset()),
    "ResetState.set_password": R(S("ResetState.set_password", {"form": {"password": "probe-reset-pw-1",
                                                                        "password2": "probe-reset-pw-1"}},
                                   path=lambda v: f"/reset?token={v['reset_token']}"),
                                 legit=ANON, allowed=frozenset()),
    "ResetState.request_link": R(S("ResetState.request_link", lambda v: {"form": {"email": v["owner_email"]}},
                                   path="/forgot"),
                                 legit=ANON, allowed=frozenset({ANON, *SIGNED_IN})),
    "LoginState.submit_login": R(S("LoginState.submit_login", lambda v: {"form": {
        "email": v["owner_email"], "password": v["login_password"]}}, path="/login"),
        legit=ANON, allowed=frozenset()),
    # --- destructive: last -----------------------------------------------------------------------
    "TeamState.force_reset": R(S("TeamState.force_reset", lambda v: {"user_id": v["extra2"], "email": "x"}),
                               phase=2),
    "TeamState.confirm_remove": R(S("TeamState.open_remove", lambda v: {"user_id": v["extra1"], "email": "x"}),
                                  S("TeamState.confirm_remove"), phase=2),
    "SitesAdminState.delete_site": R(S("SitesAdminState.open_delete", lambda v: {"site_id": v["site3"],
                                                                                 "name": v["site3_name"]}),
                                     S("SitesAdminState.delete_site", lambda v: {"form": {"confirm": v["site3_name"]}}),
                                     phase=2),
    "AccountState.change_password": R(S("AccountState.change_password", lambda v: {"form": {
        "current_password": v["owner_password"], "new_password": "probe-owner-new-pw",
        "new_password2": "probe-owner-new-pw"}}), allowed=SELF, phase=2),
    "SessionState.log_out": R(S("SessionState.log_out"), allowed=SELF, phase=2),
}


def payload_of(step: Step, v: dict) -> dict:
    return step.payload(v) if callable(step.payload) else dict(step.payload)


def path_of(step: Step, v: dict) -> str | None:
    return step.path(v) if callable(step.path) else step.path


GENERIC = {"delta": 1, "column": "volume", "target": "published", "action": "void", "approve": True,
           "role": "owner", "email": "probe-new@example.com", "name": "probe", "operation": "clustering",
           "value": "1", "active": False, "job_id": "none"}


def read_payload(params: list[str], v: dict) -> dict:
    """A payload for a read-only handler: the victim's ids wherever the handler takes one (an IDOR
    attempt on what it shows)."""
    ids = {"site_id": v["site"], "run_id": v["run_id"], "content_id": v["content"], "invoice_id": v["invoice"],
           "payment_id": v["payment"], "user_id": v["viewer_id"], "token_id": v["token"], "account_id": v["account"],
           "package_id": v["package"], "invitation_id": v["invitation"], "notification_id": v["notification"]}
    out: dict[str, Any] = {}
    for p in params:
        if p in ids:
            out[p] = ids[p]
        elif p == "form":
            out[p] = {"search": "probe", "from": "", "to": "", "run_id": v["run_id"]}  # not echoing a marker
        else:
            out[p] = GENERIC.get(p, "1")
    if params == ["var_name", "value"]:
        out = {"var_name": "active_site_id", "value": v["site"]}
    return out
