"""Cookie-authenticated image and content downloads: 401 anonymous, 404 for another account's rows,
the owner (and a viewer of the same account) gets the files."""

from __future__ import annotations

import io
import zipfile

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igny8_app import db as dbmod
from igny8_app.api import media_routes
from igny8_app.api.common import SESSION_COOKIE
from igny8_app.domain.enums import Role
from igny8_app.models import Content
from igny8_app.services.accounts import access as accounts
from tests.factories import PASSWORD, make_account, make_site, make_user
from tests.integration.test_content_service import BODY, add_image


@pytest.fixture
def world(db):
    with dbmod.write_session() as s:
        a, b = make_account(s, "Alpha Co"), make_account(s, "Beta Co")
        site_a, site_b = make_site(s, a), make_site(s, b)
        ca = Content(site_id=site_a.id, title="Alpha article", html=BODY + "<script>x()</script>", run_id="r1")
        cb = Content(site_id=site_b.id, title="Beta article", html=BODY, run_id="r1")
        s.add_all([ca, cb])
        s.flush()
        img_a, img_b = add_image(s, ca, "featured", 0), add_image(s, cb, "featured", 0)
        users = {}
        for name, acct, role in [("owner", a, Role.OWNER), ("viewer", a, Role.VIEWER), ("rival", b, Role.OWNER)]:
            users[name] = make_user(s, account=acct.name, role=role).email
        ids = {"site_a": site_a.id, "site_b": site_b.id, "ca": ca.id, "cb": cb.id, "img_a": img_a.id,
               "img_b": img_b.id}
    app = Starlette(routes=media_routes.routes)
    return {"client": TestClient(app), "users": users, **ids}


def login_as(w, who):
    with dbmod.write_session() as s:
        _, token = accounts.login(session=s, email=w["users"][who], password=PASSWORD)
    w["client"].cookies.clear()
    w["client"].cookies.set(SESSION_COOKIE, token)


def urls(w, key):
    c, img, site = ("ca", "img_a", "site_a") if key == "a" else ("cb", "img_b", "site_b")
    return [f"/media/image/{w[img]}", f"/files/content/{w[c]}.html", f"/files/content/{w[c]}.md",
            f"/files/run/r1.zip?site_id={w[site]}"]


def test_anonymous_is_401(world):
    for url in urls(world, "a"):
        r = world["client"].get(url)
        assert r.status_code == 401 and r.json()["error"] == "unauthenticated"


def test_other_account_is_404(world):
    login_as(world, "rival")
    for url in urls(world, "a"):
        assert world["client"].get(url).status_code == 404, url
    assert world["client"].get("/media/image/999999").status_code == 404
    assert world["client"].get("/files/content/999999.html").status_code == 404
    assert world["client"].get(f"/files/run/nope.zip?site_id={world['site_b']}").status_code == 404
    assert world["client"].get("/files/run/r1.zip").status_code == 404


@pytest.mark.parametrize("who", ["owner", "viewer"])
def test_owner_gets_files(world, who):
    login_as(world, who)
    c = world["client"]
    r = c.get(f"/media/image/{world['img_a']}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content.startswith(b"\x89PNG")
    assert r.headers["cache-control"] == "private, no-store"
    r = c.get(f"/files/content/{world['ca']}.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'filename="alpha-article.html"' in r.headers["content-disposition"]
    assert "<h1>Alpha article</h1>" in r.text and "data:image/png;base64," in r.text and "<script" not in r.text
    r = c.get(f"/files/content/{world['ca']}.md")
    assert r.status_code == 200 and r.text.startswith("# Alpha article\n")
    assert f"/media/image/{world['img_a']})" in r.text
    r = c.get(f"/files/run/r1.zip?site_id={world['site_a']}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert sorted(names) == sorted(["001-alpha-article/article.html", "001-alpha-article/article.md",
                                    f"001-alpha-article/images/featured-0-{world['img_a']}.png"])
    # the other account's image, by id, stays hidden
    assert c.get(f"/media/image/{world['img_b']}").status_code == 404
