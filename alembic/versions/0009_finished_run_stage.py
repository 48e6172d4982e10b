"""A finished run keeps the last stage's number: rows that ran past the end (current_stage 7, one past
the last of the six stages) are rewritten to stage 6. The run's status says it is over; a stage 7 may
exist one day. Downgrade puts back 7 where the old engine had it: on every run whose stage 6 finished.

Frozen at this revision (six stages), like every migration: it does not read the stage registry.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:00:00
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LAST_STAGE = 6  # the last stage at this revision

_run = sa.table("automation_run", sa.column("id", sa.Integer), sa.column("current_stage", sa.Integer))
_progress = sa.table("stage_progress", sa.column("run_pk", sa.Integer), sa.column("stage", sa.Integer),
                     sa.column("finished_at", sa.DateTime))


def upgrade() -> None:
    op.execute(_run.update().where(_run.c.current_stage > LAST_STAGE).values(current_stage=LAST_STAGE))


def downgrade() -> None:
    finished_last = sa.exists().where(_progress.c.run_pk == _run.c.id, _progress.c.stage == LAST_STAGE,
                                      _progress.c.finished_at.isnot(None))
    op.execute(_run.update().where(_run.c.current_stage == LAST_STAGE, finished_last)
               .values(current_stage=LAST_STAGE + 1))
