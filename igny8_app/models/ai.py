"""Per-account AI settings and prompt overrides (see services/automation/ai_settings.py, services/content/prompts.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from igny8_app.models.base import JSON, UTCDateTime, utcnow


class AccountAISettings(SQLModel, table=True):
    """An account's AI provider settings over the environment's. Empty strings mean 'the server
    default'. The API key is stored encrypted (crypto.py, HKDF of SECRET_KEY); only its last
    4 characters are ever shown back."""

    __tablename__ = "account_ai_settings"

    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    provider: str = Field(default="", sa_type=sa.String(32))
    base_url: str = Field(default="", sa_type=sa.String(500))
    api_key_encrypted: str = Field(default="", sa_type=sa.Text)
    api_key_last4: str = Field(default="", sa_type=sa.String(4))
    models: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # operation type -> model name
    updated_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PromptOverride(SQLModel, table=True):
    """An account's own template for one prompt of the registry (igny8_app/ai/prompt_registry.py)."""

    __tablename__ = "prompt_override"
    __table_args__ = (sa.UniqueConstraint("account_id", "name", name="uq_prompt_override_account_name"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    name: str = Field(sa_type=sa.String(32))
    template: str = Field(sa_type=sa.Text)
    updated_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
