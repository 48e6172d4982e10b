"""Seed default credit costs and credit packages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Frozen here on purpose: a migration must not change when application defaults change.
COSTS = [
    # operation_type, credits_cost, unit, display_name
    ("clustering", 4, "per_request", "Keyword clustering (per batch, ~1 credit per 5 keywords)"),
    ("ideas", 2, "per_item", "Content ideas (per idea)"),
    ("content", 1, "per_100_words", "Article writing (per 100 words)"),
    ("image_prompts", 1, "per_item", "Image prompts (per prompt)"),
    ("images", 2, "per_image", "Image generation (per image)"),
]
PACKAGES = [
    ("Starter 1,000", 1_000, 1_900),
    ("Growth 5,000", 5_000, 7_900),
    ("Scale 25,000", 25_000, 29_900),
]


def _now():
    now = datetime.now(timezone.utc)
    return now.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else now


def upgrade() -> None:
    costs = sa.table(
        "credit_cost_config",
        sa.column("operation_type", sa.String), sa.column("credits_cost", sa.Integer),
        sa.column("unit", sa.String), sa.column("display_name", sa.String),
        sa.column("is_active", sa.Boolean), sa.column("min_credits", sa.Integer),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(costs, [
        {"operation_type": o, "credits_cost": c, "unit": u, "display_name": d, "is_active": True,
         "min_credits": 0, "updated_at": _now()}
        for o, c, u, d in COSTS
    ])
    packages = sa.table(
        "credit_package",
        sa.column("name", sa.String), sa.column("credits", sa.Integer), sa.column("price_cents", sa.Integer),
        sa.column("currency", sa.String), sa.column("is_active", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(packages, [
        {"name": n, "credits": c, "price_cents": p, "currency": "USD", "is_active": True, "created_at": _now()}
        for n, c, p in PACKAGES
    ])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM credit_package"))
    op.execute(sa.text("DELETE FROM credit_cost_config"))
