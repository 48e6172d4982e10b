"""Secrets at rest (the accounts' AI API keys; later the WordPress application passwords): Fernet
tokens under a key derived from SECRET_KEY with HKDF-SHA256, one key per purpose (the HKDF info),
so a token made for one purpose never decrypts as another. Every encrypted column goes through here.

Changing HKDF_SALT, the info format or a purpose name makes every stored token unreadable: that
needs a migration that re-encrypts (see alembic/versions/0007_hkdf_ai_keys.py)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

AI_API_KEY = "ai-api-key"
WORDPRESS_PASSWORD = "wordpress-password"
PURPOSES = frozenset({AI_API_KEY, WORDPRESS_PASSWORD})
HKDF_SALT = b"igny8-automation/secrets/v1"


class DecryptionError(Exception):
    """A token this SECRET_KEY cannot read: SECRET_KEY changed, wrong purpose, or a damaged token."""


def derive_key(purpose: str, secret_key: str) -> bytes:
    """The 32-byte key for ``purpose`` (HKDF-SHA256 of SECRET_KEY, info ``igny8:<purpose>``)."""
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown encryption purpose {purpose!r}; one of {sorted(PURPOSES)}.")
    if not secret_key:
        raise ValueError("SECRET_KEY is empty: it is needed to encrypt and decrypt stored secrets.")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT,
                info=f"igny8:{purpose}".encode()).derive(secret_key.encode())


def _fernet(purpose: str, secret_key: str | None) -> Fernet:
    if secret_key is None:
        from igny8_app.settings import get_settings

        secret_key = get_settings().secret_key
    return Fernet(base64.urlsafe_b64encode(derive_key(purpose, secret_key)))


def encrypt(purpose: str, plaintext: str, *, secret_key: str | None = None) -> str:
    """A Fernet token (str) for ``plaintext``; ``secret_key`` defaults to the settings' SECRET_KEY."""
    return _fernet(purpose, secret_key).encrypt(plaintext.encode()).decode()


def decrypt(purpose: str, token: str, *, secret_key: str | None = None) -> str:
    """The plaintext of ``token``. Raises DecryptionError when this SECRET_KEY cannot read it."""
    f = _fernet(purpose, secret_key)
    try:
        return f.decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError(
            f"Cannot decrypt the stored {purpose}: it was encrypted with another SECRET_KEY (or is "
            "damaged). Restore the SECRET_KEY it was written with, or enter the secret again.") from exc
