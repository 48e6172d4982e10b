"""In-app notifications: one row per recipient, so each user has their own read state."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from igny8_app.models.base import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        # the same event never notifies a user twice (events may be published more than once)
        sa.UniqueConstraint("user_id", "dedup_key", name="uq_notification_user_dedup"),
        sa.Index("ix_notification_user_created", "user_id", "created_at"),
        sa.Index("ix_notification_user_unread", "user_id", "read_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="SET NULL")
    kind: str = Field(sa_type=sa.String(32))
    title: str = Field(sa_type=sa.String(200))
    body: str = Field(default="", sa_type=sa.Text)
    link: str = Field(default="", sa_type=sa.String(300))
    dedup_key: str = Field(sa_type=sa.String(160))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
