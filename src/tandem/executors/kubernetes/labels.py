"""Who a worker pod is: its name, labels and annotations, and the workload read back from them.

Label values must be valid Kubernetes label values (at most 63 characters of
``[A-Za-z0-9_.-]``, alphanumeric at both ends), so ids are sanitized and, when that changed
them, shortened and suffixed with a hash; annotations carry the exact values and the whole
workload, so any scheduler can rebuild the workload of any pod (adoption needs nothing else).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from tandem.executors.workload import Workload

PREFIX = "tandem.io/"
#: On every worker pod: what a scheduler's watch and its adoption scans select on.
MANAGED = {"app.kubernetes.io/managed-by": "tandem", f"{PREFIX}component": "worker"}
SELECTOR = ",".join(f"{k}={v}" for k, v in MANAGED.items())
#: The scheduler that follows the pod (creates, watches, cleans up); changed when a peer adopts it.
OWNER = f"{PREFIX}scheduler"
WORKLOAD = f"{PREFIX}workload"
MAX_LABEL = 63
MAX_POD_NAME = 63  # the pod's host name is its name, and host names stop at 63
_INVALID = re.compile(r"[^A-Za-z0-9_.-]")
_EDGES = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$")


def _digest(value: str, size: int) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:size]


def label_value(value: str) -> str:
    """``value`` as a valid label value; changed or long values end in a hash of the original."""
    safe = _EDGES.sub("", _INVALID.sub("", value))
    if safe == value and len(safe) <= MAX_LABEL:
        return safe
    digest = _digest(value, 9)
    return f"{safe[: MAX_LABEL - len(digest) - 1].rstrip('-_.')}-{digest}".lstrip("-")


def pod_name(workload: Workload) -> str:
    """A DNS label unique to the try and the scheduler that queued it.

    Deterministic, so a creation retried after a lost answer finds the first pod (409) instead
    of starting a second one; a try queued again by a peer gets a pod of its own.
    """
    identity = json.dumps([workload.dag_id, workload.run_id, workload.task_id, workload.map_index,
                           workload.try_number, workload.queued_by])
    stem = re.sub(r"[^a-z0-9-]+", "-", f"{workload.dag_id}-{workload.task_id}".lower()).strip("-")
    digest = _digest(identity, 10)
    return f"{stem[: MAX_POD_NAME - len(digest) - 1].rstrip('-')}-{digest}".lstrip("-")


def pod_labels(workload: Workload, owner: str) -> dict[str, str]:
    labels = {
        **MANAGED,
        f"{PREFIX}dag-id": label_value(workload.dag_id),
        f"{PREFIX}run-id": label_value(workload.run_id),
        f"{PREFIX}task-id": label_value(workload.task_id),
        f"{PREFIX}try-number": str(workload.try_number),
        f"{PREFIX}queued-by": label_value(workload.queued_by),
        OWNER: label_value(owner),
    }
    if workload.map_index >= 0:  # "-1" is no valid label value (it must start alphanumeric)
        labels[f"{PREFIX}map-index"] = str(workload.map_index)
    return labels


def pod_annotations(workload: Workload) -> dict[str, str]:
    return {
        f"{PREFIX}dag-id": workload.dag_id,
        f"{PREFIX}run-id": workload.run_id,
        f"{PREFIX}task-id": workload.task_id,
        f"{PREFIX}map-index": str(workload.map_index),
        f"{PREFIX}try-number": str(workload.try_number),
        WORKLOAD: encode_workload(workload),
    }


def encode_workload(workload: Workload) -> str:
    return json.dumps(workload.to_dict(), separators=(",", ":"), sort_keys=True)


def workload_of(metadata: Any) -> Workload | None:
    """The workload a pod runs, from its annotations; None for a pod that is not a worker pod."""
    raw = (getattr(metadata, "annotations", None) or {}).get(WORKLOAD)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return Workload.from_dict(data) if isinstance(data, dict) else None
    except (ValueError, TypeError):
        return None
