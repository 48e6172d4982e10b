"""Automation: per-site config, runs, the per-site lock, stage progress and run events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from igny8_app.domain.enums import EventLevel, Frequency, RunStatus, Trigger
from igny8_app.models.base import JSON, UTCDateTime, utcnow


# Defaults (named so the UI, validation and migrations agree).
DEFAULT_BATCH_SIZES = {1: 20, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1}
DEFAULT_WITHIN_STAGE_DELAY_S = 0
DEFAULT_BETWEEN_STAGE_DELAY_S = 0
DEFAULT_IN_ARTICLE_IMAGES = 2


class AutomationConfig(SQLModel, table=True):
    __tablename__ = "automation_config"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE", unique=True)
    enabled: bool = Field(default=False)
    frequency: str = Field(default=Frequency.DAILY.value, sa_type=sa.String(16))
    scheduled_time: str = Field(default="02:00", sa_type=sa.String(5))  # HH:MM, account timezone
    weekday: int | None = Field(default=None)  # 0=Monday, for weekly
    month_day: int | None = Field(default=None)  # 1-28, for monthly
    stage_1_batch_size: int = Field(default=DEFAULT_BATCH_SIZES[1])
    stage_2_batch_size: int = Field(default=DEFAULT_BATCH_SIZES[2])
    stage_3_batch_size: int = Field(default=DEFAULT_BATCH_SIZES[3])
    stage_4_batch_size: int = Field(default=DEFAULT_BATCH_SIZES[4])
    stage_5_batch_size: int = Field(default=DEFAULT_BATCH_SIZES[5])
    stage_6_batch_size: int = Field(default=DEFAULT_BATCH_SIZES[6])
    within_stage_delay: int = Field(default=DEFAULT_WITHIN_STAGE_DELAY_S)  # seconds
    between_stage_delay: int = Field(default=DEFAULT_BETWEEN_STAGE_DELAY_S)  # seconds
    max_keywords_per_run: int | None = Field(default=None)
    max_clusters_per_run: int | None = Field(default=None)
    max_ideas_per_run: int | None = Field(default=None)
    max_tasks_per_run: int | None = Field(default=None)
    max_content_per_run: int | None = Field(default=None)
    max_images_per_run: int | None = Field(default=None)
    max_credits_per_run: int | None = Field(default=None)
    in_article_images: int = Field(default=DEFAULT_IN_ARTICLE_IMAGES)
    review_after_stages: list[int] = Field(default_factory=list, sa_type=JSON)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AutomationRun(SQLModel, table=True):
    __tablename__ = "automation_run"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "scheduled_for", name="uq_run_site_scheduled_for"),
        sa.Index("ix_run_site_started", "site_id", "started_at"),
        sa.Index("ix_run_status_heartbeat", "status", "heartbeat_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(sa_type=sa.String(64), unique=True, index=True)
    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    trigger: str = Field(default=Trigger.MANUAL.value, sa_type=sa.String(16))
    scheduled_for: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=RunStatus.RUNNING.value, sa_type=sa.String(16))
    requested_action: str | None = Field(default=None, sa_type=sa.String(16))
    requested_by: str | None = Field(default=None, sa_type=sa.String(255))  # who asked for requested_action
    pause_reason: str | None = Field(default=None, sa_type=sa.String(32))
    current_stage: int = Field(default=1)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resumed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_seconds: int = Field(default=0)  # accumulated paused time, for durations
    stage_results: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    initial_snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    config_snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    total_credits_used: int = Field(default=0)
    error: str | None = Field(default=None, sa_type=sa.Text)
    skip_reason: str | None = Field(default=None, sa_type=sa.Text)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_owner: str | None = Field(default=None, sa_type=sa.String(128))
    lease_fence: int = Field(default=0)
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class SiteLock(SQLModel, table=True):
    """At most one running-or-paused run per site: the primary key is the site.

    A database row, not a cache key: it cannot expire while work goes on.
    """

    __tablename__ = "site_lock"

    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE", primary_key=True)
    run_pk: int = Field(foreign_key="automation_run.id", ondelete="CASCADE", unique=True)
    acquired_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StageProgress(SQLModel, table=True):
    __tablename__ = "stage_progress"
    __table_args__ = (sa.UniqueConstraint("run_pk", "stage", name="uq_stage_progress_run_stage"),)

    id: int | None = Field(default=None, primary_key=True)
    run_pk: int = Field(foreign_key="automation_run.id", ondelete="CASCADE")
    stage: int
    total_items: int = Field(default=0)
    processed_items: int = Field(default=0)
    failed_items: int = Field(default=0)
    credits_used: int = Field(default=0)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RunEvent(SQLModel, table=True):
    __tablename__ = "run_event"
    __table_args__ = (sa.Index("ix_run_event_run_id", "run_pk", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_pk: int = Field(foreign_key="automation_run.id", ondelete="CASCADE")
    stage: int | None = Field(default=None)
    level: str = Field(default=EventLevel.INFO.value, sa_type=sa.String(8))
    message: str = Field(sa_type=sa.Text)
    actor: str | None = Field(default=None, sa_type=sa.String(255))  # an email, 'scheduler', 'watchdog', 'command line'
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
