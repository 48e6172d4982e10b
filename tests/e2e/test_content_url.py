"""An article has its own URL, /content/ID: it can be opened directly, reloaded and linked from the
list; it switches to the article's site when the user may read it there; another account's
article (or one that does not exist) is "not found", with nothing of it shown."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot, ui_login
from tests.live_app import REPO

SEED = r'''
import json
from igny8_app import db
from igny8_app.models import Account, Content, Site
from sqlmodel import select
from tests.factories import make_account, make_site
with db.write_session() as s:
    acct = s.exec(select(Account).where(Account.name == "Demo Gardens")).one()
    first, second = s.exec(select(Site).where(Site.account_id == acct.id).order_by(Site.id)).all()[:2]
    rival = make_site(s, make_account(s, "Content URL Rival Co"), "Rival Secret Garden")
    def add(site, title):
        c = Content(site_id=site.id, title=title, html=f"<h2>{title} section</h2><p>Body of {title}.</p>",
                    word_count=5, meta_title=title, meta_description="Seeded for the URL test")
        s.add(c)
        s.flush()
        return c.id
    print(json.dumps({"own": add(first, "Linkable Tomato Guide"), "other_site": add(second, "Balcony Herb Primer"),
                      "rival": add(rival, "Rival Confidential Plan"), "first_site": first.id}))
'''


@pytest.fixture(scope="module")
def articles(live_app):
    r = subprocess.run([sys.executable, "-c", SEED], cwd=REPO, env=live_app.env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_article_url_opens_reloads_and_is_linked_from_the_list(live_app, page, articles):
    ui_login(page, live_app.url, *live_app.creds("owner"))
    page.goto(f"{live_app.url}/content/{articles['own']}")
    expect(page.locator("#article-title")).to_have_text("Linkable Tomato Guide")
    expect(page.locator("#article-body h2")).to_have_text("Linkable Tomato Guide section")
    page.reload()
    expect(page.locator("#article-title")).to_have_text("Linkable Tomato Guide")
    shot(page, "content-url-01-article")

    page.locator("#back-to-list").click()
    page.wait_for_url("**/content")
    row = page.locator(".content-row", has_text="Linkable Tomato Guide")
    expect(row).to_be_visible()
    assert row.locator("a").get_attribute("href") == f"/content/{articles['own']}"
    row.locator("a").click()
    page.wait_for_url(f"**/content/{articles['own']}")
    expect(page.locator("#article-title")).to_have_text("Linkable Tomato Guide")


def test_article_url_of_another_site_of_the_account_switches_to_it(live_app, page, articles):
    ui_login(page, live_app.url, *live_app.creds("owner"))
    page.goto(f"{live_app.url}/content/{articles['other_site']}")
    expect(page.locator("#article-title")).to_have_text("Balcony Herb Primer")
    expect(page.locator("#site-selector")).to_contain_text("Urban Balcony Gardens")
    page.goto(f"{live_app.url}/content/{articles['own']}")  # and back: the link names its own site
    expect(page.locator("#article-title")).to_have_text("Linkable Tomato Guide")


@pytest.mark.parametrize("which", ["rival", "missing", "junk"])
def test_article_url_of_another_account_is_not_found(live_app, page, articles, which):
    ui_login(page, live_app.url, *live_app.creds("owner"))
    target = {"rival": str(articles["rival"]), "missing": "987654321", "junk": "12abc"}[which]
    page.goto(f"{live_app.url}/content/{target}")
    expect(page.locator("#article-missing")).to_be_visible()
    expect(page.locator("#article-missing")).to_contain_text("Article not found")
    body = page.locator("body").inner_text()
    assert "Rival Confidential Plan" not in body and "Rival Secret Garden" not in body
    assert page.locator("#article-title").count() == 0
    expect(page.locator("#site-selector")).not_to_contain_text("Rival")
