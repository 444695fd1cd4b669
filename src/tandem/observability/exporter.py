"""A node's own Prometheus endpoint: ``http://<address>:<port>/metrics``, one per node.

Why a port per node rather than pushing through the DB (docs/metrics.md): Prometheus pulls,
and a node that cannot reach the DB must still say so; counters stay in the process that
counts them, with no write per increment. The URL is recorded in the node's row, so the
dashboard, ``tandem cluster status`` and ``/api/v1/cluster/metrics-targets`` (Prometheus HTTP
service discovery) list every node's endpoint.

Child processes of the node record into files of a private directory (prometheus-client's
multiprocess mode, switched on here before the node forks); the endpoint sums them, so a
Celery pool process or a local executor supervisor that dies keeps its counts.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from tandem.observability import instruments, load

if TYPE_CHECKING:
    from tandem.config import Settings

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class NodeCollector(Collector):
    """The node's identity and the load it last wrote into its heartbeat, as gauges."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.node_id = ""

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("tandem_node_info", "This node (always 1)", labels=["role", "node_id", "hostname"])
        info.add_metric([self.role, self.node_id, socket.gethostname()], 1)
        yield info
        figures = load.current()
        for name, key, doc in (
            ("tandem_executor_open_slots", "open_slots", "Open slots of this node's executor (Airflow: "
             "executor.open_slots)"),
            ("tandem_executor_queued_tasks", "queued", "Tries this node queued, not yet running (Airflow: "
             "executor.queued_tasks)"),
            ("tandem_executor_running_tasks", "running", "Tries running for this node (Airflow: "
             "executor.running_tasks)"),
            ("tandem_scheduler_passes_per_second", "passes_per_s", "Scheduler passes per second over the last "
             "minute"),
        ):
            if figures.get(key) is not None:
                yield GaugeMetricFamily(name, doc, value=float(figures[key]))


class Exporter:
    """The running endpoint of this process; ``url`` is what the node row records."""

    def __init__(self, url: str, collector: NodeCollector, directory: str) -> None:
        self.url = url
        self.collector = collector
        self.directory = directory

    def set_node(self, node_id: str) -> None:
        self.collector.node_id = node_id


_exporter: Exporter | None = None


def start(settings: Settings, role: str) -> Exporter | None:
    """Switch on multiprocess metrics and serve them; None when ``metrics.enabled`` is false.

    Call in the node's main process before it forks children that record metrics. A port
    already taken is an error naming the setting.
    """
    global _exporter
    cfg = settings.metrics
    if not cfg.enabled:
        return None
    if _exporter is not None:
        return _exporter
    directory = tempfile.mkdtemp(prefix=f"tandem-metrics-{role}-")
    _multiprocess_mode(directory)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    collector = NodeCollector(role)
    registry.register(collector)
    try:
        server, _thread = start_http_server(cfg.port, addr=cfg.host, registry=registry)
    except OSError as e:
        raise OSError(f"cannot serve metrics on {cfg.host}:{cfg.port} (metrics.port, metrics.host): {e}") from None
    address = cfg.address or settings.core.hostname or socket.gethostname()
    _exporter = Exporter(f"http://{address}:{server.server_port}/metrics", collector, directory)
    atexit.register(_remove_directory, directory, os.getpid())
    log.info("serving metrics at %s", _exporter.url)
    return _exporter


def _remove_directory(directory: str, owner: int) -> None:
    if os.getpid() == owner:  # not in forked children that happen to exit through atexit
        shutil.rmtree(directory, ignore_errors=True)


def _multiprocess_mode(directory: str) -> None:
    from prometheus_client import values

    # prometheus-client picks its value class when a metric is made: instruments made from
    # here on (and in every forked child) record into files of ``directory``.
    os.environ[MULTIPROC_ENV] = directory
    values.ValueClass = values.MultiProcessValue()
    instruments.enable()
