"""Content: the articles generated for the active site — list with filters, a reader view with
images, the draft → review → published workflow, editing and downloads."""

from __future__ import annotations

import re

from typing import Any

import reflex as rx

from igny8_app.domain import content_workflow
from igny8_app.domain.enums import ContentStatus
from igny8_app.domain.errors import DomainError, NotFound, Unauthenticated, ValidationError
from igny8_app.domain.roles import Permission
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import sites
from igny8_app.services.content import articles as content_svc
from igny8_app.state import PAGE_LOADERS, SessionState

PAGE_SIZE = 25
ARTICLE_ROUTE = "/content/[content_id]"
ALL = "all"
STATUS_COLORS = {ContentStatus.DRAFT.value: "gray", ContentStatus.REVIEW.value: "amber",
                 ContentStatus.PUBLISHED.value: "green"}


class ContentState(SessionState):
    articles: list[dict[str, Any]] = []
    article_total: int = 0
    page: int = 1
    status_filter: str = ALL
    cluster_filter: str = ALL
    cluster_options: list[dict[str, str]] = []

    # the open article (0: list view)
    view_id: int = 0
    a_title: str = ""
    a_html: str = ""
    a_meta_title: str = ""
    a_meta_description: str = ""
    a_words: int = 0
    a_status: str = ""
    a_cluster: str = ""
    a_run_id: str = ""
    a_featured: str = ""
    a_images: list[str] = []
    editing: bool = False
    edit_error: str = ""
    article_missing: bool = False  # /content/ID named no article the user may read

    # --- list -----------------------------------------------------------------------------------

    @rx.event
    def load_content(self):
        self.view_id, self.editing, self.article_missing = 0, False, False
        return self._load_list()

    def _load_list(self):
        if not self.active_site_id:
            self.articles, self.article_total, self.cluster_options = [], 0, []
            return None
        try:
            with self._authorize(Permission.READ) as ctx:
                page = content_svc.list_content(
                    session=ctx.session, site_id=ctx.site.id,
                    status=None if self.status_filter == ALL else self.status_filter,
                    cluster_id=None if self.cluster_filter == ALL else int(self.cluster_filter),
                    page=self.page, page_size=PAGE_SIZE)
                clusters = content_svc.clusters_with_content(session=ctx.session, site_id=ctx.site.id)
        except DomainError as exc:
            return self._fail(exc)
        self.article_total = page.total
        self.articles = [{"id": r["id"], "title": r["title"], "status": r["status"], "words": r["word_count"],
                          "cluster": r["cluster_name"] or "—",
                          "color": STATUS_COLORS.get(r["status"], "gray"),
                          "created": r["created_at"].strftime("%Y-%m-%d %H:%M")} for r in page.rows]
        self.cluster_options = [{"value": str(i), "label": n} for i, n in clusters]
        return None

    @rx.event
    def set_status_filter(self, value: str):
        self.status_filter = value if value in (ALL, *content_workflow.STATUSES) else ALL
        self.page = 1
        return self._load_list()

    @rx.event
    def set_cluster_filter(self, value: str):
        self.cluster_filter = value if value == ALL or re.fullmatch(r"[0-9]{1,10}", value) else ALL
        self.page = 1
        return self._load_list()

    @rx.event
    def next_page(self):
        if self.page * PAGE_SIZE < self.article_total:
            self.page += 1
        return self._load_list()

    @rx.event
    def prev_page(self):
        self.page = max(1, self.page - 1)
        return self._load_list()

    @rx.var
    def page_label(self) -> str:
        last = max(1, -(-self.article_total // PAGE_SIZE))
        return f"Page {self.page} of {last} · {self.article_total} articles"

    # --- reader ---------------------------------------------------------------------------------

    def _show(self, art: content_svc.Article) -> None:
        c = art.content
        self.view_id, self.article_missing = c.id, False
        self.a_title, self.a_html = c.title, content_svc.sanitize_html(c.html)
        self.a_meta_title, self.a_meta_description = c.meta_title, c.meta_description
        self.a_words, self.a_status, self.a_run_id = c.word_count, c.status, c.run_id or ""
        self.a_cluster = art.cluster_name
        feat = art.featured
        self.a_featured = f"/media/image/{feat.id}" if feat is not None and feat.path else ""
        self.a_images = [f"/media/image/{i.id}" for i in art.in_article if i.path]

    def _load_article(self, content_id: int):
        try:
            with self._authorize(Permission.READ) as ctx:
                self._show(content_svc.get_article(session=ctx.session, site_id=ctx.site.id, content_id=content_id))
        except DomainError as exc:
            self.view_id = 0
            return self._fail(exc)
        return None

    @rx.event
    def load_article_page(self):
        """on_load of /content/ID: the article, on its own site (made the active one when the user
        may read that site). An id of another account's, or of no article, is "not found" alike."""
        self.editing, self.edit_error = False, ""
        if not self.authenticated:  # load_session already sent the browser to the login page
            return None
        raw = str(self.router.page.params.get("content_id", ""))
        content_id = int(raw) if re.fullmatch(r"[0-9]{1,10}", raw) else 0
        try:
            with self._authorize(site=False) as ctx:
                site_id = content_svc.site_of(session=ctx.session, content_id=content_id)
                if site_id is None:
                    raise NotFound("Article not found.")
                # every time, also for the active site: that value is the state's, kept from an earlier load
                accounts.authorize_site(session=ctx.session, user=ctx.user, site_id=site_id,
                                        permission=Permission.READ)  # NotFound for a site they may not read
                if site_id != self.active_site_id:
                    sites.set_active_site(session=ctx.session, user=ctx.user, site_id=site_id)
                    self._fill(ctx.session, ctx.user)
                self._show(content_svc.get_article(session=ctx.session, site_id=site_id, content_id=content_id))
        except Unauthenticated as exc:
            return self._fail(exc)
        except DomainError:
            self.view_id, self.article_missing = 0, True
        return None

    @rx.event
    def open_article(self, content_id: int):
        self.editing, self.edit_error = False, ""
        return self._load_article(int(content_id))

    @rx.event
    def close_article(self):
        self.view_id, self.editing = 0, False
        return rx.redirect("/content")

    @rx.event
    def change_status(self, target: str):
        try:
            with self._authorize(Permission.RUN) as ctx:
                content_svc.set_status(session=ctx.session, site_id=ctx.site.id, content_id=self.view_id,
                                       status=target)
        except DomainError as exc:
            return self._fail(exc)
        self._load_article(self.view_id)
        return rx.toast.success(f"Moved to {target}.")

    @rx.event
    def start_edit(self):
        self.editing, self.edit_error = True, ""

    @rx.event
    def cancel_edit(self):
        self.editing, self.edit_error = False, ""

    @rx.event
    def save_edit(self, form: dict[str, Any]):
        try:
            with self._authorize(Permission.RUN) as ctx:
                content_svc.update_content(
                    session=ctx.session, site_id=ctx.site.id, content_id=self.view_id,
                    title=str(form.get("title", "")), meta_title=str(form.get("meta_title", "")),
                    meta_description=str(form.get("meta_description", "")), body=str(form.get("body", "")))
        except ValidationError as exc:
            self.edit_error = exc.message
            return None
        except DomainError as exc:
            return self._fail(exc)
        self.editing, self.edit_error = False, ""
        self._load_article(self.view_id)
        return rx.toast.success("Article saved.")

    @rx.var
    def html_href(self) -> str:
        return f"/files/content/{self.view_id}.html"

    @rx.var
    def md_href(self) -> str:
        return f"/files/content/{self.view_id}.md"

    @rx.var
    def zip_href(self) -> str:
        return f"/files/run/{self.a_run_id}.zip?site_id={self.active_site_id}" if self.a_run_id else ""

    @rx.var
    def status_color(self) -> str:
        return STATUS_COLORS.get(self.a_status, "gray")


PAGE_LOADERS["/content"] = ContentState.load_content
PAGE_LOADERS[ARTICLE_ROUTE] = lambda: rx.redirect("/content")  # another site chosen: its articles
