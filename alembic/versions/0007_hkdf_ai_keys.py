"""Stored AI API keys: re-encrypt from the old key (sha256 of "igny8-ai-settings:" + SECRET_KEY) to the
HKDF-derived key of crypto.py. Downgrade re-encrypts back.

Both derivations are written out here, frozen as they were at this revision, so later changes to
crypto.py cannot change what this migration does. Fails (changing nothing) when a stored
key cannot be read with this SECRET_KEY: run the migration with the SECRET_KEY the keys were saved with.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 09:10:00
"""
from __future__ import annotations

import base64
import hashlib
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from igny8_app.settings import get_settings

revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _legacy(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(("igny8-ai-settings:" + secret).encode()).digest()))


def _hkdf(secret: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"igny8-automation/secrets/v1",
               info=b"igny8:ai-api-key").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def _reencrypt(old: Fernet, new: Fernet) -> None:
    conn = op.get_bind()
    table = sa.table("account_ai_settings", sa.column("account_id", sa.Integer),
                     sa.column("api_key_encrypted", sa.Text))
    rows = conn.execute(sa.select(table.c.account_id, table.c.api_key_encrypted)
                        .where(table.c.api_key_encrypted != "")).all()
    updates, unreadable = [], []
    for account_id, token in rows:
        try:
            plain = old.decrypt(token.encode())
        except InvalidToken:
            try:
                new.decrypt(token.encode())  # already in the target form: leave it
                continue
            except InvalidToken:
                unreadable.append(account_id)
                continue
        updates.append((account_id, new.encrypt(plain).decode()))
    if unreadable:
        raise RuntimeError(
            f"Cannot decrypt the stored AI API keys of accounts {unreadable} with this SECRET_KEY: run "
            "the migration with the SECRET_KEY they were saved with (nothing was changed), or clear those "
            "keys (account_ai_settings.api_key_encrypted = '') and let the owners enter them again.")
    for account_id, token in updates:
        conn.execute(table.update().where(table.c.account_id == account_id).values(api_key_encrypted=token))


def upgrade() -> None:
    secret = get_settings().secret_key
    _reencrypt(_legacy(secret), _hkdf(secret))


def downgrade() -> None:
    secret = get_settings().secret_key
    _reencrypt(_hkdf(secret), _legacy(secret))
