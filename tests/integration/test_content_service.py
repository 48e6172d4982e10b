"""Content service: listing/filters, workflow, validated and sanitised edits, HTML/Markdown/zip export."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image as PILImage

from igny8_app import db as dbmod
from igny8_app.domain import content_workflow as wf
from igny8_app.domain.errors import Conflict, NotFound, ValidationError
from igny8_app.models import Cluster, Content, Image
from igny8_app.services.content import articles as svc
from igny8_app.settings import get_settings
from tests.factories import make_account, make_site

BODY = "<h2>Why soil matters</h2><p>Good <strong>soil</strong> is <em>alive</em>.</p><ul><li>Compost</li><li>Mulch</li></ul>"


def png_bytes(color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (8, 6), color).save(buf, format="PNG")
    return buf.getvalue()


def add_image(s, content: Content, image_type: str, position: int) -> Image:
    rel = f"site{content.site_id}/c{content.id}-{image_type}-{position}.png"
    path = get_settings().media_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes())
    img = Image(site_id=content.site_id, content_id=content.id, image_type=image_type, position=position,
                prompt=f"{image_type} {position}", path=rel, format="png", status="generated")
    s.add(img)
    s.flush()
    return img


@pytest.fixture
def world(db):
    with dbmod.write_session() as s:
        acct = make_account(s)
        site, other = make_site(s, acct), make_site(s, acct)
        c1 = Cluster(site_id=site.id, name="Soil")
        c2 = Cluster(site_id=site.id, name="Water")
        s.add_all([c1, c2])
        s.flush()
        rows = []
        for i in range(5):
            row = Content(site_id=site.id, cluster_id=(c1 if i % 2 == 0 else c2).id, title=f"Article {i}",
                          html=BODY, word_count=12, run_id="run-a" if i < 3 else "run-b",
                          status="review" if i == 4 else "draft")
            s.add(row)
            rows.append(row)
        stranger = Content(site_id=other.id, title="Other site", html=BODY, run_id="run-a")
        s.add(stranger)
        s.flush()
        # images inserted out of order: in-article 2, featured, in-article 1
        add_image(s, rows[0], "in_article", 2)
        add_image(s, rows[0], "featured", 0)
        add_image(s, rows[0], "in_article", 1)
        return {"site": site.id, "other": other.id, "c1": c1.id, "c2": c2.id, "ids": [r.id for r in rows],
                "stranger": stranger.id}


def test_workflow_table():
    assert wf.can_transition("draft", "review")
    assert wf.can_transition("review", "published") and wf.can_transition("review", "draft")
    assert wf.can_transition("published", "draft")
    for cur, tgt in [("draft", "published"), ("published", "review"), ("draft", "draft"), ("review", "nope")]:
        assert not wf.can_transition(cur, tgt)
        with pytest.raises(Conflict):
            wf.check_transition(cur, tgt)


def test_list_filters_and_pagination(world):
    with dbmod.read_session() as s:
        page = svc.list_content(session=s, site_id=world["site"])
        assert page.total == 5 and [r["id"] for r in page.rows] == sorted(world["ids"], reverse=True)
        assert svc.list_content(session=s, site_id=world["site"], status="review").total == 1
        soil = svc.list_content(session=s, site_id=world["site"], cluster_id=world["c1"])
        assert soil.total == 3 and {r["cluster_name"] for r in soil.rows} == {"Soil"}
        p2 = svc.list_content(session=s, site_id=world["site"], page=2, page_size=2)
        assert [r["id"] for r in p2.rows] == sorted(world["ids"], reverse=True)[2:4]
        assert {n for _, n in svc.clusters_with_content(session=s, site_id=world["site"])} == {"Soil", "Water"}
        with pytest.raises(ValidationError):
            svc.list_content(session=s, site_id=world["site"], status="bogus")


def test_article_images_ordered_and_scoped(world):
    with dbmod.read_session() as s:
        art = svc.get_article(session=s, site_id=world["site"], content_id=world["ids"][0])
        assert [(i.image_type, i.position) for i in art.images] == [("featured", 0), ("in_article", 1),
                                                                    ("in_article", 2)]
        assert art.cluster_name == "Soil"
        with pytest.raises(NotFound):
            svc.get_article(session=s, site_id=world["site"], content_id=world["stranger"])


def test_status_workflow(world):
    cid = world["ids"][0]
    with dbmod.write_session() as s:
        assert svc.set_status(session=s, site_id=world["site"], content_id=cid, status="review").status == "review"
        assert svc.set_status(session=s, site_id=world["site"], content_id=cid, status="published").status == "published"
        with pytest.raises(Conflict):
            svc.set_status(session=s, site_id=world["site"], content_id=cid, status="review")
        assert svc.set_status(session=s, site_id=world["site"], content_id=cid, status="draft").status == "draft"
        with pytest.raises(Conflict):
            svc.set_status(session=s, site_id=world["site"], content_id=cid, status="published")
    with dbmod.read_session() as s:
        assert s.get(Content, cid).status == "draft"


def test_update_validates_and_sanitises(world):
    cid = world["ids"][1]
    with dbmod.write_session() as s:
        with pytest.raises(ValidationError, match="Meta title is 61 characters; the limit is 60"):
            svc.update_content(session=s, site_id=world["site"], content_id=cid, title="T", meta_title="x" * 61,
                               meta_description="")
        with pytest.raises(ValidationError, match="Meta description is 161"):
            svc.update_content(session=s, site_id=world["site"], content_id=cid, title="T", meta_title="",
                               meta_description="y" * 161)
        with pytest.raises(ValidationError, match="Title is 256"):
            svc.update_content(session=s, site_id=world["site"], content_id=cid, title="z" * 256, meta_title="",
                               meta_description="")
        with pytest.raises(ValidationError, match="Title is required"):
            svc.update_content(session=s, site_id=world["site"], content_id=cid, title="  ", meta_title="",
                               meta_description="")
        row = svc.update_content(
            session=s, site_id=world["site"], content_id=cid, title="  New   title ", meta_title="Meta",
            meta_description="Desc",
            body='<h2 onclick="x()">Hi</h2><script>alert(1)</script><p style="c">one two <a href="javascript:x">three</a></p>')
    with dbmod.read_session() as s:
        row = s.get(Content, cid)
        assert row.title == "New title" and row.meta_title == "Meta" and row.meta_description == "Desc"
        assert "<script" not in row.html and "alert" not in row.html and "onclick" not in row.html
        assert "<a" not in row.html and "style" not in row.html
        assert row.html.startswith("<h2>Hi</h2>") and row.word_count == 4


def test_markdown_and_html_export(world):
    with dbmod.read_session() as s:
        art = svc.get_article(session=s, site_id=world["site"], content_id=world["ids"][0])
        art.content.meta_description = "About soil"
        md = svc.export_markdown(art, image_src={art.images[0].id: "img/f.png"})
        doc = svc.export_html(art, image_src={art.images[0].id: "img/f.png"})
    assert md.startswith("# Article 0\n\n> About soil\n\n![Article 0](img/f.png)\n\n## Why soil matters\n\n")
    assert "Good **soil** is *alive*." in md and "- Compost\n- Mulch\n" in md
    assert doc.startswith("<!DOCTYPE html>") and doc.rstrip().endswith("</html>")
    assert "<h1>Article 0</h1>" in doc and '<meta name="description" content="About soil">' in doc
    assert '<img src="img/f.png"' in doc and "<strong>soil</strong>" in doc
    assert svc.html_to_markdown("<p>a*b <em>c</em></p><h3>Sub</h3>") == "a\\*b *c*\n\n### Sub\n"



def test_markdown_export_handles_what_the_hand_written_converter_got_wrong():
    # emphasis with inner spaces stays emphasis (not "** soil **", which Markdown renders literally)
    assert svc.html_to_markdown("<p>Good<strong> soil </strong>is</p>") == "Good **soil** is\n"
    # nested lists keep their nesting
    assert svc.html_to_markdown("<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>") == "- a\n  - b\n- c\n"
    # text that looks like Markdown block syntax stays text
    assert svc.html_to_markdown("<p>1. Not a list</p><p>- nor this</p>") == "1\\. Not a list\n\n\\- nor this\n"

def test_run_zip(world):
    with dbmod.read_session() as s:
        path = svc.run_zip(session=s, site_id=world["site"], run_id="run-a")
        with pytest.raises(NotFound):
            svc.run_zip(session=s, site_id=world["site"], run_id="nope")
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            assert sum(n.endswith("article.html") for n in names) == 3  # not the other site's run-a row
            assert sum(n.endswith("article.md") for n in names) == 3
            pngs = [n for n in names if n.endswith(".png")]
            assert len(pngs) == 3 and zf.read(pngs[0]).startswith(b"\x89PNG")
            first = next(n for n in names if n.startswith("001-") and n.endswith("article.html"))
            html = zf.read(first).decode()
            assert 'src="images/featured-0-' in html
    finally:
        path.unlink()


def test_image_file_refuses_escaping_paths(world):
    assert svc.image_file(Image(site_id=1, content_id=1, image_type="featured", prompt="", path="../../etc/passwd")) is None
    assert svc.image_file(Image(site_id=1, content_id=1, image_type="featured", prompt="", path=None)) is None
