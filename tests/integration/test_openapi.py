"""The OpenAPI document matches the mounted routes, and schemathesis finds no 500 and no response
that breaks the document (status codes, content types, schemas), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from igny8_app import db as dbmod
from igny8_app.api import admin_routes, automation_routes, billing_routes, openapi, openapi_billing
from igny8_app.services.accounts import access as accounts
from igny8_app.services.automation import control as automation
from igny8_app.services.content import keywords
from tests.factories import make_account, make_site, make_user

APP = Starlette(routes=[*automation_routes.routes, *openapi.routes, *billing_routes.routes, *admin_routes.routes])
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def mounted_api_routes() -> list[Route]:
    """The /api/v1 routes of the real app (the Starlette app that Reflex's api_transformer mounts)."""
    from igny8_app.igny8_app import api

    # /api/v1/health (no token, no site: for load balancers) is covered by tests/integration/test_system.py.
    return [r for r in api.routes if isinstance(r, Route) and r.path.startswith("/api/v1/")
            and not r.path.startswith("/api/v1/health")]


def test_document_paths_are_exactly_the_mounted_routes() -> None:
    mounted = {r.path for r in mounted_api_routes()}
    documented = set(openapi.openapi_document()["paths"])
    assert {p.rstrip("/") for p in mounted} == documented
    assert not any(":" in p for p in mounted)  # no path convertor: a malformed id gets the API's JSON 404
    automation = {p for p in documented if p.startswith("/api/v1/automation/")}
    assert len(automation) == len(automation_routes.ENDPOINTS) == 13
    billing = {p for p in documented if p.startswith("/api/v1/billing/")}
    admin = {p for p in documented if p.startswith("/api/v1/admin/")}
    assert len(billing) == len(billing_routes.ENDPOINTS) + 1 == 10  # + the Stripe webhook
    assert len(admin) == len(admin_routes.ENDPOINTS) == 13
    for path in automation | billing | admin:  # each answers with and without the trailing slash
        assert {path, path + "/"} <= mounted


def test_documented_methods_are_the_ones_served() -> None:
    """Without a token, the documented method is refused for want of one (401); any other gets 405.
    (The Stripe webhook takes no token: unconfigured, as here, it answers 404.)"""
    client = TestClient(APP)
    for path, ops in openapi.openapi_document()["paths"].items():
        url = re.sub(r"\{\w+_id\}", "1", path).replace("{operation}", "ideas")
        for method in METHODS:
            r = client.request(method, url, params={"site_id": 1})
            if method.lower() in ops:
                expected = {openapi.OPENAPI_PATH: 200, openapi_billing.WEBHOOK_PATH: 404}.get(path, 401)
                assert r.status_code == expected, (method, path, r.text)
            else:
                assert r.status_code == 405, (method, path, r.status_code)


def test_document_is_served_and_well_formed() -> None:
    doc = TestClient(APP).get(openapi.OPENAPI_PATH).json()
    assert doc == openapi.openapi_document()
    assert doc["openapi"].startswith("3.0.")
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        **doc["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            if not path.startswith("/api/v1/automation/"):  # billing/admin: test_openapi_billing.py
                continue
            assert {"401", "404", "422"} <= codes, (method, path)
            assert (method in ("post", "put")) == ("409" in codes or path.endswith("retry_failed")), (method, path)
            for code in codes - {"200", "201"}:
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}
            assert op["parameters"][0]["name"] == "site_id" and op["parameters"][0]["required"]


# --- schemathesis -------------------------------------------------------------------------------

schema = schemathesis.openapi.from_asgi(openapi.OPENAPI_PATH, APP)
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
CURRENT: dict[str, object] = {}  # this test's token and site (each test has its own database)


@pytest.fixture
def fuzz_site(db, redis, monkeypatch: pytest.MonkeyPatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with dbmod.write_session() as s:
        account = make_account(s, "Fuzz", credits=1_000_000)
        user = make_user(s, account="Fuzz")
        site = make_site(s, account)
        data = ("keyword\n" + "\n".join(f"fuzz keyword {i}" for i in range(12))).encode()
        keywords.import_keywords(session=s, site_id=site.id, data=data)
        CURRENT.update(token=accounts.create_api_token(session=s, user_id=user.id)[1], site_id=site.id)
    automation.start_run(site_id=site.id)  # so pause, resume and cancel reach the state machine
    yield
    CURRENT.clear()


def test_happy_path_responses_match_the_document(fuzz_site) -> None:
    """The responses the fuzzer rarely reaches (paused, resumed, cancelled states, logs with events)."""
    client = TestClient(APP, headers={"Authorization": f"Bearer {CURRENT['token']}"})
    site = {"site_id": CURRENT["site_id"]}
    steps = [("POST", "pause", 200), ("GET", "current_processing", 200), ("GET", "current_run", 200),
             ("POST", "resume", 200), ("POST", "cancel", 200), ("GET", "current_run", 200),
             ("GET", "current_processing", 200), ("POST", "run_now", 201), ("POST", "run_now", 409),
             ("GET", "history", 200), ("GET", "logs", 200), ("GET", "estimate", 200),
             ("GET", "pipeline_overview", 200), ("POST", "retry_failed", 200), ("POST", "resume", 409)]
    for method, name, status in steps:
        path = f"/api/v1/automation/{name}"
        r = client.request(method, path, params=site)
        assert r.status_code == status, (name, r.text)
        schema[path][method].validate_response(r)
    assert len(client.get("/api/v1/automation/logs", params=site).json()["events"]) >= 1
    for method, name, body, status in (("GET", "config", None, 200),
                                       ("PUT", "update_config", {"enabled": True, "stage_1_batch_size": 0}, 422),
                                       ("PUT", "update_config", {"max_credits_per_run": 10_000_000}, 409),
                                       ("PUT", "update_config", {"enabled": True, "frequency": "weekly",
                                                                 "weekday": 4, "max_credits_per_run": 500}, 200)):
        path = f"/api/v1/automation/{name}"
        r = client.request(method, path, params=site, json=body)
        assert r.status_code == status, (name, r.text)
        schema[path][method].validate_response(r)
    r = client.post("/api/v1/automation/pause", params={**site, "run_id": "run_x"})
    assert r.status_code == 404
    schema["/api/v1/automation/pause"]["POST"].validate_response(r)


@schema.include(path_regex="^/api/v1/(automation/|openapi)").parametrize()  # billing/admin: test_openapi_billing.py
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case, fuzz_site) -> None:
    # In valid queries, odd site ids become the caller's own site, so the services run too.
    query = case.query if isinstance(case.query, dict) else {}
    if (case.meta and not case.meta.is_negative_at(ParameterLocation.QUERY)
            and isinstance(query.get("site_id"), int) and query["site_id"] % 2):
        query["site_id"] = CURRENT["site_id"]
    # The caller's token, except in cases that test a missing or malformed Authorization header.
    if not case.operation.schema.is_security_param_negated(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {CURRENT['token']}"}
    case.call_and_validate()
