"""assets: asset events, asset-scheduled DAGs' progress, events that triggered runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import tandem.models.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('asset_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uri', sa.String(length=1000), nullable=False),
    sa.Column('extra', sa.JSON().with_variant(mysql.JSON(), 'mysql', 'mariadb'), nullable=False),
    sa.Column('source_dag_id', sa.String(length=200), nullable=True),
    sa.Column('source_run_id', sa.String(length=200), nullable=True),
    sa.Column('source_task_id', sa.String(length=200), nullable=True),
    sa.Column('source_map_index', sa.Integer(), nullable=False),
    sa.Column('timestamp', tandem.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_event'))
    )
    op.create_index('idx_asset_event_uri', 'asset_event', ['uri', 'id'], unique=False,
                    mysql_length={'uri': 255})
    op.create_table('asset_consumer',
    sa.Column('dag_id', sa.String(length=200), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('dag_id', name=op.f('pk_asset_consumer'))
    )
    op.create_table('asset_event_dag_run',
    sa.Column('dag_id', sa.String(length=200), nullable=False),
    sa.Column('run_id', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dag_id', 'run_id'], ['dag_run.dag_id', 'dag_run.run_id'],
                            name=op.f('fk_asset_event_dag_run_dag_id_dag_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['asset_event.id'],
                            name=op.f('fk_asset_event_dag_run_event_id_asset_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dag_id', 'run_id', 'event_id', name=op.f('pk_asset_event_dag_run'))
    )


def downgrade() -> None:
    op.drop_table('asset_event_dag_run')
    op.drop_table('asset_consumer')
    op.drop_index('idx_asset_event_uri', table_name='asset_event')
    op.drop_table('asset_event')
