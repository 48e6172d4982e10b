"""crypto.py: one Fernet key per purpose, derived from SECRET_KEY with HKDF-SHA256."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from igny8_app import crypto

SECRET = "unit-test-secret"


def hkdf_fernet(purpose: str, secret: str = SECRET) -> Fernet:
    """The derivation written out from its parameters, independently of the module."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"igny8-automation/secrets/v1",
               info=f"igny8:{purpose}".encode()).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def legacy_fernet(secret: str = SECRET) -> Fernet:
    digest = hashlib.sha256(("igny8-ai-settings:" + secret).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def test_round_trip_and_new_tokens_use_the_hkdf_key() -> None:
    token = crypto.encrypt(crypto.AI_API_KEY, "sk-live-1234", secret_key=SECRET)
    assert crypto.decrypt(crypto.AI_API_KEY, token, secret_key=SECRET) == "sk-live-1234"
    assert hkdf_fernet(crypto.AI_API_KEY).decrypt(token.encode()) == b"sk-live-1234"
    with pytest.raises(InvalidToken):  # not the old sha256(SECRET_KEY) key any more
        legacy_fernet().decrypt(token.encode())


def test_purposes_get_different_keys() -> None:
    token = crypto.encrypt(crypto.AI_API_KEY, "x", secret_key=SECRET)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(crypto.WORDPRESS_PASSWORD, token, secret_key=SECRET)
    assert crypto.derive_key(crypto.AI_API_KEY, SECRET) != crypto.derive_key(crypto.WORDPRESS_PASSWORD, SECRET)


def test_wrong_secret_key_fails_clearly() -> None:
    token = crypto.encrypt(crypto.AI_API_KEY, "sk-live-1234", secret_key=SECRET)
    with pytest.raises(crypto.DecryptionError, match="SECRET_KEY"):
        crypto.decrypt(crypto.AI_API_KEY, token, secret_key="another-secret")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(crypto.AI_API_KEY, "not a token", secret_key=SECRET)


def test_unknown_purpose_and_empty_secret_are_refused() -> None:
    with pytest.raises(ValueError, match="purpose"):
        crypto.encrypt("ai-api-keys", "x", secret_key=SECRET)
    with pytest.raises(ValueError, match="SECRET_KEY"):
        crypto.encrypt(crypto.AI_API_KEY, "x", secret_key="")


def test_ai_settings_uses_the_shared_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    from igny8_app.services.automation import ai_settings
    from igny8_app.settings import reset_settings

    monkeypatch.setenv("SECRET_KEY", SECRET)
    reset_settings()
    try:
        token = ai_settings.encrypt_key("sk-abc")
        assert hkdf_fernet(crypto.AI_API_KEY).decrypt(token.encode()) == b"sk-abc"
        assert ai_settings.decrypt_key(token) == "sk-abc"
        monkeypatch.setenv("SECRET_KEY", "rotated")
        reset_settings()
        assert ai_settings.decrypt_key(token) == ""  # unreadable: the page asks for the key again
    finally:
        reset_settings()
