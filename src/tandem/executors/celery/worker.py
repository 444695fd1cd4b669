"""A Celery worker's life as a Tandem node, hooked on Celery's worker signals.

Whether it is started by ``tandem worker`` or by ``celery -A tandem.executors.celery.app
worker``, a worker:

- registers a ``worker`` node (queues, concurrency, running tries, log server address) before
  its pool processes fork, so every try it runs is claimed under that node id;
- heartbeats the node from a thread of the main process, with the number of running tries;
- serves the logs of its tries over HTTP;
- ties each pool process to the main process's life (``PR_SET_PDEATHSIG``): a worker that is
  ``kill -9``ed takes its tries with it, their heartbeats stop and a scheduler retries them
  on another worker;
- marks its node stopped on a clean shutdown.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from tandem.config import Settings, get_settings
from tandem.logs.server import LogServer
from tandem.observability import instruments
from tandem.observability.load import measure_live, worker_load

log = logging.getLogger(__name__)

ROLE = "worker"
PR_SET_PDEATHSIG = 1


@dataclass
class WorkerRuntime:
    """What the main process and its pool processes know about this worker node."""

    node_id: str
    hostname: str
    queues: list[str]
    concurrency: int
    log_server: LogServer | None
    heartbeat: NodeHeartbeat | None = None
    #: Details recorded at registration (the config fingerprint among them), kept on every beat.
    registered_details: dict[str, Any] = field(default_factory=dict)
    pid: int = field(default_factory=os.getpid)


_runtime: WorkerRuntime | None = None
_hostname_override: str | None = None
_force = False
_connected = False


def configure(*, hostname: str | None = None, force: bool = False) -> None:
    """Options of ``tandem worker``: the name this worker's node and tries report, and whether
    to join a cluster whose config differs (``--force``)."""
    global _hostname_override, _force
    _hostname_override = hostname or None
    _force = force


def current_runtime() -> WorkerRuntime:
    if _runtime is None:
        raise RuntimeError(
            "Tandem's Celery task runs only in a worker started with Tandem's app "
            "(`tandem worker` or `celery -A tandem.executors.celery.app worker`)"
        )
    return _runtime


def connect_signals() -> None:
    """Hook the worker's lifecycle; idempotent (every app built in a process shares the hooks)."""
    global _connected
    if _connected:
        return
    from celery import signals

    signals.worker_init.connect(_on_worker_init, weak=False, dispatch_uid="tandem.worker_init")
    signals.worker_process_init.connect(_on_process_init, weak=False, dispatch_uid="tandem.process_init")
    signals.worker_shutdown.connect(_on_worker_shutdown, weak=False, dispatch_uid="tandem.worker_shutdown")
    _connected = True


def _on_worker_init(sender: Any, **_: Any) -> None:
    from celery.utils.nodenames import nodesplit

    from tandem.cluster.nodes import join_cluster
    from tandem.db.engine import get_engine
    from tandem.db.migrate import check_schema_current
    from tandem.db.session import session_scope
    from tandem.models import Node

    global _runtime
    settings = get_settings()
    queues = sorted(sender.app.amqp.queues.consume_from or [settings.celery.default_queue])
    hostname = _hostname_override or settings.core.hostname or nodesplit(sender.hostname)[1]
    log_server: LogServer | None = None
    try:
        # Load the runner here, in the main process: pool processes fork with it imported, so no
        # try pays for the import, and a worker runs one version of the code for its whole life.
        from tandem.runner.supervisor import warm_up

        warm_up()
        check_schema_current(get_engine())
        from tandem.observability import exporter

        metrics = exporter.start(settings, ROLE)  # before the pool forks: its processes count here
        log_server = LogServer(settings)
        log_server.start()
        runtime = WorkerRuntime(
            node_id="",
            hostname=hostname,
            queues=queues,
            concurrency=int(sender.concurrency),
            log_server=log_server,
        )
        with session_scope() as session:
            runtime.node_id = join_cluster(
                session, ROLE, settings, force=_force, hostname=hostname,
                details={**node_details(runtime, 0), "metrics_url": metrics.url if metrics else ""},
            )
            if metrics is not None:
                metrics.set_node(runtime.node_id)
            node = session.get(Node, runtime.node_id)
            runtime.registered_details = dict(node.details) if node is not None else {}
    except Exception as e:
        # A worker that is not a node would take messages it cannot run: refuse to start.
        # (Celery's logging is not set up yet: say it on stderr.)
        print(f"Error: cannot start the worker: {e}", file=sys.stderr)
        if log_server is not None:
            log_server.stop()
        raise SystemExit(1) from e
    runtime.heartbeat = NodeHeartbeat(runtime, settings)
    runtime.heartbeat.start()
    _runtime = runtime
    concurrency = runtime.concurrency
    measure_live(lambda: worker_load(running_tries(), concurrency))
    _prune_bundle_cache(settings)
    log.info(
        "worker node %s (%s) consuming %s, log server %s",
        runtime.node_id,
        hostname,
        ", ".join(queues),
        log_server.url,
    )


def _prune_bundle_cache(settings: Settings) -> None:
    """Drop cached bundle versions collected while this worker was away (best effort)."""
    from tandem.dag_processing.bundles.gc import prune_local_cache

    try:
        removed = prune_local_cache(settings.bundle_cache_folder)
    except Exception as e:  # noqa: BLE001 - a cache left as it was costs disk, never a try
        log.warning("could not prune the bundle cache %s: %s", settings.bundle_cache_folder, e)
        return
    if removed:
        log.info("pruned %d cached bundle version(s) no longer stored", removed)


def _on_process_init(**_: Any) -> None:
    """In each pool process, just forked from the main process."""
    from tandem.db.engine import dispose_engines

    dispose_engines()  # never share the main process's DB sockets
    if _runtime is None:
        return
    die_with(_runtime.pid)
    if _runtime.log_server is not None:
        _runtime.log_server.close_inherited()
    # Every try child this pool process forks dies with it too: a try outliving its supervisor
    # would run on unheartbeated while a peer retries it.
    os.register_at_fork(before=_note_forking_pid, after_in_child=_die_with_forking_process)


_forking_pid = 0


def _note_forking_pid() -> None:
    global _forking_pid
    _forking_pid = os.getpid()


def _die_with_forking_process() -> None:
    die_with(_forking_pid)


def die_with(parent: int) -> None:
    """Ask Linux to SIGKILL this process when ``parent`` (its parent) dies, however it dies."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:  # not Linux: a killed worker's tries end as zombies all the same
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _on_worker_shutdown(**_: Any) -> None:
    from tandem.cluster.nodes import stop_node
    from tandem.db.session import session_scope

    runtime = _runtime
    if runtime is None or runtime.pid != os.getpid():
        return
    if runtime.heartbeat is not None:
        runtime.heartbeat.stop()
    if runtime.log_server is not None:
        runtime.log_server.stop()
    try:
        with session_scope() as session:
            stop_node(session, runtime.node_id)
        log.info("worker node %s stopped", runtime.node_id)
    except Exception:
        log.exception("could not mark worker node %s stopped", runtime.node_id)


def node_details(runtime: WorkerRuntime, running: int) -> dict[str, Any]:
    details: dict[str, Any] = {
        **runtime.registered_details,
        "executor": "celery",
        "queues": runtime.queues,
        "concurrency": runtime.concurrency,
        "running": running,
        "load": worker_load(running, runtime.concurrency),
    }
    if runtime.log_server is not None:
        details["log_server_port"] = runtime.log_server.port
        details["log_server_url"] = runtime.log_server.url
    return details


def running_tries() -> int:
    from celery.worker import state

    return len(state.active_requests)


class NodeHeartbeat(threading.Thread):
    """Touches the worker's node row every ``scheduler.heartbeat_interval`` seconds."""

    def __init__(self, runtime: WorkerRuntime, settings: Settings) -> None:
        super().__init__(name="tandem-node-heartbeat", daemon=True)
        self.runtime = runtime
        self.interval = settings.scheduler.heartbeat_interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.beat()
            except Exception as e:  # noqa: BLE001 - the DB may be away for a moment; the next beat retries
                log.warning("heartbeat of worker node %s failed: %s", self.runtime.node_id, e)
                instruments.db_error("worker_heartbeat")

    def beat(self) -> None:
        from tandem.cluster.nodes import heartbeat_node
        from tandem.db.session import session_scope

        with session_scope() as session:
            alive = heartbeat_node(session, self.runtime.node_id, node_details(self.runtime, running_tries()))
        if not alive:
            # Its running tries heartbeat on their own, so they are not zombies: carry on.
            log.warning("worker node %s had been declared dead by a scheduler (heartbeats were late); "
                        "it is registered again and its tries carry on", self.runtime.node_id)

    def stop(self) -> None:
        self._stop_event.set()
