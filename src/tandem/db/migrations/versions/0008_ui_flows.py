"""ui-flows: backfills (Airflow 3's backfill and backfill_dag_run tables, dag_run.backfill_id)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:45:44
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import tandem.models.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('backfill',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dag_id', sa.String(length=200), nullable=False),
    sa.Column('from_date', tandem.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('to_date', tandem.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('dag_run_conf', sa.JSON().with_variant(mysql.JSON(), 'mariadb').with_variant(mysql.JSON(), 'mysql'), nullable=False),
    sa.Column('is_paused', sa.Boolean(), nullable=False),
    sa.Column('max_active_runs', sa.Integer(), nullable=False),
    sa.Column('reprocess_behavior', sa.String(length=20), nullable=False),
    sa.Column('run_backwards', sa.Boolean(), nullable=False),
    sa.Column('triggering_user_name', sa.String(length=256), nullable=True),
    sa.Column('created_at', tandem.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', tandem.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', tandem.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backfill'))
    )
    with op.batch_alter_table('backfill', schema=None) as batch_op:
        batch_op.create_index('ix_backfill_dag_id_completed_at', ['dag_id', 'completed_at'], unique=False)

    op.create_table('backfill_dag_run',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('backfill_id', sa.Integer(), nullable=False),
    sa.Column('dag_run_id', sa.Integer(), nullable=True),
    sa.Column('logical_date', tandem.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('exception_reason', sa.String(length=50), nullable=True),
    sa.Column('sort_ordinal', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['backfill_id'], ['backfill.id'], name=op.f('fk_backfill_dag_run_backfill_id_backfill'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dag_run_id'], ['dag_run.id'], name=op.f('fk_backfill_dag_run_dag_run_id_dag_run'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backfill_dag_run')),
    sa.UniqueConstraint('backfill_id', 'logical_date', name=op.f('uq_backfill_dag_run_backfill_id_logical_date'))
    )
    with op.batch_alter_table('backfill_dag_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backfill_dag_run_dag_run_id'), ['dag_run_id'], unique=False)

    with op.batch_alter_table('dag_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backfill_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_dag_run_backfill_id'), ['backfill_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('dag_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dag_run_backfill_id'))
        batch_op.drop_column('backfill_id')

    # Dropping a table drops its indexes (MySQL refuses to drop one a foreign key needs first).
    op.drop_table('backfill_dag_run')
    op.drop_table('backfill')
