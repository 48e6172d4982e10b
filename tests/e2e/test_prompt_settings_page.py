"""The AI settings page in a real browser: an owner points the account at an OpenAI-compatible server
(the fake one of the tests, real HTTP), tests the connection, saves a prompt override and sees a
refused one's message; the key is never shown back in full. An editor gets no page and forged
websocket events change nothing. Own account and site."""

from __future__ import annotations

import json
import sqlite3

import pytest
from playwright.sync_api import expect

from igny8_app.pages.ai_settings.state import AISettingsState
from igny8_app.state import SessionState
from tests.e2e.conftest import shot, ui_login
from tests.fake_openai import FakeOpenAI
from tests.ws_client import ReflexClient

OWNER = ("ai-owner@example.com", "ai-owner-password")
EDITOR = ("ai-editor@example.com", "ai-editor-password")
ACCOUNT = "AI Settings Co"
KEY = "sk-e2e-secret-key-7788"
S = AISettingsState.get_full_name()
HYDRATE = f"{SessionState.get_full_name()}.load_session"


@pytest.fixture(scope="module")
def ai_account(live_app):
    for email, password, role in ((*OWNER, "owner"), (*EDITOR, "editor")):
        r = live_app.cli("create-user", "--email", email, "--password", password, "--account", ACCOUNT,
                         "--role", role)
        assert r.returncode == 0, r.stderr
    r = live_app.cli("create-site", "--account", ACCOUNT, "--name", "AI Site", "--domain", "ai.example.com", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["id"]


@pytest.fixture
def fake():
    server = FakeOpenAI().start()
    yield server
    server.stop()


def _q(app, sql: str, *args):
    with sqlite3.connect(app.data_dir / "igny8.db") as c:
        return c.execute(sql, args).fetchall()


def _account_id(app) -> int:
    return _q(app, "select id from account where name = ?", ACCOUNT)[0][0]


def _open(page, live_app):
    page.goto(f"{live_app.url}/keywords")
    expect(page.locator("#site-selector")).to_contain_text("AI Site")
    page.click("#nav-ai-settings")
    page.wait_for_url("**/settings/ai")
    expect(page.locator("#ai-save")).to_be_visible(timeout=20_000)


def test_owner_configures_provider_tests_connection_and_overrides_prompts(live_app, page, ai_account, fake):
    ui_login(page, live_app.url, *OWNER)
    _open(page, live_app)
    page.select_option("#ai-provider", "openai")
    page.fill("#ai-base_url", "not a url")
    page.fill("#ai-api_key", KEY)
    page.fill("#ai-model_content", "tiny-model")
    page.click("#ai-save")
    expect(page.locator("#err-base_url")).to_contain_text("must be an http(s) URL")
    assert not _q(live_app, "select 1 from account_ai_settings where account_id = ?", _account_id(live_app))

    page.fill("#ai-base_url", fake.base_url)
    page.fill("#ai-api_key", KEY)
    page.click("#ai-save")
    expect(page.locator("#ai-saved")).to_be_visible()
    expect(page.locator("#ai-key-hint")).to_have_text("…7788")
    assert KEY not in page.content()
    (row,) = _q(live_app, "select provider, base_url, api_key_encrypted, api_key_last4 from account_ai_settings "
                          "where account_id = ?", _account_id(live_app))
    assert row[0] == "openai" and row[1] == fake.base_url and KEY not in row[2] and row[3] == "7788"

    page.click("#ai-test")
    expect(page.locator("#ai-check-result")).to_contain_text("tiny-model replied 'OK'", timeout=30_000)
    assert fake.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    assert fake.requests[-1].body["model"] == "tiny-model"

    ideas = page.locator("#prompt-ideas")
    ideas.fill("Plan up to {{max_ideas}} posts about {{cluster_name}}.\nKeywords:\n{{keywords}}\nHouse style: brief.")
    page.click("#prompt-save-ideas")
    expect(page.locator("#prompt-reset-ideas")).to_be_visible()
    (template,) = _q(live_app, "select template from prompt_override where account_id = ? and name = 'ideas'",
                     _account_id(live_app))[0]
    assert template.endswith("House style: brief.")

    page.locator("#prompt-content").fill("Write an article called {{title}}.")
    page.click("#prompt-save-content")
    expect(page.locator("#prompt-error-content")).to_contain_text("must keep the placeholder(s) {{keywords}}")
    assert not _q(live_app, "select 1 from prompt_override where account_id = ? and name = 'content'",
                  _account_id(live_app))
    page.locator("#prompt-error-content").scroll_into_view_if_needed()
    shot(page, "ai-settings-01-refused-prompt")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "ai-settings-02-provider")

    page.reload()  # what is stored comes back; the key still only by its last 4
    expect(page.locator("#ai-key-hint")).to_have_text("…7788", timeout=20_000)
    expect(page.locator("#ai-base_url")).to_have_value(fake.base_url)
    expect(page.locator("#prompt-ideas")).to_have_value(template)
    assert KEY not in page.content()
    page.click("#prompt-reset-ideas")
    expect(page.locator("#prompt-reset-ideas")).to_have_count(0)
    assert not _q(live_app, "select 1 from prompt_override where account_id = ?", _account_id(live_app))


def test_editor_has_no_ai_settings_and_forged_events_change_nothing(live_app, page, ai_account):
    ui_login(page, live_app.url, *EDITOR)
    page.goto(f"{live_app.url}/keywords")
    expect(page.locator("#site-selector")).to_contain_text("AI Site")
    expect(page.locator("#nav-ai-settings")).to_have_count(0)
    page.goto(f"{live_app.url}/settings/ai")
    expect(page.locator("#ai-denied")).to_contain_text("AI settings are for account owners and admins")

    before = (_q(live_app, "select * from account_ai_settings order by account_id"),
              _q(live_app, "select account_id, name, template from prompt_override order by id"))
    client = ReflexClient(live_app.url, session_cookie=live_app.login_cookie(*EDITOR), path="/settings/ai")
    try:
        client.send(HYDRATE)
        client.send(f"{S}.load_ai_settings")
        client.send(f"{S}.save_ai_settings", {"form": {"provider": "openai", "base_url": "http://evil.example/v1",
                                                        "api_key": "sk-forged"}})
        client.send(f"{S}.save_prompt", {"form": {"name": "ideas", "template": "{{cluster_name}} {{keywords}} "
                                                                              "{{max_ideas}} forged"}})
        client.send(f"{S}.reset_prompt", {"name": "ideas"})
        client.send(f"{S}.test_connection")
        text = client.all_text()
    finally:
        client.close()
    after = (_q(live_app, "select * from account_ai_settings order by account_id"),
             _q(live_app, "select account_id, name, template from prompt_override order by id"))
    assert after == before
    assert "evil.example" not in json.dumps(after) and "forged" not in json.dumps(after)
    assert "7788" not in text and KEY not in text
