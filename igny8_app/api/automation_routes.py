"""REST API for automation runs: ``/api/v1/automation/…``.

Every route is thin: authenticate the bearer token, parse the query parameters, authorise the
caller on the site, call a service, return JSON. Services are synchronous (SQLModel sessions),
so each request's database work runs in Starlette's threadpool.

Errors are ``{"error": code, "detail": message}`` (see ``domain.errors``): 401 without a valid
token, 404 for a site or run the caller cannot see (nothing leaks), 403 when the caller's role
may not act, 409 for illegal transitions and insufficient credits, 422 for bad parameters.
Every path answers with and without a trailing slash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from sqlmodel import Session

from igny8_app.api.body_limit import API_BODY_BYTES
from igny8_app.api.common import bearer_token, error_response
from igny8_app.db import read_session, write_session
from igny8_app.domain.enums import Trigger
from igny8_app.domain.errors import Conflict, DomainError, ValidationError
from igny8_app.domain.roles import Permission
from igny8_app.services.accounts import access as accounts
from igny8_app.services.automation import control as automation
from igny8_app.services.automation import config as automation_config
from igny8_app.services.automation.overview import pipeline_overview as overview_for_site
from igny8_app.user_scope import api_token_scope

PREFIX = "/api/v1/automation"
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
LOGS_DEFAULT_LINES = 100
LOGS_MAX_LINES = 5000
_DIGITS = re.compile(r"^[0-9]{1,10}$")
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# --- parameters ---------------------------------------------------------------------------------

def int_param(params: QueryParams, name: str, *, default: int | None = None, lo: int = 1, hi: int = MAX_ID) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ValidationError(f"The query parameter '{name}' is required.")
        return default
    if not _DIGITS.fullmatch(raw) or not lo <= int(raw) <= hi:
        raise ValidationError(f"'{name}' must be an integer between {lo} and {hi}.")
    return int(raw)


def run_id_param(params: QueryParams) -> str | None:
    raw = params.get("run_id")
    if raw is None:
        return None
    if not _RUN_ID.fullmatch(raw):  # fullmatch: '$' alone would let a trailing newline through
        raise ValidationError("'run_id' must be a run id such as run_20250101_120000_manual_ab12cd.")
    return raw


@dataclass(frozen=True)
class Call:
    """An authenticated, authorised request on one site."""

    user_id: int
    site_id: int
    actor: str  # the token's user, by email, for the activity log
    params: QueryParams
    body: Any = None  # the parsed JSON body of a PUT
    session: Session | None = None  # a command's unit of work (authorised and acted on in it)


def _authorize_in(s: Session, token: str | None, params: QueryParams, permission: Permission,
                  body: Any = None) -> Call:
    user = accounts.resolve_api_token(session=s, token=token)
    site_id = int_param(params, "site_id")
    accounts.authorize_site(session=s, user=user, site_id=site_id, permission=permission)
    return Call(user_id=user.id, site_id=site_id, actor=user.email, params=params, body=body, session=s)


def authorize(token: str | None, params: QueryParams, permission: Permission, body: Any = None) -> Call:
    """For reads: authorise in a read (the token's last-use stamp is its own short write), then the
    handler reads in read sessions."""
    with api_token_scope(token, write=False) as (s, user):
        site_id = int_param(params, "site_id")
        accounts.authorize_site(session=s, user=user, site_id=site_id, permission=permission)
        return Call(user_id=user.id, site_id=site_id, actor=user.email, params=params, body=body)


# --- handlers (sync; run in the threadpool) -----------------------------------------------------

def _run_now(c: Call) -> tuple[int, Any]:
    run = automation.start_run(site_id=c.site_id, trigger=Trigger.MANUAL, user_id=c.user_id, actor=c.actor,
                               session=c.session)
    return 201, automation.processing_state(session=c.session, run=run)


def _current_run(c: Call) -> Any:
    with read_session() as s:
        run = automation.current_run(session=s, site_id=c.site_id)
        return automation.run_summary(run) if run else None


def _current_processing(c: Call) -> Any:
    with read_session() as s:
        run = automation.current_run(session=s, site_id=c.site_id)
        return automation.processing_state(session=s, run=run) if run else None


def _target_run(c: Call, verb: str) -> str:
    """The run named by ``run_id``, else the site's current (running or paused) run."""
    run_id = run_id_param(c.params)
    if run_id:
        return run_id
    run = automation.current_run(session=c.session, site_id=c.site_id)
    if run is None:
        raise Conflict(f"The site has no running or paused run to {verb}.")
    return run.run_id


def _command(service: Callable[..., dict[str, Any]], verb: str) -> Callable[[Call], Any]:
    def handle(c: Call) -> Any:
        return service(run_id=_target_run(c, verb), site_id=c.site_id, actor=c.actor, session=c.session)

    handle.__name__ = f"_{verb}"
    return handle


def _history(c: Call) -> Any:
    with read_session() as s:
        return {"runs": automation.history(session=s, site_id=c.site_id)}


def _logs(c: Call) -> Any:
    lines = int_param(c.params, "lines", default=LOGS_DEFAULT_LINES, hi=LOGS_MAX_LINES)
    run_id = run_id_param(c.params)
    with read_session() as s:
        if run_id:
            run = automation.get_run(session=s, run_id=run_id, site_id=c.site_id)
        else:
            run = automation.current_run(session=s, site_id=c.site_id) or automation.last_run(
                session=s, site_id=c.site_id)
        if run is None:
            return {"run_id": None, "events": []}
        return {"run_id": run.run_id, "events": automation.logs(session=s, run=run, lines=lines)}


def _estimate(c: Call) -> Any:
    with read_session() as s:
        return automation.estimate(session=s, site_id=c.site_id)


def _pipeline_overview(c: Call) -> Any:
    with read_session() as s:
        return {"site_id": c.site_id, "stages": overview_for_site(session=s, site_id=c.site_id)}


def _config(c: Call) -> Any:
    return automation_config.get_config(site_id=c.site_id)


def _json_type_errors(body: dict[str, Any]) -> dict[str, str]:
    """JSON types are checked strictly here (the CLI and forms send strings, which the service
    coerces; an API client sends what the document says)."""
    errors = {}
    for key, value in body.items():
        if key not in automation_config.EDITABLE:
            continue  # the service names unknown settings
        if key == "enabled":
            ok = isinstance(value, bool)
        elif key in ("frequency", "scheduled_time"):
            ok = isinstance(value, str)
        elif key == "review_after_stages":
            ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        else:
            nullable = key in ("weekday", "month_day", "max_credits_per_run", *automation_config.ITEM_CAPS)
            ok = (value is None and nullable) or (isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            errors[key] = "has the wrong JSON type (see the API document)."
    return errors


def _update_config(c: Call) -> Any:
    if not isinstance(c.body, dict) or not c.body:
        raise ValidationError("The body must be a JSON object with at least one setting, e.g. {\"enabled\": true}.")
    errors = _json_type_errors(c.body)
    if errors:
        raise automation_config.ConfigInvalid(errors)
    return automation_config.update_config(site_id=c.site_id, changes=c.body, session=c.session)


def _retry_failed(c: Call) -> Any:
    counts = automation.retry_failed_items(site_id=c.site_id, session=c.session)
    return {"site_id": c.site_id, "retried": counts, "total": sum(counts.values())}


# --- plumbing -----------------------------------------------------------------------------------

def _dispatch(token: str | None, params: QueryParams, permission: Permission,
              handler: Callable[[Call], Any], body: Any = None) -> tuple[int, Any]:
    if permission is Permission.READ:
        result = handler(authorize(token, params, permission, body))
    else:  # a command: one unit of work, authorised and acted on in the same transaction
        with write_session() as s:
            result = handler(_authorize_in(s, token, params, permission, body))
    return result if isinstance(result, tuple) else (200, result)


MAX_BODY_BYTES = API_BODY_BYTES  # defense in depth: BodyLimit refuses larger bodies before they are read


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationError(f"The body is larger than {MAX_BODY_BYTES // 1024} KB.")
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("The body is not valid JSON.") from None


def endpoint(method: str, permission: Permission, handler: Callable[[Call], Any]):  # noqa: ANN201
    allowed = {method, "HEAD"} if method == "GET" else {method}

    async def handle(request: Request) -> Response:
        if request.method not in allowed:
            return JSONResponse({"error": "method_not_allowed", "detail": f"Use {method} for this endpoint."},
                                status_code=405, headers={"Allow": ", ".join(sorted(allowed))})
        try:
            payload = await _json_body(request) if method == "PUT" else None
            status, body = await run_in_threadpool(_dispatch, bearer_token(request), request.query_params,
                                                   permission, handler, payload)
        except DomainError as exc:
            return error_response(exc)
        return JSONResponse(body, status_code=status)

    handle.__name__ = handler.__name__.lstrip("_")
    return handle


ENDPOINTS: list[tuple[str, str, Permission, Callable[[Call], Any]]] = [
    ("run_now", "POST", Permission.RUN, _run_now),
    ("current_run", "GET", Permission.READ, _current_run),
    ("current_processing", "GET", Permission.READ, _current_processing),
    ("pause", "POST", Permission.RUN, _command(automation.pause_run, "pause")),
    ("resume", "POST", Permission.RUN, _command(automation.resume_run, "resume")),
    ("cancel", "POST", Permission.RUN, _command(automation.cancel_run, "cancel")),
    ("retry_failed", "POST", Permission.RUN, _retry_failed),
    ("history", "GET", Permission.READ, _history),
    ("logs", "GET", Permission.READ, _logs),
    ("estimate", "GET", Permission.READ, _estimate),
    ("pipeline_overview", "GET", Permission.READ, _pipeline_overview),
    ("config", "GET", Permission.READ, _config),
    ("update_config", "PUT", Permission.MANAGE, _update_config),
]

# Each path twice: with and without the trailing slash (no redirect). Every method reaches the
# endpoint, so a wrong one gets the JSON 405 above instead of Starlette's plain-text one.
_ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
routes = [
    Route(f"{PREFIX}/{name}{slash}", endpoint(method, perm, handler), methods=_ANY_METHOD,
          name=f"automation_{name}{slash and '_slash'}")
    for name, method, perm, handler in ENDPOINTS
    for slash in ("", "/")
]
