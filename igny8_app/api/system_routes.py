"""``GET /api/v1/health``: for load balancers and monitoring. No authentication: it reveals only
which part is failing (``{"database": "down"}``), never the error text, which can name hosts;
platform admins see the details on the System page. 200 when the database, Redis and at least one
RQ worker are OK; 503 with the failing part(s) named otherwise, within ~2.5 s even when a part hangs."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

HEALTH_PATH = "/api/v1/health"


async def health(request: Request) -> JSONResponse:
    from igny8_app.services.system import operations as system

    ok, report = await run_in_threadpool(system.health)
    return JSONResponse(system.public_health(report), status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})


routes = [Route(HEALTH_PATH, health, methods=["GET", "HEAD"]), Route(HEALTH_PATH + "/", health, methods=["GET", "HEAD"])]
