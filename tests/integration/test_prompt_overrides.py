"""Per-account prompt overrides and AI settings (real DB, SQLite and PostgreSQL): validation,
the encrypted key shown only by its last 4, isolation between accounts, and a run whose provider,
models, key and prompt come from the account (through the real SDK against the fake server)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from igny8_app.db import read_session, write_session
from igny8_app.domain.errors import ValidationError
from igny8_app.models import AccountAISettings, ContentIdea, PromptOverride
from igny8_app.services.automation import ai_settings
from igny8_app.services.automation import control as automation
from igny8_app.services.content import keywords
from igny8_app.services.content import prompts
from igny8_app.domain.errors import FieldErrors
from igny8_app.services.system.demo import demo_csv
from igny8_app.services.automation.run_loop import execute_run
from tests.factories import make_account, make_site
from tests.fake_openai import FakeOpenAI

IDEAS = "Plan {{max_ideas}} posts on {{cluster_name}} for {{keywords}}. House style: short titles."


@pytest.fixture
def accounts(db):
    with write_session() as s:
        a, b = make_account(s, credits=50_000), make_account(s, credits=10)
        return a.id, b.id


def test_override_round_trip_and_refusals(accounts):
    a, b = accounts
    with write_session() as s:
        prompts.save_override(session=s, account_id=a, name="ideas", template=IDEAS)
        with pytest.raises(ValidationError) as info:
            prompts.save_override(session=s, account_id=a, name="content", template="Write {{title}} now.")
        assert "must keep the placeholder(s) {{keywords}}" in info.value.message
        with pytest.raises(ValidationError, match="Unknown prompt"):
            prompts.save_override(session=s, account_id=a, name="nope", template="x")
    with read_session() as s:
        mine = {p["name"]: p for p in prompts.list_prompts(session=s, account_id=a)}
        theirs = {p["name"]: p for p in prompts.list_prompts(session=s, account_id=b)}
    assert mine["ideas"]["overridden"] and mine["ideas"]["template"] == IDEAS
    assert not mine["content"]["overridden"] and mine["content"]["template"] == mine["content"]["default"]
    assert not theirs["ideas"]["overridden"] and theirs["ideas"]["template"] == theirs["ideas"]["default"]
    with write_session() as s:  # saving the default text (or nothing) removes the override
        prompts.save_override(session=s, account_id=a, name="ideas", template=mine["ideas"]["default"] + "\n")
        assert prompts.overrides_for(s, a) == {}
        prompts.save_override(session=s, account_id=a, name="ideas", template=IDEAS)
        prompts.save_override(session=s, account_id=a, name="ideas", template="   ")
        assert s.execute(sa.select(sa.func.count()).select_from(PromptOverride)).scalar_one() == 0


def test_settings_store_the_key_encrypted_and_show_only_its_last_4(accounts):
    a, b = accounts
    with write_session() as s:
        view = ai_settings.update(session=s, account_id=a, provider="openai", base_url="http://localhost:11434/v1/",
                                  models={"content": "llama3.1:8b", "images": ""}, api_key="sk-secret-abcd1234")
    assert view["api_key_hint"] == "…1234" and "sk-secret" not in repr(view)
    assert view["base_url"] == "http://localhost:11434/v1" and view["models"]["content"] == "llama3.1:8b"
    with read_session() as s:
        row = s.get(AccountAISettings, a)
        assert "abcd1234" not in row.api_key_encrypted and ai_settings.decrypt_key(row.api_key_encrypted) == "sk-secret-abcd1234"
        name, kwargs = ai_settings.provider_kwargs(s, a)
        assert (name, kwargs["api_key"], kwargs["models"]) == ("openai", "sk-secret-abcd1234", {"content": "llama3.1:8b"})
        assert ai_settings.get_view(session=s, account_id=b)["api_key_hint"] == ""
        assert ai_settings.provider_kwargs(s, b) == ("offline", {})
    with write_session() as s:  # an empty key keeps the stored one; clear_key removes it
        assert ai_settings.update(session=s, account_id=a, provider="openai", api_key="")["api_key_hint"] == "…1234"
        assert ai_settings.update(session=s, account_id=a, provider="openai", clear_key=True)["api_key_hint"] == ""
    with write_session() as s, pytest.raises(FieldErrors) as info:
        ai_settings.update(session=s, account_id=a, provider="magic", base_url="ftp://x", models={"content": "a b"},
                           api_key="with space")
    assert set(info.value.errors) == {"provider", "base_url", "content", "api_key"}


def test_a_run_uses_the_accounts_provider_key_models_and_prompt(db, redis, monkeypatch):
    fake = FakeOpenAI().start()
    try:
        monkeypatch.setenv("AI_PROVIDER", "offline")  # the server default; the account chooses openai
        monkeypatch.setenv("OPENAI_IMAGE_SIZE", "64x64")
        with write_session() as s:
            account = make_account(s, credits=50_000)
            site = make_site(s, account)
            lines = demo_csv().decode().splitlines()
            keywords.import_keywords(session=s, site_id=site.id, data=("\n".join(lines[:9]) + "\n").encode())
            ai_settings.update(session=s, account_id=account.id, provider="openai", base_url=fake.base_url,
                               api_key="sk-account-key-4321", models={"ideas": "house-model", "images": "pic-1"})
            prompts.save_override(session=s, account_id=account.id, name="ideas",
                                  template="Up to {{max_ideas}} distinct article ideas for the topic cluster "
                                           "\"{{cluster_name}}\". Keywords:\n{{keywords}}\nHOUSE STYLE.")
            site_id, account_id = site.id, account.id
        run = automation.start_run(site_id=site_id, enqueue=False)
        assert execute_run(run.id) == "completed"
        ideas_calls = fake.calls("/v1/chat/completions", "IdeasReply")
        assert ideas_calls and all(r.prompt.endswith("HOUSE STYLE.") and r.body["model"] == "house-model"
                                   for r in ideas_calls)
        assert all(r.headers["authorization"] == "Bearer sk-account-key-4321" for r in fake.requests)
        assert {r.body["model"] for r in fake.calls("/v1/images/generations")} == {"pic-1"}
        with read_session() as s:
            assert s.exec(select(ContentIdea).where(ContentIdea.site_id == site_id)).all()
        result = ai_settings.check_connection(account_id=account_id)
        assert result["ok"] and result["provider"] == "openai" and "replied 'OK'" in result["message"]
    finally:
        fake.stop()


def test_check_connection_reports_failures_clearly(accounts):
    a, b = accounts
    with write_session() as s:
        ai_settings.update(session=s, account_id=a, provider="openai", base_url="http://127.0.0.1:9/v1", api_key="k")
    result = ai_settings.check_connection(account_id=a)
    assert not result["ok"] and "cannot connect to http://127.0.0.1:9/v1" in result["message"]
    offline = ai_settings.check_connection(account_id=b)
    assert offline["ok"] and "no connection to test" in offline["message"]
