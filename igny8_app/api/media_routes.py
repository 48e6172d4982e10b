"""Article images and content downloads behind the HttpOnly session cookie.

* ``GET /media/image/{id}``: an image file, looked up by id (never by a client path);
* ``GET /files/content/{id}.html`` / ``.md``: one article as a standalone document;
* ``GET /files/run/{run_id}.zip?site_id=…``: all of a run's articles with their images.

The caller must be able to READ the row's site; anything they may not see is a plain 404, so
nothing leaks. Without a session: 401.
"""

from __future__ import annotations

import re

import base64
import mimetypes
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from igny8_app.api.common import error_response
from igny8_app.db import read_session
from igny8_app.domain.errors import DomainError, NotFound
from igny8_app.domain.roles import Permission
from igny8_app.models import Content, Image, User
from igny8_app.services.accounts import access as accounts
from igny8_app.user_scope import cookie_user_id
from igny8_app.services.content import articles as content_svc

PRIVATE = {"Cache-Control": "private, no-store"}


def _user_id(request: Request) -> int:
    return cookie_user_id(request.headers.get("cookie"))


def _can_read_site(s, user_id: int, site_id: int, what: str) -> None:  # noqa: ANN001
    try:
        accounts.authorize_site(session=s, user=s.get(User, user_id), site_id=site_id, permission=Permission.READ)
    except DomainError:
        raise NotFound(f"{what} not found.") from None


def _image_path(user_id: int, image_id: int) -> tuple[Path, str]:
    with read_session() as s:
        img = s.get(Image, image_id)
        if img is None:
            raise NotFound("Image not found.")
        _can_read_site(s, user_id, img.site_id, "Image")
        path = content_svc.image_file(img)
        if path is None:
            raise NotFound("Image not found.")
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return path, media


def _article(s, user_id: int, content_id: int) -> content_svc.Article:  # noqa: ANN001
    row = s.get(Content, content_id)
    if row is None:
        raise NotFound("Article not found.")
    _can_read_site(s, user_id, row.site_id, "Article")
    return content_svc.get_article(session=s, site_id=row.site_id, content_id=content_id)


def _data_uri(img: Image) -> str | None:
    path = content_svc.image_file(img)
    if path is None:
        return None
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{media};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _article_document(user_id: int, content_id: int, fmt: str, base_url: str) -> tuple[str, str]:
    with read_session() as s:
        article = _article(s, user_id, content_id)
        name = content_svc.slug(article.content.title)
        if fmt == "html":  # standalone: images inlined, so the file opens anywhere
            src = {i.id: uri for i in article.images if (uri := _data_uri(i))}
            return name, content_svc.export_html(article, image_src=src)
        src = {i.id: f"{base_url}/media/image/{i.id}" for i in article.images if content_svc.image_file(i)}
        return name, content_svc.export_markdown(article, image_src=src)


def _run_zip(user_id: int, site_id: int, run_id: str) -> Path:
    with read_session() as s:
        _can_read_site(s, user_id, site_id, "Run")
        return content_svc.run_zip(session=s, site_id=site_id, run_id=run_id)


async def media_image(request: Request) -> Response:
    try:
        user_id = await run_in_threadpool(_user_id, request)
        path, media = await run_in_threadpool(_image_path, user_id, int(request.path_params["image_id"]))
    except DomainError as exc:
        return error_response(exc)
    return FileResponse(path, media_type=media, headers=PRIVATE)


def _download_name(name: str, ext: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}.{ext}"', **PRIVATE}


async def _content_file(request: Request, fmt: str) -> Response:
    try:
        user_id = await run_in_threadpool(_user_id, request)
        base = str(request.base_url).rstrip("/")
        name, text = await run_in_threadpool(_article_document, user_id, int(request.path_params["content_id"]),
                                             fmt, base)
    except DomainError as exc:
        return error_response(exc)
    media = "text/html; charset=utf-8" if fmt == "html" else "text/markdown; charset=utf-8"
    return Response(text, media_type=media, headers=_download_name(name, fmt))


async def content_html(request: Request) -> Response:
    return await _content_file(request, "html")


async def content_md(request: Request) -> Response:
    return await _content_file(request, "md")


async def run_zip(request: Request) -> Response:
    try:
        user_id = await run_in_threadpool(_user_id, request)
        raw = request.query_params.get("site_id", "")
        run_id = request.path_params["run_id"]
        if not re.fullmatch(r"[0-9]{1,10}", raw) or not run_id or len(run_id) > 64:  # ASCII digits only
            raise NotFound("Run not found.")
        path = await run_in_threadpool(_run_zip, user_id, int(raw), run_id)
    except DomainError as exc:
        return error_response(exc)
    safe = content_svc.slug(run_id, "run")
    return FileResponse(path, media_type="application/zip", headers=_download_name(f"igny8-run-{safe}", "zip"),
                        background=BackgroundTask(path.unlink, missing_ok=True))


routes = [
    Route("/media/image/{image_id:int}", media_image, methods=["GET"], name="media_image"),
    Route("/files/content/{content_id:int}.html", content_html, methods=["GET"], name="file_content_html"),
    Route("/files/content/{content_id:int}.md", content_md, methods=["GET"], name="file_content_md"),
    Route("/files/run/{run_id:str}.zip", run_zip, methods=["GET"], name="file_run_zip"),
]
