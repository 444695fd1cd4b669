"""observability: indexes for the cluster dashboard's last-hour outcomes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 11:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_task_instance_end_date', 'task_instance', ['end_date'], unique=False)
    op.create_index('ix_dag_run_end_date', 'dag_run', ['end_date'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dag_run_end_date', table_name='dag_run')
    op.drop_index('ix_task_instance_end_date', table_name='task_instance')
