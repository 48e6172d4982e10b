"""Content service: list, read, edit, workflow and export of generated articles.

Callers authorise first (page handlers with ``_authorize``, file routes with ``authorize_site``);
every function here is scoped to a ``site_id`` so a row of another site is simply not found.
"""

from __future__ import annotations

import html as html_lib
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from markdownify import ATX, markdownify
from sqlmodel import Session, select

from igny8_app.ai.html import META_DESCRIPTION_MAX, META_TITLE_MAX, count_words, sanitize_html
from igny8_app.domain import content_workflow
from igny8_app.domain.errors import Conflict, NotFound, ValidationError
from igny8_app.models import Cluster, Content, Image
from igny8_app.models.base import utcnow
from igny8_app.settings import get_settings

TITLE_MAX = 255
PAGE_SIZE_MAX = 200


# --- reading ------------------------------------------------------------------------------------

@dataclass
class ContentPage:
    rows: list[dict]
    total: int
    page: int
    page_size: int


def list_content(*, session: Session, site_id: int, status: str | None = None, cluster_id: int | None = None,
                 page: int = 1, page_size: int = 50) -> ContentPage:
    """A page of the site's articles, newest first, optionally filtered by status and cluster."""
    page = max(1, int(page))
    page_size = max(1, min(PAGE_SIZE_MAX, int(page_size)))
    t, c = Content.__table__, Cluster.__table__
    where = [t.c.site_id == site_id]
    if status:
        if status not in content_workflow.STATUSES:
            raise ValidationError(f"Unknown status filter: {status!r}.")
        where.append(t.c.status == status)
    if cluster_id:
        where.append(t.c.cluster_id == int(cluster_id))
    total = session.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
    rows = session.execute(
        sa.select(t.c.id, t.c.title, t.c.status, t.c.word_count, t.c.created_at, t.c.cluster_id, t.c.run_id,
                  c.c.name.label("cluster_name"))
        .select_from(t.outerjoin(c, c.c.id == t.c.cluster_id))
        .where(*where).order_by(t.c.created_at.desc(), t.c.id.desc())
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    return ContentPage(rows=[dict(r._mapping) for r in rows], total=total, page=page, page_size=page_size)


def clusters_with_content(*, session: Session, site_id: int) -> list[tuple[int, str]]:
    """(id, name) of the site's clusters that have at least one article, for the filter."""
    t, c = Content.__table__, Cluster.__table__
    rows = session.execute(
        sa.select(c.c.id, c.c.name).where(c.c.site_id == site_id)
        .where(sa.exists().where(t.c.cluster_id == c.c.id)).order_by(c.c.name)
    ).all()
    return [(r.id, r.name) for r in rows]


@dataclass
class Article:
    content: Content
    images: list[Image] = field(default_factory=list)
    cluster_name: str = ""

    @property
    def featured(self) -> Image | None:
        return next((i for i in self.images if i.image_type == "featured"), None)

    @property
    def in_article(self) -> list[Image]:
        return [i for i in self.images if i.image_type != "featured"]


def _sorted_images(images: list[Image]) -> list[Image]:
    return sorted(images, key=lambda i: (0 if i.image_type == "featured" else 1, i.position, i.id or 0))


def get_content(*, session: Session, site_id: int, content_id: int) -> Content:
    row = session.get(Content, content_id)
    if row is None or row.site_id != site_id:
        raise NotFound("Article not found.")
    return row


def site_of(*, session: Session, content_id: int) -> int | None:
    """The site an article belongs to (None: no such article). The caller authorises that site."""
    row = session.get(Content, content_id) if content_id else None
    return row.site_id if row is not None else None


def get_article(*, session: Session, site_id: int, content_id: int) -> Article:
    """One article with its images: featured first, then in-article images by position."""
    row = get_content(session=session, site_id=site_id, content_id=content_id)
    images = list(session.exec(select(Image).where(Image.content_id == row.id)).all())
    cluster = session.get(Cluster, row.cluster_id) if row.cluster_id else None
    return Article(content=row, images=_sorted_images(images), cluster_name=cluster.name if cluster else "")


def image_file(image: Image) -> Path | None:
    """The image's file under the media directory, or None (missing, or a path escaping it)."""
    if not image.path:
        return None
    root = get_settings().media_dir.resolve()
    path = (root / image.path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


# --- editing ------------------------------------------------------------------------------------

def validate_fields(*, title: str, meta_title: str, meta_description: str) -> tuple[str, str, str]:
    title, meta_title, meta_description = (" ".join((v or "").split()) for v in (title, meta_title, meta_description))
    errors = []
    if not title:
        errors.append("Title is required.")
    elif len(title) > TITLE_MAX:
        errors.append(f"Title is {len(title)} characters; the limit is {TITLE_MAX}.")
    if len(meta_title) > META_TITLE_MAX:
        errors.append(f"Meta title is {len(meta_title)} characters; the limit is {META_TITLE_MAX}.")
    if len(meta_description) > META_DESCRIPTION_MAX:
        errors.append(f"Meta description is {len(meta_description)} characters; the limit is {META_DESCRIPTION_MAX}.")
    if errors:
        raise ValidationError(" ".join(errors))
    return title, meta_title, meta_description


def update_content(*, session: Session, site_id: int, content_id: int, title: str, meta_title: str,
                   meta_description: str, body: str | None = None) -> Content:
    """Change title/meta fields and (when given) the body, sanitised to the article tag set."""
    row = get_content(session=session, site_id=site_id, content_id=content_id)
    row.title, row.meta_title, row.meta_description = validate_fields(
        title=title, meta_title=meta_title, meta_description=meta_description)
    if body is not None:
        clean = sanitize_html(body)
        if not clean:
            raise ValidationError("The body is empty after removing unsupported markup.")
        row.html = clean
        row.word_count = count_words(clean)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def set_status(*, session: Session, site_id: int, content_id: int, status: str) -> Content:
    """Move an article along the workflow; Conflict when the move is not allowed."""
    row = get_content(session=session, site_id=site_id, content_id=content_id)
    target = content_workflow.check_transition(row.status, status)
    # compare-and-set, so two editors racing cannot both apply a move from the same state
    res = session.execute(sa.update(Content.__table__).where(Content.__table__.c.id == row.id,
                                                             Content.__table__.c.status == row.status)
                          .values(status=target, updated_at=utcnow()))
    if res.rowcount != 1:
        raise Conflict("The article changed meanwhile; reload and try again.")
    session.refresh(row)
    return row


# --- export -------------------------------------------------------------------------------------

_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, fallback: str = "article") -> str:
    s = _SLUG.sub("-", (text or "").lower()).strip("-")[:80].strip("-")
    return s or fallback


_DOC_CSS = """body{font-family:Georgia,'Times New Roman',serif;line-height:1.7;color:#1f2328;max-width:760px;
margin:2.5rem auto;padding:0 1.25rem;font-size:18px}h1{font-size:2.1rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.5rem;margin:2.2rem 0 .6rem}h3{font-size:1.2rem;margin:1.6rem 0 .4rem}
img{max-width:100%;height:auto;border-radius:8px;display:block;margin:1.5rem auto}
figure{margin:1.5rem 0}.meta{color:#57606a;font-size:.95rem}"""


def export_html(article: Article, *, image_src: dict[int, str] | None = None) -> str:
    """A standalone HTML document. ``image_src`` maps image id → src (omit images without one)."""
    c = article.content
    esc = html_lib.escape
    image_src = image_src or {}
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{esc(c.meta_title or c.title)}</title>"]
    if c.meta_description:
        parts.append(f'<meta name="description" content="{esc(c.meta_description)}">')
    parts += [f"<style>{_DOC_CSS}</style>", "</head>", "<body>", "<article>", f"<h1>{esc(c.title)}</h1>"]
    feat = article.featured
    if feat is not None and feat.id in image_src:
        parts.append(f'<figure><img src="{esc(image_src[feat.id])}" alt="{esc(c.title)}"></figure>')
    parts.append(sanitize_html(c.html))
    for img in article.in_article:
        if img.id in image_src:
            parts.append(f'<figure><img src="{esc(image_src[img.id])}" alt="{esc(img.prompt[:120])}"></figure>')
    parts += ["</article>", "</body>", "</html>", ""]
    return "\n".join(parts)


def html_to_markdown(html: str) -> str:
    """Markdown of the sanitised article HTML (markdownify): ATX headings, '-' bullets, '*'/'**'
    emphasis; characters that Markdown would read as syntax are escaped."""
    md = markdownify(sanitize_html(html), heading_style=ATX, bullets="-", strong_em_symbol="*",
                     escape_misc=True)
    return md.strip("\n") + "\n"


def export_markdown(article: Article, *, image_src: dict[int, str] | None = None) -> str:
    c = article.content
    image_src = image_src or {}
    lines = [f"# {c.title}", ""]
    if c.meta_description:
        lines += [f"> {c.meta_description}", ""]
    feat = article.featured
    if feat is not None and feat.id in image_src:
        lines += [f"![{c.title}]({image_src[feat.id]})", ""]
    body = html_to_markdown(c.html)
    lines.append(body.rstrip("\n"))
    for img in article.in_article:
        if img.id in image_src:
            lines += ["", f"![image {img.position}]({image_src[img.id]})"]
    return "\n".join(lines) + "\n"


def run_zip(*, session: Session, site_id: int, run_id: str) -> Path:
    """A zip (temp file; the caller deletes it) of a run's articles as .html and .md, with images.

    Layout: ``<nn>-<slug>/article.html``, ``article.md`` and ``images/<file>``; the documents
    reference their images relatively, so the folder opens offline.
    """
    rows = list(session.exec(select(Content).where(Content.site_id == site_id, Content.run_id == run_id)
                             .order_by(Content.id)).all())
    if not rows:
        raise NotFound("No content for this run.")
    fd, name = tempfile.mkstemp(prefix="igny8-run-", suffix=".zip")
    os.close(fd)
    path = Path(name)
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for n, row in enumerate(rows, 1):
                article = get_article(session=session, site_id=site_id, content_id=row.id)
                folder = f"{n:03d}-{slug(row.title)}"
                src: dict[int, str] = {}
                for img in article.images:
                    file = image_file(img)
                    if file is None:
                        continue
                    arc = f"images/{img.image_type}-{img.position}-{img.id}{file.suffix}"
                    zf.write(file, f"{folder}/{arc}")
                    src[img.id] = arc
                zf.writestr(f"{folder}/article.html", export_html(article, image_src=src))
                zf.writestr(f"{folder}/article.md", export_markdown(article, image_src=src))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
