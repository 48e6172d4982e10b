"""Accounts, users, memberships, sites, sectors, API tokens and login sessions."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from igny8_app.models.base import UTCDateTime, utcnow


class Account(SQLModel, table=True):
    __tablename__ = "account"
    __table_args__ = (sa.CheckConstraint("credits >= 0", name="credits_nonneg"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(120), unique=True, index=True)
    credits: int = Field(default=0)
    is_active: bool = Field(default=True)
    timezone: str = Field(default="UTC", sa_type=sa.String(64))
    low_balance_threshold: int = Field(default=500)
    # set when the balance drops below the threshold, cleared when it is back at or above it;
    # the UI shows one notice per crossing until dismissed
    low_balance_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    low_balance_dismissed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # billing profile (used by invoices)
    billing_email: str | None = Field(default=None, sa_type=sa.String(254))
    company: str | None = Field(default=None, sa_type=sa.String(200))
    address: str | None = Field(default=None, sa_type=sa.Text)
    country: str | None = Field(default=None, sa_type=sa.String(2))
    tax_id: str | None = Field(default=None, sa_type=sa.String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=sa.String(254), unique=True, index=True)
    password_hash: str = Field(sa_type=sa.String(255))
    full_name: str | None = Field(default=None, sa_type=sa.String(120))
    is_superuser: bool = Field(default=False)
    is_active: bool = Field(default=True)
    active_site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # email copies of notifications (in-app notifications are always kept)
    email_notifications: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class Membership(SQLModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("user_id", "account_id", name="uq_membership_user_account"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    role: str = Field(sa_type=sa.String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Site(SQLModel, table=True):
    __tablename__ = "site"
    __table_args__ = (sa.UniqueConstraint("account_id", "name", name="uq_site_account_name"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    name: str = Field(sa_type=sa.String(120))
    domain: str = Field(sa_type=sa.String(253))
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Sector(SQLModel, table=True):
    __tablename__ = "sector"
    __table_args__ = (sa.UniqueConstraint("site_id", "name", name="uq_sector_site_name"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE", index=True)
    name: str = Field(sa_type=sa.String(120))


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    name: str = Field(sa_type=sa.String(120))
    token_hash: str = Field(sa_type=sa.String(64), unique=True, index=True)
    prefix: str = Field(sa_type=sa.String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """A browser login. The browser holds the plain token; only its SHA-256 is stored."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
