"""One live app per test session for the e2e and websocket tests (SQLite, private Redis)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import private_redis_server
from tests.fake_stripe import start_fake_stripe
from tests.live_app import start_live_app, stop_live_app


@pytest.fixture(scope="session")
def live_redis_url(tmp_path_factory):
    """The live app's own Redis: integration tests flush theirs and enqueue jobs on it, and the
    live app's workers must not take those jobs (nor lose their state to a flush)."""
    url = os.environ.get("TEST_REDIS_URL")
    if url:  # a shared server: use another database number (queues and keys are per database)
        yield re.sub(r"(/\d*)?$", "/7", url.split("?")[0], count=1)
        return
    with private_redis_server(tmp_path_factory.mktemp("live-redis")) as url:
        yield url


STRIPE_WEBHOOK_SECRET = "whsec_e2e_" + "s" * 24


@pytest.fixture(scope="session")
def fake_stripe_api():
    """A local fake of the Stripe API (tests/fake_stripe.py): the live app's card checkouts go there."""
    fake = start_fake_stripe()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def smtp_sink():
    """A real local SMTP server (aiosmtpd) the live app's workers deliver its emails to."""
    from tests.smtp_sink import SmtpSink

    with SmtpSink() as sink:
        yield sink


#: E2E_WEB_WORKERS=2 runs the live app as it would scaled out (Reflex's Redis state manager, two
#: backend worker processes), so the e2e tests check that events and pushed progress reach a
#: browser whichever process holds its socket. The default (1) is the in-memory single process.
#: Last scaled run: ``E2E_WEB_WORKERS=2 python -m pytest tests/e2e`` -> 52 passed (2026-11-30).
WEB_WORKERS = int(os.environ.get("E2E_WEB_WORKERS", "1"))


@pytest.fixture(scope="session")
def live_app(live_redis_url, tmp_path_factory, fake_stripe_api, smtp_sink):
    scale = {"IGNY8_WEB_WORKERS": str(WEB_WORKERS)}
    if WEB_WORKERS > 1:
        scale["REFLEX_REDIS_URL"] = re.sub(r"/\d+$", "/1", live_redis_url) if live_redis_url.endswith("/0") \
            else live_redis_url
    app = start_live_app(data_dir=tmp_path_factory.mktemp("live"), redis_url=live_redis_url, workers=2,
                         extra_env={"OFFLINE_AI_DELAY_MS": "120", "RUN_HEARTBEAT_TIMEOUT_S": "10",
                                    "STRIPE_SECRET_KEY": "sk_test_e2e", "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
                                    "STRIPE_API_BASE": fake_stripe_api.base, "SMTP_URL": smtp_sink.url, **scale})
    yield app
    stop_live_app(app)


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(f"{path} is missing: scripts/test.sh installs Debian's chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def ui_login(page, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url("**/keywords**", timeout=20_000)
