"""queue-order: an index in the critical section's candidate order (state, priority desc, FIFO)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 20:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task_instance', schema=None) as batch_op:
        batch_op.create_index('ix_task_instance_queue_order',
                              ['state', sa.text('priority_weight DESC'), 'scheduled_at', 'map_index'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_task_instance_queue_order')
