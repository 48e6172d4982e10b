"""/content/ID's loader authorises the article's site on every call, also when that site is the
state's active one: the active site is a value the browser's state kept from an earlier load, and
a member removed since then must not read the site's articles through it. The page's real
handler runs on a stand-in for the Reflex state (its own helper methods bound to it)."""

from __future__ import annotations

import types
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from igny8_app.db import write_session
from igny8_app.domain.enums import Role
from igny8_app.models import Content, User
from igny8_app.pages.content.state import ContentState
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import team
from igny8_app.state import SessionState
from tests.engine_helpers import seed_site
from tests.factories import make_user


class Page(SimpleNamespace):
    """Stands in for a ContentState instance."""


def page_for(token: str, site_id: int, content_id: int) -> Page:
    page = Page(authenticated=True, active_site_id=site_id, editing=False, edit_error="", view_id=0,
                article_missing=False, error="",
                router=SimpleNamespace(page=SimpleNamespace(params={"content_id": str(content_id)})))
    for cls in (SessionState, ContentState):
        for name, fn in vars(cls).items():
            if name.startswith("_") and not name.startswith("__") and isinstance(fn, types.FunctionType):
                setattr(page, name, types.MethodType(fn, page))
    page._session_token = lambda: token
    page._fill = lambda s, u: None  # the header's account/site lists: not under test
    page._fail = lambda exc: setattr(page, "error", exc.message)
    return page


@pytest.fixture
def world(db):
    ref = seed_site(n_keywords=0)
    with write_session() as s:
        account = s.execute(sa.text("select name from account where id = :i"), {"i": ref.account_id}).scalar_one()
        owner = make_user(s, account=account, role=Role.OWNER)
        editor = make_user(s, account=account, role=Role.EDITOR)
        article = Content(site_id=ref.site_id, title="Members only", html="<p>secret draft</p>")
        s.add(article)
        s.flush()
        return SimpleNamespace(site_id=ref.site_id, account_id=ref.account_id, owner=owner.id, editor=editor.id,
                               editor_session=accounts.open_session(session=s, user=editor), article=article.id)


def test_a_member_reads_the_article_on_the_active_site(world) -> None:
    page = page_for(world.editor_session, world.site_id, world.article)
    ContentState.__dict__["load_article_page"].fn(page)
    assert (page.view_id, page.article_missing, page.a_title) == (world.article, False, "Members only")


def test_a_removed_member_with_the_site_still_active_in_its_state_sees_not_found(world) -> None:
    with write_session() as s:
        team.remove_member(session=s, actor=s.get(User, world.owner), account_id=world.account_id,
                           user_id=world.editor)
    page = page_for(world.editor_session, world.site_id, world.article)  # stale: the site is still active
    ContentState.__dict__["load_article_page"].fn(page)
    assert (page.view_id, page.article_missing) == (0, True)
    assert getattr(page, "a_title", "") != "Members only"
