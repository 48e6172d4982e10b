"""One live app per test session for the e2e and websocket tests (SQLite, private Redis)."""

from __future__ import annotations

import pytest

from tests.live_app import start_live_app, stop_live_app


@pytest.fixture(scope="session")
def live_app(redis_url, tmp_path_factory):
    app = start_live_app(data_dir=tmp_path_factory.mktemp("live"), redis_url=redis_url)
    yield app
    stop_live_app(app)
