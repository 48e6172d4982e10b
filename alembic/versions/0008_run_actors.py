"""Who did it: ``run_event.actor`` (the activity log names the user, token owner, 'command line',
'scheduler' or 'watchdog') and ``automation_run.requested_by`` (who asked for the pending pause or
cancel, named again when the worker applies it). Both nullable: old rows have no actor.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 11:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('run_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor', sa.String(length=255), nullable=True))
    with op.batch_alter_table('automation_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_by', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('automation_run', schema=None) as batch_op:
        batch_op.drop_column('requested_by')
    with op.batch_alter_table('run_event', schema=None) as batch_op:
        batch_op.drop_column('actor')
