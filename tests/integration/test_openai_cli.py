"""`igny8 ai check` in a real subprocess against the fake OpenAI server (real HTTP, no network):
the environment's settings, an account's settings, and a clear failure with exit status 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from igny8_app.db import write_session
from igny8_app.services.automation import ai_settings
from igny8_app.settings import REPO_ROOT
from tests.factories import make_account
from tests.fake_openai import FakeOpenAI, Fault


@pytest.fixture
def fake():
    server = FakeOpenAI().start()
    yield server
    server.stop()


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "igny8_app.cli", "ai", "check", *args], cwd=REPO_ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def test_ai_check_with_the_environment_and_with_an_account(db, fake):
    r = cli("--json", AI_PROVIDER="openai", OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="sk-env",
            OPENAI_MODEL_CONTENT="tiny-model")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] and out["model"] == "tiny-model" and "replied 'OK'" in out["message"]
    (req,) = fake.requests
    assert req.body["model"] == "tiny-model" and req.body["max_tokens"] == 5
    with write_session() as s:
        account = make_account(s)
        ai_settings.update(session=s, account_id=account.id, provider="openai", base_url=fake.base_url,
                           api_key="sk-acct-0042", models={"content": "acct-model"})
        account_id = account.id
    fake.script("/v1/chat/completions", Fault(401, body={"error": {"message": "Invalid key sk-...0042"}}))
    r = cli("--account", str(account_id), AI_PROVIDER="offline")
    assert r.returncode == 1
    assert r.stdout.startswith("FAILED: check (acct-model): HTTP 401, authentication failed (check the API key)")
    assert fake.requests[-1].headers["authorization"] == "Bearer sk-acct-0042"


def test_ai_check_offline_and_unreachable(db):
    r = cli(AI_PROVIDER="offline")
    assert r.returncode == 0 and r.stdout.startswith("OK: The offline provider runs inside the app")
    r = cli(AI_PROVIDER="openai", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    assert r.returncode == 1 and "cannot connect to http://127.0.0.1:9/v1" in r.stdout
