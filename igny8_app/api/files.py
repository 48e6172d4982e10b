"""Browser downloads behind the HttpOnly session cookie: invoice PDFs and the usage CSV.

``GET /files/invoices/{id}.pdf`` and ``GET /files/usage.csv?account_id=…&from=…`` check the
session like every page handler does (owners and admins of the invoice's account, or a platform
admin); anything the caller may not see is a plain 404, so nothing leaks.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from igny8_app.db import read_session
from igny8_app.domain.errors import DomainError, NotFound
from igny8_app.domain.roles import Permission
from igny8_app.models import Invoice, User
from igny8_app.services.accounts import access as accounts
from igny8_app.user_scope import cookie_user_id
from igny8_app.services.billing import invoices
from igny8_app.services.billing import usage
from igny8_app.services.billing.invoice_pdf import render_invoice_pdf


def _user_id(request: Request) -> int:
    return cookie_user_id(request.headers.get("cookie"))


def can_see_account(s, user: User, account_id: int) -> None:  # noqa: ANN001
    """Owners/admins of the account or superusers; NotFound for strangers, Forbidden for lesser roles."""
    accounts.authorize_account(session=s, user=user, account_id=account_id, permission=Permission.MANAGE)


def invoice_pdf_bytes(user_id: int, invoice_id: int) -> tuple[str, bytes]:
    with read_session() as s:
        user = s.get(User, user_id)
        inv = s.get(Invoice, invoice_id)
        if inv is None:
            raise NotFound("Invoice not found.")
        try:
            can_see_account(s, user, inv.account_id)
        except DomainError:
            raise NotFound("Invoice not found.") from None
        view = invoices.get_invoice(session=s, invoice_id=invoice_id, account_id=None)
        return view.invoice.number, render_invoice_pdf(view)


def _error(exc: DomainError) -> Response:
    return JSONResponse({"error": exc.code, "detail": exc.message}, status_code=exc.http_status)


async def invoice_pdf(request: Request) -> Response:
    try:
        invoice_id = int(request.path_params["invoice_id"])
        user_id = await run_in_threadpool(_user_id, request)
        number, data = await run_in_threadpool(invoice_pdf_bytes, user_id, invoice_id)
    except DomainError as exc:
        return _error(exc)
    return pdf_response(number, data, inline=request.query_params.get("inline") == "1")


def pdf_response(number: str, data: bytes, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'{disposition}; filename="{number}.pdf"', "Cache-Control": "private, no-store"})


def _usage_filter_and_account(request: Request, user_id: int) -> tuple[int, usage.UsageFilter]:
    p = request.query_params
    raw = p.get("account_id", "")
    if not re.fullmatch("[0-9]{1,10}", raw) or not 1 <= int(raw) <= 2**31 - 1:  # ASCII; within the id column
        raise NotFound("Not found.")
    account_id = int(raw)
    with read_session() as s:
        can_see_account(s, s.get(User, user_id), account_id)
    return account_id, usage.UsageFilter.parse(date_from=p.get("from"), date_to=p.get("to"),
                                               operation=p.get("operation"), site_id=p.get("site_id"),
                                               run_id=p.get("run_id"))


def usage_csv_response(account_id: int, f: usage.UsageFilter) -> StreamingResponse:
    return StreamingResponse(usage.export_csv(account_id=account_id, f=f), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="igny8-usage.csv"',
                                      "Cache-Control": "private, no-store"})


async def usage_csv(request: Request) -> Response:
    try:
        user_id = await run_in_threadpool(_user_id, request)
        account_id, f = await run_in_threadpool(_usage_filter_and_account, request, user_id)
    except DomainError as exc:
        return _error(exc)
    return usage_csv_response(account_id, f)


routes = [
    Route("/files/invoices/{invoice_id:int}.pdf", invoice_pdf, methods=["GET"], name="file_invoice_pdf"),
    Route("/files/usage.csv", usage_csv, methods=["GET"], name="file_usage_csv"),
]
