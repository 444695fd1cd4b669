"""One cluster, one config (ARCHITECTURE.md, invariant 7).

Every node publishes the cluster-wide part of its configuration — secrets only as hashes,
URLs without passwords — and its fingerprint. A node whose fingerprint differs from the live
cluster's is refused with the list of keys that differ.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from tandem import __version__
from tandem.config import Settings
from tandem.models import Node


def _url(value: str) -> str:
    if not value:
        return ""
    try:
        return make_url(value).render_as_string(hide_password=True)
    except Exception:  # not a SQLAlchemy-style URL (e.g. a broker alias); never show it raw
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]


def _secret(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16] if value else "(not set)"


def _bundles(settings: Settings) -> str:
    """The configured bundles by name and source (local folders are per node, so not their paths)."""
    from tandem.dag_processing.bundles.loader import bundles_summary

    if not settings.dag_processor.dag_bundle_config_list:
        return "default (core.dags_folder)"
    return bundles_summary(settings)


def cluster_settings(settings: Settings) -> dict[str, str]:
    """The settings every node must agree on, safe to store and show."""
    from tandem.db.engine import normalize_url

    values = {
        "core.executor": settings.core.executor,
        "database.url": _url(normalize_url(settings.database_url)),
        "core.fernet_key": _secret(settings.core.fernet_key),
        "api.secret_key": _secret(settings.api.secret_key),
        "tandem.version": ".".join(__version__.split(".")[:2]),
        "dag_processor.dag_bundle_config_list": _bundles(settings),
    }
    if settings.core.executor in ("celery", "celery_kubernetes"):
        values["celery.broker_url"] = _url(settings.celery.broker_url)
        values["celery.result_backend"] = _url(settings.celery.result_backend)
    if settings.core.executor in ("kubernetes", "celery_kubernetes"):
        values["kubernetes.namespace"] = settings.kubernetes.namespace
    return values


def fingerprint(values: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Difference:
    key: str
    mine: str
    cluster: str


class ConfigMismatch(RuntimeError):
    """This node's cluster-wide settings differ from the running cluster's."""

    def __init__(self, differences: list[Difference], peers: int) -> None:
        self.differences = differences
        width = max(len(d.key) for d in differences)
        rows = "\n".join(f"  {d.key:<{width}}  this node: {d.mine}\n  {'':<{width}}  cluster:   {d.cluster}"
                         for d in differences)
        super().__init__(
            f"this node's configuration differs from the running cluster's ({peers} live node(s)) in "
            f"{len(differences)} key(s):\n{rows}\nUse the same tandem.toml on every node, or start with "
            "--force to join anyway (the node is then marked divergent in `tandem cluster status`)."
        )


def cluster_config(peers: list[Node]) -> dict[str, str] | None:
    """The configuration most live, non-divergent peers run (the cluster's), if any."""
    agreeing = [p for p in peers if not p.divergent and p.details.get("config")]
    if not agreeing:
        return None
    common, _ = Counter(p.fingerprint for p in agreeing).most_common(1)[0]
    return next(p.details["config"] for p in agreeing if p.fingerprint == common)


def compare(mine: dict[str, str], cluster: dict[str, str]) -> list[Difference]:
    keys = sorted(set(mine) | set(cluster))
    return [Difference(k, mine.get(k, "(absent)"), cluster.get(k, "(absent)"))
            for k in keys if mine.get(k) != cluster.get(k)]
