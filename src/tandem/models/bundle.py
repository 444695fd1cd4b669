"""DAG bundles and their versions: what code a run was created with, stored by content hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from tandem.models.base import Base, JsonColumn, UtcDateTime

#: Bundle names and version ids (a sha256 hex digest or a git commit id) fit in this.
BUNDLE_KEY_LEN = 64

LongBlob = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


class DagBundle(Base):
    """A named source of DAG files, its latest version, and which processor is parsing it.

    ``lease_owner``/``lease_until`` is a lock row taken by compare-and-set: a DAG processor
    refreshes and parses a bundle only while it holds an unexpired lease, so two processors never
    parse the same file at once; a dead holder's lease expires and a peer takes over.
    """

    __tablename__ = "dag_bundle"

    name: Mapped[str] = mapped_column(sa.String(BUNDLE_KEY_LEN), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(200), default="")
    latest_version: Mapped[str | None] = mapped_column(sa.String(BUNDLE_KEY_LEN))
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(36))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DagBundleVersion(Base):
    """One version of a bundle: the manifest {relative path: content hash} of every file."""

    __tablename__ = "dag_bundle_version"

    bundle_name: Mapped[str] = mapped_column(sa.String(BUNDLE_KEY_LEN), primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(BUNDLE_KEY_LEN), primary_key=True)
    manifest: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class BundleFileContent(Base):
    """A file's bytes, keyed by their sha256: versions sharing a file store it once."""

    __tablename__ = "bundle_file_content"

    content_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LongBlob)
    size: Mapped[int] = mapped_column(sa.Integer)
