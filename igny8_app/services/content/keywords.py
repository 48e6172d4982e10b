"""Keyword import, manual add and the paginated keyword list.

The same ``import_keywords`` backs the UI upload, the CLI and the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session

from igny8_app.db import insert_ignore
from igny8_app.domain.enums import KeywordStatus
from igny8_app.domain.errors import NotFound, ValidationError
from igny8_app.domain.keyword_csv import RowError, parse_keyword_csv, validate_keyword_fields
from igny8_app.models import Keyword, Site, utcnow

INSERT_CHUNK = 2_000
MAX_REPORTED_ERRORS = 1_000
PAGE_SIZES = (25, 50, 100, 200)
SORTABLE = {
    "keyword": Keyword.keyword_norm,
    "volume": Keyword.volume,
    "difficulty": Keyword.difficulty,
    "status": Keyword.status,
    "created_at": Keyword.id,
}

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class ImportResult:
    imported: int = 0
    duplicates: int = 0
    invalid: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors[:MAX_REPORTED_ERRORS]],
        }


def _existing_norms(session: Session, site_id: int, norms: list[str]) -> set[str]:
    found: set[str] = set()
    t = Keyword.__table__
    for i in range(0, len(norms), 900):  # stay under SQLite's bound-parameter limit
        chunk = norms[i : i + 900]
        found.update(
            session.execute(
                sa.select(t.c.keyword_norm).where(t.c.site_id == site_id, t.c.keyword_norm.in_(chunk))
            ).scalars()
        )
    return found


def import_keywords(*, session: Session, site_id: int, data: bytes, progress: Progress | None = None) -> ImportResult:
    """Validate the whole file, then insert every valid new keyword in the caller's transaction.

    A fatal problem raises ImportRejected before anything is written.
    """
    if session.get(Site, site_id) is None:
        raise NotFound(f"Site {site_id} does not exist.")
    parsed = parse_keyword_csv(data)
    result = ImportResult(duplicates=parsed.duplicates, invalid=len(parsed.errors), errors=parsed.errors)
    existing = _existing_norms(session, site_id, [r.keyword_norm for r in parsed.rows])
    rows = [r for r in parsed.rows if r.keyword_norm not in existing]
    result.duplicates += len(parsed.rows) - len(rows)
    total = len(rows)
    if progress:
        progress(0, total)
    now = utcnow()
    for i in range(0, total, INSERT_CHUNK):
        chunk = rows[i : i + INSERT_CHUNK]
        inserted = insert_ignore(
            session,
            Keyword.__table__,
            [
                {"site_id": site_id, "keyword": r.keyword, "keyword_norm": r.keyword_norm, "volume": r.volume,
                 "difficulty": r.difficulty, "intent": r.intent, "status": KeywordStatus.NEW.value,
                 "attempts": 0,
                 "created_at": now, "updated_at": now}
                for r in chunk
            ],
            conflict_columns=["site_id", "keyword_norm"],
        )
        result.imported += inserted
        result.duplicates += len(chunk) - inserted  # raced in by a concurrent import
        if progress:
            progress(min(i + INSERT_CHUNK, total), total)
    return result


def add_keyword(*, session: Session, site_id: int, keyword: str, volume: str | int | None = None,
                difficulty: str | int | None = None, intent: str | None = None) -> Keyword:
    try:
        kw, norm, vol, diff, intent_v = validate_keyword_fields(keyword, volume, difficulty, intent)
    except ValueError as exc:
        raise ValidationError(str(exc).capitalize() + ".") from None
    if _existing_norms(session, site_id, [norm]):
        raise ValidationError(f"'{kw}' is already in this site's keywords.")
    row = Keyword(site_id=site_id, keyword=kw, keyword_norm=norm, volume=vol, difficulty=diff, intent=intent_v)
    session.add(row)
    session.flush()
    return row


@dataclass
class KeywordPage:
    rows: list[dict]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def list_keywords(
    *,
    session: Session,
    site_id: int,
    search: str = "",
    status: str = "",
    sort: str = "created_at",
    descending: bool = True,
    page: int = 1,
    page_size: int = 50,
) -> KeywordPage:
    """Server-side filtered, sorted and paginated keywords, with a total count."""
    if page_size not in PAGE_SIZES:
        page_size = 50
    page = max(1, int(page))
    column = SORTABLE.get(sort, Keyword.id)
    conditions = [Keyword.site_id == site_id]
    if status:
        conditions.append(Keyword.status == status)
    search = (search or "").strip()
    if search:
        from igny8_app.domain.text import normalize_keyword

        pattern = "%" + normalize_keyword(search).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(Keyword.keyword_norm.like(pattern, escape="\\"))
    total = session.execute(sa.select(sa.func.count()).select_from(Keyword).where(*conditions)).scalar_one()
    order = [column.desc() if descending else column.asc(), Keyword.id.desc() if descending else Keyword.id.asc()]
    t = Keyword.__table__
    # Deferred join: page through ids only (covered by the (site_id, …) indexes), then fetch the
    # page's 50 rows. Deep offsets stay cheap because skipped rows are never read from the table.
    page_ids = (
        sa.select(Keyword.id).where(*conditions).order_by(*order)
        .limit(page_size).offset((page - 1) * page_size).scalar_subquery()
    )
    stmt = (
        sa.select(t.c.id, t.c.keyword, t.c.volume, t.c.difficulty, t.c.intent, t.c.status, t.c.cluster_id)
        .where(t.c.id.in_(page_ids)).order_by(*order)
    )
    rows = [dict(r._mapping) for r in session.execute(stmt)]
    return KeywordPage(rows=rows, total=int(total), page=page, page_size=page_size)


def keyword_counts(*, session: Session, site_id: int) -> dict[str, int]:
    rows = session.execute(
        sa.select(Keyword.status, sa.func.count()).where(Keyword.site_id == site_id).group_by(Keyword.status)
    ).all()
    return {status: int(n) for status, n in rows}
