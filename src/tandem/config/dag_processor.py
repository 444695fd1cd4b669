"""``[dag_processor]``: where DAG files come from (bundles) and how long their versions are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

BUNDLE_NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class BundleConfig(BaseModel):
    """One entry of ``dag_bundle_config_list`` (Airflow 3's shape: name, classpath, kwargs)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=BUNDLE_NAME_PATTERN, description="Unique name of the bundle.")
    classpath: str = Field(
        "local", description="local, git, or module:Class of a BaseDagBundle subclass "
        "(Airflow's airflow.dag_processing.bundles.*.LocalDagBundle/GitDagBundle are accepted)."
    )
    kwargs: dict[str, Any] = Field(default_factory=dict, description="Arguments of the bundle class.")


class DagProcessorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    dag_bundle_config_list: list[BundleConfig] = Field(
        default_factory=list,
        description="DAG bundles to parse. Empty: one local bundle 'dags-folder' at core.dags_folder, plus "
        "'example_dags' when core.load_examples.",
    )
    refresh_interval: float = Field(
        30.0, gt=0, description="Seconds between fetches of a git bundle's remote (a bundle's own "
        "refresh_interval wins)."
    )
    bundle_cache_folder: Path | None = Field(
        None, description="Where runners materialize bundle versions; default $TANDEM_HOME/bundle_cache."
    )
    version_retention: float = Field(
        300.0, ge=0, description="Seconds an unused, superseded bundle version is kept before garbage collection."
    )
    disable_bundle_versioning: bool = Field(
        False, description="Run every try with its bundle's latest version instead of its run's (Airflow's "
        "[dag_processor] disable_bundle_versioning)."
    )
