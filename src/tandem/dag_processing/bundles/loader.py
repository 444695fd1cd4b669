"""Bundles from ``[dag_processor] dag_bundle_config_list``; by default the DAGs folder (and examples)."""

from __future__ import annotations

import importlib
from typing import Any

from tandem.config import Settings
from tandem.config.dag_processor import BundleConfig
from tandem.dag_processing.bundles.base import BaseDagBundle, BundleError

DEFAULT_BUNDLE = "dags-folder"
EXAMPLES_BUNDLE = "example_dags"

ALIASES = {
    "local": "tandem.dag_processing.bundles.local:LocalDagBundle",
    "git": "tandem.dag_processing.bundles.git:GitDagBundle",
    # Airflow 3's class paths, so an Airflow config's list works unchanged.
    "airflow.dag_processing.bundles.local.LocalDagBundle": "tandem.dag_processing.bundles.local:LocalDagBundle",
    "airflow.providers.git.bundles.git.GitDagBundle": "tandem.dag_processing.bundles.git:GitDagBundle",
}


def bundle_configs(settings: Settings) -> list[BundleConfig]:
    """The configured list, or the default: the DAGs folder, plus the example DAGs if loaded."""
    from tandem.dag_processing.discovery import EXAMPLE_DAGS_FOLDER

    configured = list(settings.dag_processor.dag_bundle_config_list)
    if not configured:
        configured = [BundleConfig(name=DEFAULT_BUNDLE, classpath="local",
                                   kwargs={"path": str(settings.dags_folder)})]
    if settings.core.load_examples and all(c.name != EXAMPLES_BUNDLE for c in configured):
        configured.append(BundleConfig(name=EXAMPLES_BUNDLE, classpath="local",
                                       kwargs={"path": str(EXAMPLE_DAGS_FOLDER)}))
    return configured


def _class_for(config: BundleConfig) -> type[BaseDagBundle]:
    path = ALIASES.get(config.classpath, config.classpath)
    module_name, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as e:
        raise BundleError(f"[dag_processor] dag_bundle_config_list: bundle {config.name!r}: classpath "
                          f"{config.classpath!r} cannot be loaded ({e}); use local, git or module:Class") from None
    if not (isinstance(cls, type) and issubclass(cls, BaseDagBundle)):
        raise BundleError(f"[dag_processor] dag_bundle_config_list: bundle {config.name!r}: {config.classpath!r} "
                          "is not a BaseDagBundle")
    return cls


def load_bundle(config: BundleConfig, settings: Settings) -> BaseDagBundle:
    cls = _class_for(config)
    kwargs: dict[str, Any] = dict(config.kwargs)
    if cls.kind == "local":
        kwargs.setdefault("path", str(settings.dags_folder))
    if cls.kind == "git":
        kwargs.setdefault("refresh_interval", settings.dag_processor.refresh_interval)
    try:
        return cls(config.name, **kwargs)
    except TypeError as e:
        raise BundleError(f"[dag_processor] dag_bundle_config_list: bundle {config.name!r}: bad kwargs: {e}") from None


def load_bundles(settings: Settings) -> list[BaseDagBundle]:
    """Every configured bundle; raises BundleError naming the entry at fault."""
    configs = bundle_configs(settings)
    names = [c.name for c in configs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise BundleError(f"[dag_processor] dag_bundle_config_list: duplicate bundle name(s): {duplicates}")
    return [load_bundle(c, settings) for c in configs]


def bundles_summary(settings: Settings) -> str:
    """``name=kind ...`` of every bundle, for the cluster fingerprint (local paths are per node)."""
    parts = []
    for config in settings.dag_processor.dag_bundle_config_list:
        try:
            parts.append(f"{config.name}={load_bundle(config, settings).describe()}")
        except BundleError:
            parts.append(f"{config.name}={config.classpath}(invalid)")
    return " ".join(parts)
