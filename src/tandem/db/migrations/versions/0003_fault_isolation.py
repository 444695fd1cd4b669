"""fault isolation: scheduling errors with backoff, bounded re-queues

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tandem.models.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dag_run') as batch:
        batch.add_column(sa.Column('scheduling_error', sa.Text(), nullable=True))
        batch.add_column(sa.Column('scheduling_failures', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('next_scheduling_at', tandem.models.base.UtcDateTime(timezone=True),
                                   nullable=True))
    with op.batch_alter_table('dag') as batch:
        batch.add_column(sa.Column('scheduling_error', sa.Text(), nullable=True))
    with op.batch_alter_table('task_instance') as batch:
        batch.add_column(sa.Column('queued_requeues', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('task_instance') as batch:
        batch.drop_column('queued_requeues')
    with op.batch_alter_table('dag') as batch:
        batch.drop_column('scheduling_error')
    with op.batch_alter_table('dag_run') as batch:
        batch.drop_column('next_scheduling_at')
        batch.drop_column('scheduling_failures')
        batch.drop_column('scheduling_error')
