"""versioned DAG bundles: bundles, versions, content-addressed files; runs record their version

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import tandem.models.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dag_bundle',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=200), nullable=False),
    sa.Column('latest_version', sa.String(length=64), nullable=True),
    sa.Column('refreshed_at', tandem.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=36), nullable=True),
    sa.Column('lease_until', tandem.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_dag_bundle'))
    )
    op.create_table('dag_bundle_version',
    sa.Column('bundle_name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('manifest', sa.JSON().with_variant(mysql.JSON(), 'mysql', 'mariadb'), nullable=False),
    sa.Column('created_at', tandem.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('bundle_name', 'version', name=op.f('pk_dag_bundle_version'))
    )
    op.create_index(op.f('ix_dag_bundle_version_created_at'), 'dag_bundle_version', ['created_at'], unique=False)
    op.create_table('bundle_file_content',
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary().with_variant(mysql.LONGBLOB(), 'mysql', 'mariadb'), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('content_hash', name=op.f('pk_bundle_file_content'))
    )
    with op.batch_alter_table('dag') as batch:
        batch.add_column(sa.Column('bundle_name', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('bundle_version', sa.String(length=64), nullable=True))
    with op.batch_alter_table('serialized_dag') as batch:
        batch.add_column(sa.Column('bundle_name', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('bundle_version', sa.String(length=64), nullable=True))
    with op.batch_alter_table('dag_run') as batch:
        batch.add_column(sa.Column('bundle_name', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('bundle_version', sa.String(length=64), nullable=True))
        batch.create_index(batch.f('ix_dag_run_bundle_version'), ['bundle_version'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dag_run') as batch:
        batch.drop_index(batch.f('ix_dag_run_bundle_version'))
        batch.drop_column('bundle_version')
        batch.drop_column('bundle_name')
    with op.batch_alter_table('serialized_dag') as batch:
        batch.drop_column('bundle_version')
        batch.drop_column('bundle_name')
    with op.batch_alter_table('dag') as batch:
        batch.drop_column('bundle_version')
        batch.drop_column('bundle_name')
    op.drop_table('bundle_file_content')
    op.drop_index(op.f('ix_dag_bundle_version_created_at'), table_name='dag_bundle_version')
    op.drop_table('dag_bundle_version')
    op.drop_table('dag_bundle')
