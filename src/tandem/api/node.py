"""The api-server's row in the cluster registry, kept alive by a heartbeat thread.

Each server process (each uvicorn worker) is one node of role ``api-server``: the cluster
page and ``tandem cluster status`` show it, and its heartbeat stops when it dies.
"""

from __future__ import annotations

import logging
import socket
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.cluster.nodes import heartbeat_node, join_cluster, stop_node
from tandem.config import Settings
from tandem.db.session import session_scope

log = logging.getLogger(__name__)
ROLE = "api-server"


class ApiServerNode:
    """Registers on ``start``, heartbeats every ``scheduler.heartbeat_interval``, retires on ``stop``."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.node_id: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _details(self) -> dict[str, object]:
        api = self.settings.api
        base = api.base_url.rstrip("/") or f"http://{self.settings.core.hostname or socket.gethostname()}:{api.port}"
        return {"host": api.host, "port": api.port, "base_url": api.base_url, "metrics_url": f"{base}/metrics"}

    def _register(self) -> str:
        # `tandem api-server` refused a mismatching config before serving (unless --force); here
        # the node only records its fingerprint, marked divergent when it differs.
        with session_scope(self.engine) as session:
            return join_cluster(session, ROLE, self.settings, force=True, details=self._details())

    def start(self) -> None:
        self.node_id = self._register()
        self._thread = threading.Thread(target=self._run, name="tandem-api-heartbeat", daemon=True)
        self._thread.start()
        log.info("api-server node %s registered", self.node_id)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.scheduler.heartbeat_interval):
            try:
                with session_scope(self.engine) as session:
                    alive = heartbeat_node(session, self.node_id or "")
                if not alive:
                    log.warning("api-server node %s had been declared dead by a peer (heartbeats were late); "
                                "it is registered again", self.node_id)
            except sa.exc.SQLAlchemyError as e:
                log.warning("api-server heartbeat failed: %s", e)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self.node_id is not None:
            try:
                with session_scope(self.engine) as session:
                    stop_node(session, self.node_id)
            except sa.exc.SQLAlchemyError as e:
                log.warning("could not mark api-server node %s stopped: %s", self.node_id, e)
            log.info("api-server node %s stopped", self.node_id)
