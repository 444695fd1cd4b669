"""``[metrics]``: where each node serves its Prometheus metrics."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MetricsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    enabled: bool = Field(True, description="Schedulers, DAG processors and workers serve Prometheus metrics.")
    port: int = Field(0, ge=0, le=65535, description="Port of this node's metrics endpoint; 0 picks a free one "
                      "(recorded in the node row, listed by `tandem cluster status`).")
    host: str = Field("0.0.0.0", description="Address the metrics endpoint binds.")
    address: str = Field("", description="Host name or IP Prometheus reaches this node at; default the node's "
                         "host name.")
