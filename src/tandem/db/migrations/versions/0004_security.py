"""security: server-side UI sessions, failed-login counters, audit log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import tandem.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", tandem.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", tandem.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tandem.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["tandem_user.id"], name=op.f("fk_user_session_user_id_tandem_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_user_session")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)
    op.create_table(
        "login_failure",
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", tandem.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", tandem.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_login_failure")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", tandem.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=256), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON().with_variant(mysql.JSON(), "mysql", "mariadb"), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_username"), ["username"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping the foreign key's index first fails on MariaDB.
    op.drop_table("audit_log")
    op.drop_table("login_failure")
    op.drop_table("user_session")
