from __future__ import annotations

from sqlalchemy.engine import Engine

from tandem.cluster.nodes import heartbeat_node, register_node
from tandem.db.session import session_scope
from tandem.models import Node
from tandem.observability.load import WINDOW, PassRate


def test_pass_rate_is_over_the_last_minute() -> None:
    rate = PassRate()
    assert rate.sample(now=0.0, passes=0) == 0.0
    assert rate.sample(now=10.0, passes=100) == 10.0
    # Busy then idle: after the window the early burst no longer counts.
    for t in range(20, 200, 10):
        value = rate.sample(now=float(t), passes=100)
    assert value == 0.0
    # The baseline is the newest sample at least a window old: (170 s, 100 passes).
    assert rate.sample(now=170.0 + WINDOW, passes=130) == 30 / WINDOW


def test_heartbeat_keeps_registered_details_beside_the_load(engine: Engine) -> None:
    with session_scope(engine) as session:
        node_id = register_node(session, "scheduler", details={"metrics_url": "http://h:1/metrics"})
    with session_scope(engine) as session:
        assert heartbeat_node(session, node_id, load={"running": 2, "open_slots": 30})
    with session_scope(engine) as session:
        details = session.get(Node, node_id).details  # type: ignore[union-attr]
    assert details == {"metrics_url": "http://h:1/metrics", "load": {"running": 2, "open_slots": 30}}
