"""IGNY8_EMAIL_RETRY_INTERVALS_S: comma-separated whole seconds; a bad value is a clear error."""

from __future__ import annotations

import pytest

from igny8_app.settings import DEFAULT_EMAIL_RETRY_INTERVALS_S, get_settings, reset_settings


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("IGNY8_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "k")
    reset_settings()
    yield
    reset_settings()


@pytest.mark.parametrize(("raw", "want"), [("", DEFAULT_EMAIL_RETRY_INTERVALS_S), ("1,1", (1, 1)),
                                           (" 5 , 30,600 ", (5, 30, 600)), ("0", (0,))])
def test_valid_values(monkeypatch, raw, want) -> None:
    monkeypatch.setenv("IGNY8_EMAIL_RETRY_INTERVALS_S", raw)
    assert get_settings().email_retry_intervals_s == want


@pytest.mark.parametrize("raw", ["ten", "1,,2", "-1", "1.5", ",".join(["1"] * 21)])
def test_bad_values_are_a_clear_error(monkeypatch, raw) -> None:
    monkeypatch.setenv("IGNY8_EMAIL_RETRY_INTERVALS_S", raw)
    with pytest.raises(RuntimeError, match="IGNY8_EMAIL_RETRY_INTERVALS_S must be"):
        get_settings()
