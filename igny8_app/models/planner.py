"""Planner and writer queues: keywords, clusters, ideas, tasks, content, images.

Every queue table has an index on (site_id, status), a ``failed`` status, ``last_error`` and
``attempts``, so a failing item is never picked up forever. Stage outputs carry unique
constraints (one task per idea, one content per task, one image per content position), so a
duplicate write is refused by the database even if two jobs raced.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from igny8_app.domain.enums import (ClusterStatus, ContentStatus, ContentType, IdeaStatus, ImageStatus,
                                    KeywordStatus, PromptStatus, TaskStatus)
from igny8_app.models.base import UTCDateTime, utcnow


class Keyword(SQLModel, table=True):
    __tablename__ = "keyword"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "keyword_norm", name="uq_keyword_site_norm"),
        sa.Index("ix_keyword_site_status", "site_id", "status"),
        sa.Index("ix_keyword_site_volume", "site_id", "volume"),
        sa.Index("ix_keyword_site_id", "site_id", "id"),  # newest-first pages walk this index
        sa.CheckConstraint("volume >= 0", name="volume_nonneg"),
        sa.CheckConstraint("difficulty IS NULL OR (difficulty BETWEEN 1 AND 5)", name="difficulty_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE")
    keyword: str = Field(sa_type=sa.String(255))
    keyword_norm: str = Field(sa_type=sa.String(255))
    volume: int = Field(default=0)
    difficulty: int | None = Field(default=None)
    intent: str | None = Field(default=None, sa_type=sa.String(16))
    status: str = Field(default=KeywordStatus.NEW.value, sa_type=sa.String(16))
    cluster_id: int | None = Field(default=None, foreign_key="cluster.id", ondelete="SET NULL", index=True)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Cluster(SQLModel, table=True):
    __tablename__ = "cluster"
    __table_args__ = (sa.Index("ix_cluster_site_status", "site_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE")
    name: str = Field(sa_type=sa.String(255))
    description: str = Field(default="", sa_type=sa.Text)
    keywords_count: int = Field(default=0)
    volume: int = Field(default=0)
    status: str = Field(default=ClusterStatus.NEW.value, sa_type=sa.String(16))
    run_id: str | None = Field(default=None, sa_type=sa.String(64))
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ContentIdea(SQLModel, table=True):
    __tablename__ = "content_idea"
    __table_args__ = (
        sa.Index("ix_content_idea_site_status", "site_id", "status"),
        sa.UniqueConstraint("cluster_id", "position", name="uq_content_idea_cluster_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE")
    cluster_id: int = Field(foreign_key="cluster.id", ondelete="CASCADE")
    position: int = Field(default=0)
    idea_title: str = Field(sa_type=sa.String(255))
    description: str = Field(default="", sa_type=sa.Text)
    keywords: str = Field(default="", sa_type=sa.Text)  # comma-separated target keywords
    content_type: str = Field(default=ContentType.POST.value, sa_type=sa.String(16))
    content_structure: str = Field(default="article", sa_type=sa.String(32))
    estimated_word_count: int = Field(default=1000)
    status: str = Field(default=IdeaStatus.NEW.value, sa_type=sa.String(16))
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Task(SQLModel, table=True):
    __tablename__ = "task"
    __table_args__ = (sa.Index("ix_task_site_status", "site_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE")
    cluster_id: int | None = Field(default=None, foreign_key="cluster.id", ondelete="SET NULL")
    idea_id: int | None = Field(default=None, foreign_key="content_idea.id", ondelete="SET NULL", unique=True)
    title: str = Field(sa_type=sa.String(255))
    content_type: str = Field(default=ContentType.POST.value, sa_type=sa.String(16))
    content_structure: str = Field(default="article", sa_type=sa.String(32))
    word_count: int = Field(default=1000)
    status: str = Field(default=TaskStatus.QUEUED.value, sa_type=sa.String(16))
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Content(SQLModel, table=True):
    __tablename__ = "content"
    __table_args__ = (
        sa.Index("ix_content_site_status", "site_id", "status"),
        sa.Index("ix_content_site_prompt_status", "site_id", "prompt_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE")
    task_id: int | None = Field(default=None, foreign_key="task.id", ondelete="SET NULL", unique=True)
    cluster_id: int | None = Field(default=None, foreign_key="cluster.id", ondelete="SET NULL", index=True)
    title: str = Field(sa_type=sa.String(255))
    html: str = Field(default="", sa_type=sa.Text)
    meta_title: str = Field(default="", sa_type=sa.String(255))
    meta_description: str = Field(default="", sa_type=sa.String(500))
    word_count: int = Field(default=0)
    status: str = Field(default=ContentStatus.DRAFT.value, sa_type=sa.String(16))
    prompt_status: str = Field(default=PromptStatus.PENDING.value, sa_type=sa.String(16))  # stage 5 queue
    run_id: str | None = Field(default=None, sa_type=sa.String(64))
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Image(SQLModel, table=True):
    __tablename__ = "image"
    __table_args__ = (
        sa.Index("ix_image_site_status", "site_id", "status"),
        sa.UniqueConstraint("content_id", "position", name="uq_image_content_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE")
    content_id: int = Field(foreign_key="content.id", ondelete="CASCADE")
    image_type: str = Field(sa_type=sa.String(16))
    position: int = Field(default=0)
    prompt: str = Field(sa_type=sa.Text)
    path: str | None = Field(default=None, sa_type=sa.String(500))
    url: str | None = Field(default=None, sa_type=sa.String(1000))
    width: int | None = Field(default=None)
    height: int | None = Field(default=None)
    format: str | None = Field(default=None, sa_type=sa.String(8))
    size_bytes: int | None = Field(default=None)
    status: str = Field(default=ImageStatus.PENDING.value, sa_type=sa.String(16))
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
