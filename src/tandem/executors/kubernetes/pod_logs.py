"""Reading a try's log from its pod (``read_namespaced_pod_log``) while the pod exists.

The pod's runner claimed the try with the pod's name as host name and its uid as node id (no
node row); the pod's annotations must name the same try, so a pod name reused by another try
is never read for this one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tandem.config import Settings
from tandem.logs.chunk import LogChunk, chunk_from_bytes
from tandem.orchestration import TiKey

if TYPE_CHECKING:
    from kubernetes.client import CoreV1Api

log = logging.getLogger(__name__)

#: Executors whose tries may run in pods.
POD_EXECUTORS = ("kubernetes", "celery_kubernetes")
_api: tuple[int, CoreV1Api] | None = None


def runs_pods(settings: Settings) -> bool:
    return settings.core.executor in POD_EXECUTORS or ".kubernetes." in settings.core.executor


def _core_api(settings: Settings) -> CoreV1Api:
    global _api
    if _api is None or _api[0] != id(settings):
        from tandem.executors.kubernetes.client import core_api

        _api = (id(settings), core_api(settings))
    return _api[1]


def _pod_of(key: TiKey, try_number: int) -> str | None:
    """Name of the pod that claimed the try, or None when a registered node (a worker) did."""
    from tandem.db.session import session_scope
    from tandem.logs.fetch import try_runner
    from tandem.models import Node

    with session_scope() as session:
        runner = try_runner(session, key, try_number)
        if runner is None:
            return None
        hostname, node_id = runner
        if node_id and session.get(Node, node_id) is not None:
            return None
    return hostname


def read_pod_log(settings: Settings, key: TiKey, try_number: int, offset: int, limit: int) -> LogChunk | None:
    """The try's log from its pod; None when no pod of the try exists (any more)."""
    from tandem.executors.kubernetes.client import REQUEST_TIMEOUT, describe, status_of
    from tandem.executors.kubernetes.labels import PREFIX
    from tandem.executors.kubernetes.pod import CONTAINER

    name = _pod_of(key, try_number)
    if name is None:
        return None
    namespace = settings.kubernetes.namespace
    api = _core_api(settings)
    try:
        pod: Any = api.read_namespaced_pod(name, namespace, _request_timeout=REQUEST_TIMEOUT)
        notes = pod.metadata.annotations or {}
        wanted = {"dag-id": key.dag_id, "run-id": key.run_id, "task-id": key.task_id,
                  "map-index": str(key.map_index), "try-number": str(try_number)}
        if any(notes.get(PREFIX + k) != v for k, v in wanted.items()):
            return None
        response: Any = api.read_namespaced_pod_log(name, namespace, container=CONTAINER, _preload_content=False,
                                               _request_timeout=REQUEST_TIMEOUT)
        data: bytes = response.data
    except Exception as e:  # noqa: BLE001 - API errors and transport errors alike
        if status_of(e) == 404:
            return None
        return LogChunk("", offset, False, detail=f"pod {namespace}/{name}: {describe(e)}")
    return chunk_from_bytes(data[offset:offset + limit], offset, f"pod {namespace}/{name}")
