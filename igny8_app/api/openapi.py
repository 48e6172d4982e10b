"""The OpenAPI 3.0 description of the REST API, served at ``GET /api/v1/openapi.json``.

Written by hand (the routes are plain Starlette); ``tests/integration/test_openapi.py`` checks
that its paths and methods are exactly the mounted ``/api/v1/…`` routes. Paths are documented
without the trailing slash; each also answers with one. What depends on the stages (their numbers,
config keys, queues) is filled in from the stage registry each time the document is served.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from igny8_app.api import openapi_billing
from igny8_app.domain.enums import EventLevel, PauseReason, RequestedAction, RunStatus
from igny8_app.pipeline import stages as registry
from igny8_app.services.automation import config as automation_config

OPENAPI_PATH = "/api/v1/openapi.json"
_AUTO = "/api/v1/automation"

# --- schemas ------------------------------------------------------------------------------------

_INT = {"type": "integer"}
_STR = {"type": "string"}
_NSTR = {"type": "string", "nullable": True}
_TIME = {"type": "string", "format": "date-time"}
_NTIME = {"type": "string", "format": "date-time", "nullable": True}
_RUN_STATUS = {"type": "string", "enum": [s.value for s in RunStatus]}
_PAUSE_REASON = {"type": "string", "enum": [*(r.value for r in PauseReason), None], "nullable": True}


def _obj(props: dict[str, Any], *, required: bool = True, nullable: bool = False,
         extra_props: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """``extra_props``: documented properties a response may leave out."""
    schema: dict[str, Any] = {"type": "object", "properties": {**props, **(extra_props or {})}, **extra}
    if required:
        schema["required"] = list(props)
    if nullable:
        schema["nullable"] = True
    return schema


def _ref(name: str, *, nullable: bool = False) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"allOf": [ref], "nullable": True} if nullable else ref


_STAGE_STATE = _obj({
    "stage": _INT, "name": _STR, "total_items": _INT, "processed_items": _INT, "failed_items": _INT,
    "credits_used": _INT, "finished": {"type": "boolean"}, "result": {"type": "object"},
})

_NINT = {"type": "integer", "nullable": True}


def _config_fields() -> dict[str, Any]:
    """The editable settings; the stages' batch sizes, caps and review gates from the registry."""
    review = automation_config.review_stages()
    return {
        "enabled": {"type": "boolean"},
        "frequency": {"type": "string", "enum": ["daily", "weekly", "monthly"]},
        "scheduled_time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
                           "description": "HH:MM in the account's timezone."},
        "weekday": {**_NINT, "minimum": 0, "maximum": 6, "description": "0 = Monday; for weekly (default Monday)."},
        "month_day": {**_NINT, "minimum": 1, "maximum": 28, "description": "For monthly (default the 1st)."},
        **{st.batch_key: {"type": "integer", "minimum": automation_config.batch_range(st.batch_key)[0],
                          "maximum": automation_config.batch_range(st.batch_key)[1],
                          "description": f"Stage {st.number} ({st.title})."}
           for st in registry.STAGES if st.batch_key},
        "within_stage_delay": {"type": "integer", "minimum": 0, "maximum": 3600, "description": "Seconds."},
        "between_stage_delay": {"type": "integer", "minimum": 0, "maximum": 3600, "description": "Seconds."},
        **{st.cap_key: {**_NINT, "minimum": 1, "maximum": 1_000_000,
                        "description": f"At most this many {st.queue.name} per run (stage {st.number})."}
           for st in registry.STAGES if st.cap_key},
        "max_credits_per_run": {**_NINT, "minimum": 1, "description": "At most the account's balance when set "
                                                                      "(409 `conflict` when above it)."},
        "in_article_images": {"type": "integer", "minimum": 0, "maximum": 5},
        "review_after_stages": {"type": "array",
                                "items": {"type": "integer", "minimum": review[0], "maximum": review[-1]},
                                "description": "Stages after which the run pauses for review."},
    }


def _stage_number() -> dict[str, Any]:
    return {"type": "integer", "enum": registry.numbers(),
            "description": "; ".join(f"{st.number} = {st.title}" for st in registry.STAGES) + "."}

SCHEMAS: dict[str, Any] = {
    "Error": _obj({
        "error": {"type": "string", "description": "Stable code.",
                  "enum": ["unauthenticated", "forbidden", "not_found", "conflict", "insufficient_credits",
                           "invalid", "method_not_allowed"]},
        "detail": {"type": "string", "description": "A message fit to show a person."},
    }),
    "ProcessingState": _obj({
        "run_id": _STR, "site_id": _INT, "status": _RUN_STATUS,
        "requested_action": {"type": "string", "enum": [*(a.value for a in RequestedAction), None],
                             "nullable": True},
        "pause_reason": _PAUSE_REASON, "current_stage": _INT, "stage_count": _INT,
        "stage_name": _STR, "total_items": _INT, "processed_items": _INT, "failed_items": _INT,
        "remaining_count": _INT, "percentage": {"type": "integer", "minimum": 0, "maximum": 100},
        "current_item": _NSTR, "up_next": {"type": "array", "items": _STR}, "credits_used": _INT,
        "estimate_total": {"type": "integer", "nullable": True, "description": "The estimate made at the start."},
        "estimate_remaining": {"type": "integer", "description": "Credits still to go, from the run's own figures."},
        "started_at": _TIME, "completed_at": _NTIME, "duration_seconds": _INT, "error": _NSTR,
        "result": {"type": "string", "nullable": True, "description": "'cap_reached' when the credit cap ended it."},
        "skip_reason": _NSTR,
        "stages": {"type": "array", "items": _STAGE_STATE},
    }),
    "RunSummary": _obj({
        "run_id": _STR, "status": _RUN_STATUS, "trigger": _STR, "current_stage": _INT, "pause_reason": _PAUSE_REASON,
        "started_at": _TIME, "completed_at": _NTIME, "duration_seconds": _INT, "total_credits_used": _INT,
        "error": _NSTR, "skip_reason": _NSTR,
        "result": {"type": "string", "nullable": True, "description": "'cap_reached' when the credit cap ended it."},
        "scheduled_for": {**_NTIME, "description": "The due time of a scheduled run."},
    }),
    "History": _obj({"runs": {"type": "array", "maxItems": 20, "items": _ref("RunSummary")}}),
    "Logs": _obj({
        "run_id": _NSTR,
        "events": {"type": "array", "items": _obj({
            "id": _INT, "stage": {"type": "integer", "nullable": True},
            "level": {"type": "string", "enum": [lv.value for lv in EventLevel]}, "message": _STR,
            "actor": {"type": "string", "nullable": True,
                      "description": "Who did it: a user's email, 'command line', 'scheduler' or 'watchdog'."},
            "created_at": _TIME,
        })},
    }),
    "Estimate": _obj({
        "stages": {"type": "object", "additionalProperties": _INT, "description": "Credits per stage."},
        "total": _INT,
        "items": {"type": "object", "additionalProperties": _INT},
        "required_to_start": {"type": "integer", "description": "Balance needed to start: 1.2 × total, rounded up."},
        "balance": _INT,
    }, extra_props={"basis": {"type": "string", "description": "What the estimate went on: the site's completed "
                                                                  "runs or the stages' parameters, and a clustering dry run."}}),
    "PipelineOverview": _obj({
        "site_id": _INT,
        "stages": {"type": "array", "items": _obj({
            "stage": _INT, "name": _STR, "pending": _INT, "processed": _INT, "failed": _INT,
        })},
    }),
    "RetryFailed": _obj({
        "site_id": _INT, "retried": {"type": "object", "additionalProperties": _INT}, "total": _INT,
    }),
}

# --- parameters and responses -------------------------------------------------------------------

_SITE = {"name": "site_id", "in": "query", "required": True, "description": "The site.",
         "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
_RUN_PATTERN = "^[A-Za-z0-9_-]{1,64}$"


def _run_param(description: str) -> dict[str, Any]:
    return {"name": "run_id", "in": "query", "required": False, "description": description,
            "schema": {"type": "string", "pattern": _RUN_PATTERN}}


_LINES = {"name": "lines", "in": "query", "required": False, "description": "How many of the latest events.",
          "schema": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 100}}

_ERRORS = {
    "401": "No or invalid API token (`unauthenticated`).",
    "403": "The caller's role may not do this (`forbidden`).",
    "404": "No such site or run for this caller (`not_found`).",
    "409": "Illegal transition, a run already active (`conflict`) or too few credits (`insufficient_credits`).",
    "422": "A missing or malformed parameter (`invalid`).",
}


def _op(op_id: str, summary: str, ok: dict[str, Any], params: list[dict[str, Any]], *,
        ok_code: str = "200", errors: tuple[str, ...] = ("401", "404", "422"), role: str = "viewer") -> dict[str, Any]:
    responses = {ok_code: {"description": "Success.", "content": {"application/json": {"schema": ok}}}}
    for code in errors:
        responses[code] = {"description": _ERRORS[code],
                           "content": {"application/json": {"schema": _ref("Error")}}}
    return {"operationId": op_id, "summary": summary, "description": f"Needs role {role} or higher on the site.",
            "tags": ["automation"], "parameters": [_SITE, *params], "responses": responses}


_RUN_ERRORS = ("401", "403", "404", "409", "422")
_COMMAND_RUN = "The run; defaults to the site's running or paused run."

PATHS: dict[str, dict[str, Any]] = {
    f"{_AUTO}/run_now": {"post": _op(
        "runNow", "Start a manual run (refused when one is active or credits are short).", _ref("ProcessingState"),
        [], ok_code="201", errors=_RUN_ERRORS, role="editor")},
    f"{_AUTO}/current_run": {"get": _op(
        "currentRun", "The site's running or paused run, or null.", _ref("RunSummary", nullable=True), [])},
    f"{_AUTO}/current_processing": {"get": _op(
        "currentProcessing", "Live progress of the site's running or paused run, or null.",
        _ref("ProcessingState", nullable=True), [])},
    f"{_AUTO}/pause": {"post": _op(
        "pauseRun", "Pause after the current item (at once when no worker holds the run).", _ref("ProcessingState"),
        [_run_param(_COMMAND_RUN)], errors=_RUN_ERRORS, role="editor")},
    f"{_AUTO}/resume": {"post": _op(
        "resumeRun", "Resume a paused run with its next unprocessed item.", _ref("ProcessingState"),
        [_run_param(_COMMAND_RUN)], errors=_RUN_ERRORS, role="editor")},
    f"{_AUTO}/cancel": {"post": _op(
        "cancelRun", "Cancel after the current item; final.", _ref("ProcessingState"),
        [_run_param(_COMMAND_RUN)], errors=_RUN_ERRORS, role="editor")},
    f"{_AUTO}/retry_failed": {"post": _op(
        "retryFailed", "Put the site's failed items back in their queues.", _ref("RetryFailed"), [],
        errors=("401", "403", "404", "422"), role="editor")},
    f"{_AUTO}/history": {"get": _op("history", "The last 20 runs, newest first.", _ref("History"), [])},
    f"{_AUTO}/logs": {"get": _op(
        "logs", "The latest activity events of a run.", _ref("Logs"),
        [_run_param("The run; defaults to the current run, else the last one."), _LINES])},
    f"{_AUTO}/estimate": {"get": _op("estimate", "Credits a run would need, per stage and in total.",
                                     _ref("Estimate"), [])},
    f"{_AUTO}/pipeline_overview": {"get": _op("pipelineOverview", "Pending, processed and failed items per stage.",
                                              _ref("PipelineOverview"), [])},
    f"{_AUTO}/config": {"get": _op("getConfig", "The site's automation configuration and next scheduled run.",
                                   _ref("Config"), [])},
    f"{_AUTO}/update_config": {"put": {**_op(
        "updateConfig", "Change any of the site's settings; all are validated first, nothing is saved on error.",
        _ref("Config"), [], errors=("401", "403", "404", "409", "422"), role="admin"),
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ConfigUpdate")}}}}},
    OPENAPI_PATH: {"get": {
        "operationId": "openapi", "summary": "This document.", "tags": ["meta"], "security": [],
        "responses": {"200": {"description": "The OpenAPI document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }},
}

# The billing and platform admin APIs (api/openapi_billing.py), documented in their own module.
PATHS.update(openapi_billing.PATHS)
SCHEMAS.update(openapi_billing.SCHEMAS)
SCHEMAS["Error"]["properties"]["error"]["enum"].extend(openapi_billing.ERROR_CODES)

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "IGNY8 Automation API", "version": "1.0.0",
             "description": "Automation runs for a site, an account's billing, and the platform admin's "
                            "billing tools. Authenticate with `Authorization: Bearer <api token>` "
                            "(create one with `igny8 api-token`). Errors are `{\"error\": code, \"detail\": message}`."},
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                           "description": "An API token from `igny8 api-token`."},
                            **openapi_billing.SECURITY_SCHEMES},
        "schemas": SCHEMAS,
    },
}


def _from_registry(schemas: dict[str, Any]) -> None:
    """Fill in what the stage registry decides: stage numbers and titles, the config keys, the queues."""
    number, first, last = _stage_number(), registry.first().number, registry.last().number
    state = schemas["ProcessingState"]["properties"]
    state["current_stage"] = {**number, "description": "The stage the run is at; a finished run keeps the last "
                              f"one ({last}): its status tells it is over. {number['description']}"}
    state["stage_count"] = {"type": "integer", "enum": [len(registry.STAGES)],
                            "description": "How many stages the pipeline has (the card's 'Stage n/N')."}
    items = state["stages"]["items"]  # this document's copy
    items["properties"]["stage"] = number
    state["stages"] = {"type": "array", "items": items, "minItems": len(registry.STAGES),
                       "maxItems": len(registry.STAGES)}
    schemas["RunSummary"]["properties"]["current_stage"] = number
    est = schemas["Estimate"]["properties"]["stages"]
    est["description"] = f"Credits per stage '{first}'..'{last}'."
    overview = schemas["PipelineOverview"]["properties"]["stages"]["items"]["properties"]
    overview["stage"] = number
    schemas["RetryFailed"]["properties"]["retried"] = _obj({st.queue.name: _INT for st in registry.STAGES},
                                                           description="Items put back, per stage's queue.")
    fields = _config_fields()
    schemas["Config"] = _obj({
        "site_id": _INT, **fields, "timezone": _STR, "schedule": _STR, "next_run_at": _NTIME,
        "next_run_local": _NSTR, "last_run_at": _NTIME, "updated_at": _TIME,
    })
    schemas["ConfigUpdate"] = _obj(fields, required=False, additionalProperties=False, minProperties=1,
                                   description="Any subset of the settings; all are validated and saved together.")


def openapi_document() -> dict[str, Any]:
    """The document as served: built from the stage registry at the time of the call."""
    doc = copy.deepcopy(DOCUMENT)
    _from_registry(doc["components"]["schemas"])
    return doc


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


routes = [Route(OPENAPI_PATH, openapi_json, methods=["GET"])]
