"""Security probe over EVERY event handler of the app, enumerated from the Reflex state classes.

Every handler is classed below (a new handler fails ``test_every_handler_is_classed`` until it is).
A victim account is set up (owner, viewer, editor, spare members, three sites, a completed run, a
paused run holding a site lock, invoices and payments, an API token, invitations, a reset link, a
stored AI key, failed jobs). Then, over the websocket:

* forged passes (anonymous, the owner of another account, the victim's viewer, its editor): every
  read-only handler with the victim's ids, then every mutating handler's recipe (valid payloads
  naming the victim's real objects, tests/probe_recipes.py), destructive ones last; the
  fingerprint (database rows of the victim and the global tables, the identity's own role and
  superuser flag included; the app's Redis keys; the data folder's files; the mail sent) must not
  change for any handler the identity is not allowed, and no secret of the victim (password and
  token hashes, the AI key and its ciphertext, the Stripe secrets; for outsiders also its names)
  may appear in any update the identity receives;
* legitimate passes (the owner, the platform superuser, the bearer of a link): EVERY mutating
  handler must change the fingerprint for its legitimate identity, proving each payload valid.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pytest

from tests import probe_recipes as pr
from tests.probe_support import HANDLERS, barrier, diff, leaks, send
from tests.ws_client import ReflexClient

_UI = "sets UI-only vars of the caller's own state (a dialog, a form field, a filter, a page)"
_LOAD = "loads and shows data after an authorisation check; writes nothing"
_SETVAR = ("Reflex's generic setter: it calls the var's own set_<var> handler (no automatic setters in "
           "Reflex 0.10), so it can do no more than the handlers classed here; sent with the victim's site id")
RO = "read-only"

#: Every handler of the app: read-only or mutating, with the reason. Mutating ones have a recipe.
CLASSES: dict[str, tuple[str, str]] = {
    **{f"{s}.setvar": (RO, _SETVAR) for s in (
        "SessionState", "AutomationState", "LiveRunState", "AccountState", "KeywordsState", "AdminBaseState",
        "AdminCostsState", "AdminAccountsState", "AdminPaymentsState", "AdminInvoicesState", "AdminPackagesState",
        "TeamState", "AISettingsState", "ConfigState", "TokensState", "NotificationsState", "SitesAdminState",
        "SystemState", "BillingState", "ContentState", "InviteState", "ResetState", "LoginState")},
    **{k: (RO, _UI) for k in (
        "SessionState.set_show_inactive", "AutomationState.close_card", "AutomationState.open_card",
        "AutomationState.set_detail_open", "LiveRunState.set_confirm_cancel", "KeywordsState.set_search",
        "KeywordsState.set_status_filter", "KeywordsState.sort_by", "KeywordsState.set_page_size",
        "KeywordsState.go_page", "KeywordsState.set_add_open", "KeywordsState.set_import_open",
        "KeywordsState.reject_file",  # the browser refused a file: only the page's own import message
        "AdminCostsState.edit_cost", "AdminCostsState.set_edit_open", "AdminCostsState.set_e_cost", "AdminCostsState.set_e_unit",
        "AdminCostsState.set_e_tokens", "AdminCostsState.set_e_min", "AdminCostsState.set_e_active", "AdminAccountsState.search_accounts",
        "AdminAccountsState.go_accounts", "AdminAccountsState.set_adj_open", "AdminPaymentsState.go_pending", "AdminPaymentsState.go_reviewed",
        "AdminPaymentsState.set_review_note", "AdminInvoicesState.go_invoices", "AdminPackagesState.open_package", "AdminPackagesState.set_pkg_open",
        "TeamState.set_invite_open", "TeamState.set_invite_role", "TeamState.open_remove",
        "TeamState.set_remove_open", "TeamState.close_reset", "ConfigState.open_config",
        "ConfigState.set_config_open", "TokensState.set_create_open", "NotificationsState.set_unread_only",
        "SitesAdminState.open_edit", "SitesAdminState.set_edit_open", "SitesAdminState.open_delete",
        "SitesAdminState.set_delete_open", "SystemState.ask_release", "SystemState.set_confirm_open",
        "BillingState.set_buy_open", "BillingState.apply_filters", "BillingState.set_f_op", "BillingState.set_f_site",
        "BillingState.clear_filters", "BillingState.go_usage_page", "BillingState.set_invoice_open",
        "ContentState.set_status_filter", "ContentState.set_cluster_filter", "ContentState.next_page",
        "ContentState.prev_page", "ContentState.close_article", "ContentState.start_edit", "ContentState.cancel_edit",
        "ResetState.load_forgot", "LoginState.clear_error")},
    **{k: (RO, _LOAD) for k in (
        "SessionState.load_session", "AutomationState.open_detail", "LiveRunState.load_automation",
        "AccountState.load_account", "KeywordsState.load_keywords", "AdminCostsState.load_costs",
        "AdminCostsState.refresh_preview", "AdminAccountsState.load_accounts", "AdminAccountsState.open_adjust",
        "AdminPaymentsState.load_payments", "AdminInvoicesState.load_invoices", "AdminPackagesState.load_packages", "TeamState.load_team",
        "AISettingsState.load_ai_settings", "ConfigState.load_config", "TokensState.load_tokens",
        "NotificationsState.load_notifications", "SitesAdminState.load_sites", "SystemState.load_system",
        "SystemState.refresh", "BillingState.load_overview", "BillingState.load_usage", "BillingState.load_invoices",
        "BillingState.open_invoice", "BillingState.load_payments", "BillingState.load_settings",
        "ContentState.load_content", "ContentState.open_article", "InviteState.load_invite", "ResetState.load_reset")},
    "ContentState.load_article_page": (RO, "on_load of /content/ID: the article after READ on its site (any refusal "
                                          "is 'not found'); at most makes that site the caller's own active site, "
                                          "as select_site does"),
    "LiveRunState.watch": (RO, "a background task following the site's progress events; re-checks READ on reload"),
    "SystemState.auto_refresh": (RO, "a background task re-running the superuser-only refresh"),
    "AISettingsState.test_connection": (RO, "calls the AI provider with the account's settings; stores nothing"),
    "BillingState.export_csv": (RO, "navigates to the CSV route, which authorises again; writes nothing"),
    **{k: ("mutating", "see its recipe in tests/probe_recipes.py: " + ("platform admin" if r.legit == pr.SUPER else
                                                                      "link bearer / anyone" if r.legit == pr.ANON
                                                                      else "account data or the caller's own rows"))
       for k, r in pr.RECIPES.items()},
}

VICTIM_ACCOUNT, VICTIM_SITE, SECRET = "Probe Victim Co", "Probe Victim Garden", "zzprobe secret keyword"
AI_KEY = "sk-probe-victim-ai-key-4242"
PW = {"owner": "probe-owner-pw", "viewer": "probe-viewer-pw", "editor": "probe-editor-pw", "rival": "probe-rival-pw"}
EMAIL = {k: f"probe-{k}@example.com" for k in (*PW, "extra1", "extra2", "extra3")}


def test_every_handler_is_classed():
    assert set(HANDLERS) - set(CLASSES) == set(), "new handlers: class them in CLASSES (and give a recipe)"
    assert set(CLASSES) - set(HANDLERS) == set(), "CLASSES names handlers the app no longer has"
    for key, (kind, reason) in CLASSES.items():
        assert kind in ("mutating", RO) and reason, key
    for r in pr.RECIPES.values():
        for step in r.steps + r.after:
            assert step.handler == "upload" or step.handler in HANDLERS, step


@pytest.fixture(scope="module")
def victim(live_app, smtp_sink):  # noqa: ANN001, ANN201
    from tests.probe_setup import build_victim

    return build_victim(live_app, smtp_sink, names={"account": VICTIM_ACCOUNT, "site": VICTIM_SITE, "secret": SECRET,
                                                     "ai_key": AI_KEY}, emails=EMAIL, passwords=PW)


def _upload(live_app, client: ReflexClient, v: dict) -> None:  # noqa: ANN001
    tag = uuid.uuid4().hex[:8]  # new keywords every upload (a repeated file imports only duplicates)
    csv = "keyword,volume\n" + "".join(f"probe uploaded {tag} {i} idea,{i + 5}\n" for i in range(3))
    httpx.post(f"{live_app.url}/_upload", files={"files": ("probe.csv", csv.encode(), "text/csv")}, timeout=15,
               headers={"Reflex-Client-Token": client.token,
                        "Reflex-Event-Handler": HANDLERS["KeywordsState.handle_upload"][0]})


def _steps(live_app, client: ReflexClient, steps, v: dict) -> None:  # noqa: ANN001
    for step in steps:
        if step.handler == "upload":
            _upload(live_app, client, v)
            barrier(client)
        else:
            send(client, step.handler, pr.payload_of(step, v), path=pr.path_of(step, v) or "/keywords")


def _open(live_app, v: dict, cookie: str | None) -> ReflexClient:  # noqa: ANN001
    client = ReflexClient(live_app.url, session_cookie=cookie)
    send(client, "SessionState.load_session")
    send(client, "SessionState.select_site", {"site_id": str(v["site"])})
    return client


def _run_settled(v: dict, key: str, timeout: float = 30.0) -> None:
    """Run control: wait until the run reached the state the handler asked for (workers move it)."""
    want = {"LiveRunState.pause": ("paused",), "LiveRunState.cancel": ("cancelled", "completed", "failed")}.get(key)
    deadline = time.time() + timeout
    while want and pr._latest_run(v)[0] not in want and time.time() < deadline:  # noqa: SLF001
        time.sleep(0.2)


def forged_pass(live_app, v: dict, who: str, cookie: str | None, actor: int | None) -> tuple[dict, ReflexClient]:  # noqa: ANN001
    """Every handler as ``who``: returns (what changed, by handler) and the client (its updates)."""
    fp, changed = v["fp"], {}
    vf = {**v, "invite_token": pr.FORGED_TOKEN, "reset_token": pr.FORGED_TOKEN, "login_password": "wrong-pw-1"}
    client = _open(live_app, v, cookie)
    before = fp.take(actor)
    for key, (kind, _) in CLASSES.items():
        if kind == RO:
            send(client, key, pr.read_payload(HANDLERS[key][1], v), path="/keywords")
    if d := diff(before, after := fp.take(actor)):
        changed["(the read-only handlers)"] = d
    for key, r in sorted(pr.RECIPES.items(), key=lambda kv: kv[1].phase):
        if who in r.allowed:
            continue
        before = after
        _steps(live_app, client, r.steps, vf)
        if d := diff(before, after := fp.take(actor)):
            changed[key] = d
        _steps(live_app, client, r.after, vf)
    time.sleep(1.0)  # mail and jobs of the last events land now
    if d := diff(after, fp.take(actor)):
        changed["(late)"] = d
    return changed, client


def test_the_set_up_is_what_the_probe_claims(victim):
    v = victim
    assert v["contents"] and v["notification"] != 999_999 and len(v["failed_jobs"]) == 2, v
    assert {"AI key ciphertext", "AI key"} <= set(v["secrets"]), sorted(v["secrets"])
    assert re.fullmatch(r"[A-Za-z0-9_\-]{20,}", v["invite_token"]) and v["reset_token"], v
    assert json.dumps(v["config_form"])


@pytest.mark.parametrize("who", ["anonymous", "rival", "viewer", "editor"])
def test_forged_events_change_nothing_and_leak_nothing(live_app, victim, who):
    cookie = None if who == "anonymous" else victim["cookies"][who]
    actor = None if who == "anonymous" else victim["ids"][who]
    changed, client = forged_pass(live_app, victim, who, cookie, actor)
    try:
        markers = dict(victim["secrets"])
        if who in ("anonymous", "rival"):
            markers.update(victim["names"])
        leaked = leaks(client, markers)
        assert changed == {} and leaked == [], f"{who}: changed {changed}; received {leaked}"
    finally:
        client.close()


def legit_pass(live_app, v: dict, who: str, cookie: str | None, keys: list[str]) -> tuple[list[str], ReflexClient]:  # noqa: ANN001
    """The recipes of ``keys`` as their legitimate identity: returns those that changed nothing."""
    fp, unchanged = v["fp"], []
    client = _open(live_app, v, cookie)
    for key in keys:
        r = pr.RECIPES[key]
        before, start = fp.take(), len(client.deltas)
        _steps(live_app, client, r.steps, v)
        deadline = time.time() + 5  # mail and imports land asynchronously
        while not (d := diff(before, fp.take())) and time.time() < deadline:
            time.sleep(0.2)
        _run_settled(v, key)
        if not d or (r.verify and not r.verify(v)):
            said = re.findall(r'"(?:error|message|[a-z_]*error[a-z_]*)(?:_rx_state_)?": "([^"]{3,200})"',
                              client.all_text(start))
            unchanged.append(f"{key} (changed: {d}; the app said: {said[-3:]})")
        _steps(live_app, client, r.after, v)
    return unchanged, client


def _legit(who: str, phase: int | None = None) -> list[str]:
    return [k for k, r in sorted(pr.RECIPES.items(), key=lambda kv: kv[1].phase)
            if r.legit == who and (phase is None or (r.phase == 2) == (phase == 2))]


@pytest.mark.parametrize("who,phase", [("owner", 0), ("superuser", None), ("anonymous", None), ("owner", 2)])
def test_every_mutating_handler_changes_data_for_its_legitimate_identity(live_app, victim, who, phase):
    cookie = None if who == "anonymous" else victim["cookies"][who]
    if who == "owner" and phase == 0:  # the owner is no platform admin: those recipes must change nothing
        changed, client = {}, _open(live_app, victim, cookie)
        for key in _legit("superuser"):
            before = victim["fp"].take()
            _steps(live_app, client, pr.RECIPES[key].steps, victim)
            if d := diff(before, victim["fp"].take()):
                changed[key] = d
        client.close()
        assert changed == {}, f"the victim's owner changed data through platform-admin handlers: {changed}"
    unchanged, client = legit_pass(live_app, victim, who, cookie, _legit(who, phase))
    try:
        leaked = leaks(client, victim["secrets"])
        assert unchanged == [] and leaked == [], \
            f"{who}: valid payloads that changed nothing: {unchanged}; received {leaked}"
    finally:
        client.close()
