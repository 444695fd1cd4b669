from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tandem.cluster.fingerprint import ConfigMismatch, cluster_settings
from tandem.cluster.nodes import join_cluster
from tandem.config import Settings, get_settings
from tandem.crypto import generate_key
from tandem.db.session import session_scope
from tandem.models import Node


def _with(settings: Settings, **core: str) -> Settings:
    return settings.model_copy(update={"core": settings.core.model_copy(update=core)})


def test_secrets_and_passwords_are_never_published(tandem_home: object) -> None:
    settings = get_settings()
    settings = settings.model_copy(update={"database": settings.database.model_copy(
        update={"url": "postgresql://tandem:hunter2@db.internal/tandem"})})
    values = cluster_settings(settings)
    assert "hunter2" not in str(values)
    assert settings.core.fernet_key not in str(values)
    assert values["core.fernet_key"].startswith("sha256:")


def test_a_node_with_another_fernet_key_is_refused_or_joins_divergent(engine: Engine) -> None:
    settings = get_settings()
    with session_scope(engine) as session:
        join_cluster(session, "scheduler", settings)

    other = _with(settings, fernet_key=generate_key())
    with session_scope(engine) as session, pytest.raises(ConfigMismatch) as refused:
        join_cluster(session, "scheduler", other)
    assert [d.key for d in refused.value.differences] == ["core.fernet_key"]
    assert other.core.fernet_key not in str(refused.value)

    with session_scope(engine) as session:
        node_id = join_cluster(session, "worker", other, force=True)
    with session_scope(engine) as session:
        assert session.get(Node, node_id).divergent


def test_an_identical_node_joins(engine: Engine) -> None:
    settings = get_settings()
    with session_scope(engine) as session:
        first = join_cluster(session, "scheduler", settings)
        second = join_cluster(session, "api-server", settings)
    with session_scope(engine) as session:
        assert not session.get(Node, first).divergent and not session.get(Node, second).divergent
