"""Keywords: a server-side paginated table with search, status filter and sorting; manual add;
CSV import with progress and a per-line error report."""

from __future__ import annotations

import re

import asyncio
import threading
from typing import Any

import reflex as rx

from igny8_app.db import write_session
from igny8_app.domain.enums import KeywordStatus
from igny8_app.domain.errors import DomainError
from igny8_app.domain.roles import Permission
from igny8_app.services.content import keywords as kw_service
from igny8_app.settings import MAX_IMPORT_BYTES

TOO_LARGE = f"The file is larger than {MAX_IMPORT_BYTES // 1_048_576} MB; nothing was imported."
REFUSED = f"Choose one .csv or .txt file of at most {MAX_IMPORT_BYTES // 1_048_576} MB; nothing was imported."
from igny8_app.state import PAGE_LOADERS, SessionState

STATUS_OPTIONS = ["all", *(s.value for s in KeywordStatus)]
INTENTS = ["informational", "commercial", "transactional", "navigational"]
SHOWN_ERRORS = 200


class KeywordsState(SessionState):
    rows: list[dict[str, Any]] = []
    total: int = 0
    page: int = 1
    page_size: int = 50
    search: str = ""
    status_filter: str = "all"
    sort: str = "created_at"
    descending: bool = True
    counts: dict[str, int] = {}
    loading: bool = False
    # add dialog
    add_open: bool = False
    # import
    import_open: bool = False
    importing: bool = False
    import_done: int = 0
    import_total: int = 0
    import_phase: str = ""
    import_summary: dict[str, int] = {}
    import_errors: list[dict[str, Any]] = []
    import_error_count: int = 0
    import_fatal: str = ""
    _pending_import: tuple[int, bytes] | None = None  # backend-only: (site_id, file bytes)

    # --- reads ----------------------------------------------------------------------------------

    def _reload(self, ctx) -> None:  # noqa: ANN001
        page = kw_service.list_keywords(
            session=ctx.session, site_id=ctx.site.id, search=self.search,
            status="" if self.status_filter == "all" else self.status_filter,
            sort=self.sort, descending=self.descending, page=self.page, page_size=self.page_size,
        )
        if page.rows == [] and page.total and self.page > page.pages:
            self.page = page.pages
            return self._reload(ctx)
        self.rows = page.rows
        self.total = page.total
        self.counts = kw_service.keyword_counts(session=ctx.session, site_id=ctx.site.id)

    @rx.event
    def load_keywords(self):
        if not self.active_site_id:
            self.rows, self.total, self.counts = [], 0, {}
            return
        try:
            with self._authorize(Permission.READ) as ctx:
                self._reload(ctx)
        except DomainError as exc:
            return self._fail(exc)

    @rx.event
    def set_search(self, value: str):
        self.search = value[:200]
        self.page = 1
        return KeywordsState.load_keywords

    @rx.event
    def set_status_filter(self, value: str):
        self.status_filter = value if value in STATUS_OPTIONS else "all"
        self.page = 1
        return KeywordsState.load_keywords

    @rx.event
    def sort_by(self, column: str):
        if column not in kw_service.SORTABLE:
            return
        if self.sort == column:
            self.descending = not self.descending
        else:
            self.sort, self.descending = column, column in ("volume", "created_at", "difficulty")
        self.page = 1
        return KeywordsState.load_keywords

    @rx.event
    def set_page_size(self, value: str):
        size = int(value) if re.fullmatch(r"[0-9]{1,4}", value) else 50
        self.page_size = size if size in kw_service.PAGE_SIZES else 50
        self.page = 1
        return KeywordsState.load_keywords

    @rx.event
    def go_page(self, delta: int):
        self.page = max(1, min(self.page + int(delta), self.page_count))
        return KeywordsState.load_keywords

    # --- writes ---------------------------------------------------------------------------------

    @rx.event
    def set_add_open(self, value: bool):
        self.add_open = bool(value)

    @rx.event
    def add_keyword(self, form: dict[str, Any]):
        try:
            with self._authorize(Permission.RUN) as ctx:
                row = kw_service.add_keyword(
                    session=ctx.session, site_id=ctx.site.id, keyword=str(form.get("keyword", "")),
                    volume=str(form.get("volume", "")), difficulty=str(form.get("difficulty", "")),
                    intent=str(form.get("intent", "")),
                )
                ctx.session.flush()
                self._reload(ctx)
                added = row.keyword
        except DomainError as exc:
            return self._fail(exc)
        self.add_open = False
        return rx.toast.success(f"Added '{added}'.")

    @rx.event
    def set_import_open(self, value: bool):
        self.import_open = bool(value)
        if value and not self.importing:
            self.import_summary, self.import_errors, self.import_fatal = {}, [], ""
            self.import_error_count = 0

    @rx.event
    def reject_file(self):
        """The browser refused the file: over max_size (the server's body limit would cut it off with
        a bare 413), not a CSV, or several. No arguments: the rejections hold the File, which the
        websocket would carry whole."""
        self.import_summary, self.import_errors, self.import_error_count = {}, [], 0
        self.import_fatal = REFUSED

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        """Receive the CSV, check who is asking, then import in the background with progress."""
        if self.importing:
            return rx.toast.warning("An import is already running.")
        try:
            with self._authorize(Permission.RUN) as ctx:
                site_id = ctx.site.id
        except DomainError as exc:
            return self._fail(exc)
        if not files:
            return rx.toast.error("Choose a CSV file first.")
        data = await files[0].read(MAX_IMPORT_BYTES + 1)
        self.import_summary, self.import_errors, self.import_fatal = {}, [], ""
        self.import_error_count = 0
        if len(data) > MAX_IMPORT_BYTES:
            self.import_fatal = TOO_LARGE
            return
        self.importing = True
        self.import_done, self.import_total, self.import_phase = 0, 0, "Checking the file…"
        self._pending_import = (site_id, data)
        return KeywordsState.run_import

    @rx.event(background=True)
    async def run_import(self):
        async with self:
            pending, self._pending_import = self._pending_import, None
        if pending is None:
            return
        site_id, data = pending
        progress = {"done": 0, "total": 0}
        lock = threading.Lock()

        def on_progress(done: int, total: int) -> None:
            with lock:
                progress["done"], progress["total"] = done, total

        def work():
            # Authorisation happened in handle_upload; the import is one transaction.
            with write_session() as s:
                return kw_service.import_keywords(session=s, site_id=site_id, data=data, progress=on_progress)

        task = asyncio.get_running_loop().run_in_executor(None, work)
        while not task.done():
            await asyncio.sleep(0.2)
            async with self:
                with lock:
                    self.import_done, self.import_total = progress["done"], progress["total"]
                self.import_phase = "Importing…" if progress["total"] else "Checking the file…"
        try:
            result = task.result()
        except DomainError as exc:
            async with self:
                self.importing, self.import_phase = False, ""
                self.import_fatal = exc.message + " Nothing was imported."
            return
        except Exception:  # noqa: BLE001 - unexpected: report without leaking internals
            async with self:
                self.importing, self.import_phase = False, ""
                self.import_fatal = "The import failed unexpectedly; nothing was imported."
            return
        async with self:
            self.importing, self.import_phase = False, ""
            self.import_summary = {"imported": result.imported, "duplicates": result.duplicates,
                                   "invalid": result.invalid}
            self.import_error_count = len(result.errors)
            self.import_errors = [{"line": e.line, "reason": e.reason} for e in result.errors[:SHOWN_ERRORS]]
            self.page = 1
        yield KeywordsState.load_keywords
        yield rx.toast.success(f"Imported {result.imported} keywords.")

    # --- derived --------------------------------------------------------------------------------

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @rx.var
    def import_pct(self) -> int:
        return int(self.import_done * 100 / self.import_total) if self.import_total else 0

    @rx.var
    def total_keywords(self) -> int:
        return sum(self.counts.values())

    @rx.var
    def range_label(self) -> str:
        if not self.total:
            return "No keywords"
        first = (self.page - 1) * self.page_size + 1
        return f"{first:,}–{min(self.total, first + len(self.rows) - 1):,} of {self.total:,}"


PAGE_LOADERS["/keywords"] = KeywordsState.load_keywords
