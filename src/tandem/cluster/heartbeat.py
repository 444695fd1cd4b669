"""A thread that keeps a node's row alive, for roles whose main loop has no heartbeat of its own."""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.cluster.nodes import heartbeat_node, stop_node
from tandem.db.session import session_scope

log = logging.getLogger(__name__)


class NodeHeartbeatThread(threading.Thread):
    """Heartbeats ``node_id`` every ``interval`` seconds until ``stop()``, then marks it stopped.

    A beat that fails (the DB away for a moment) is logged and the next one retries; a node
    that learns it was declared dead is revived by that same beat and says so.
    """

    def __init__(self, engine: Engine, node_id: str, interval: float) -> None:
        super().__init__(name="tandem-node-heartbeat", daemon=True)
        self.engine = engine
        self.node_id = node_id
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                with session_scope(self.engine) as session:
                    alive = heartbeat_node(session, self.node_id)
                if not alive:
                    log.warning("node %s had been declared dead by a peer (heartbeats were late); it is "
                                "registered again", self.node_id)
            except sa.exc.SQLAlchemyError as e:
                log.warning("heartbeat of node %s failed: %s", self.node_id, e)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(10)
        try:
            with session_scope(self.engine) as session:
                stop_node(session, self.node_id)
        except sa.exc.SQLAlchemyError as e:
            log.warning("could not mark node %s stopped: %s", self.node_id, e)
