"""Account administration: invitations, the account audit log, password-reset links."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from igny8_app.models.base import UTCDateTime, utcnow


class Invitation(SQLModel, table=True):
    """A single-use, expiring invitation to join an account. Only the token's SHA-256 is stored."""

    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    email: str = Field(sa_type=sa.String(254), index=True)
    role: str = Field(sa_type=sa.String(16))
    token_hash: str = Field(sa_type=sa.String(64), unique=True, index=True)
    invited_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountAudit(SQLModel, table=True):
    """Who changed what in an account's administration, and when. The actor's email is copied so
    the entry survives the actor's deletion."""

    __tablename__ = "account_audit"
    __table_args__ = (sa.Index("ix_account_audit_account_created", "account_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    actor_email: str = Field(sa_type=sa.String(254))
    action: str = Field(sa_type=sa.String(40))
    target: str = Field(default="", sa_type=sa.String(254))
    detail: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PasswordReset(SQLModel, table=True):
    """A single-use, expiring password-reset link (emailed, or forced by an owner/superuser)."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True, index=True)
    forced_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
