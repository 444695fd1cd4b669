"""Acting on what the pods of this scheduler do; adopting the pods of dead peers.

Level-triggered: the watcher records each pod's latest state, and this thread looks at every
pod that changed (and every pending one once a second):

- Succeeded: the runner recorded the try; the scheduler is woken and the pod deleted.
- Failed: the runner recorded the try, or died without doing so (OOMKilled, evicted): the
  try is failed with the container's reason unless already recorded (compare-and-set).
- Pending for longer than ``pending_timeout`` (image pull, unschedulable): the try fails with
  the reason Kubernetes gives, and the pod is deleted.
- Deleted before it ended: the try fails with that reason.

A pod belongs to the scheduler named by its ``tandem.io/scheduler`` label. Every few seconds
each scheduler relabels the pods of schedulers that are no longer alive in the DB to itself,
conditionally on the pod's resourceVersion, so exactly one peer adopts each pod.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tandem.config import Settings
from tandem.executors.kubernetes.client import REQUEST_TIMEOUT, describe, status_of
from tandem.executors.kubernetes.labels import OWNER, label_value, workload_of
from tandem.executors.kubernetes.outcomes import fail_try
from tandem.executors.workload import Event, Workload

if TYPE_CHECKING:
    from kubernetes.client import CoreV1Api

log = logging.getLogger(__name__)


@dataclass
class PodRecord:
    pod: Any
    workload: Workload
    first_pending: float
    deleted: bool = False
    #: The try's end was handled (reported, recorded); only the pod's deletion may be left to do.
    handled: bool = False
    remove_pod: bool = False


def pod_phase(pod: Any) -> str:
    return (pod.status.phase if pod.status else None) or "Pending"


def pending_reason(pod: Any) -> str:
    """Why a pod has not started, as Kubernetes says it (image pull, scheduling)."""
    status = pod.status
    for condition in (status.conditions if status else None) or []:
        if condition.type == "PodScheduled" and condition.status == "False":
            return f"{condition.reason or 'Unschedulable'}: {condition.message or 'no node fits'}"
    for container in (status.container_statuses if status else None) or []:
        waiting = container.state.waiting if container.state else None
        if waiting is not None and waiting.reason:
            return f"{waiting.reason}: {waiting.message or ''}".rstrip(": ")
    return "no reason reported"


def failure_reason(pod: Any) -> str:
    """Why a pod's container failed: exit code and reason (OOMKilled, Error), or the pod's (Evicted)."""
    status = pod.status
    for container in (status.container_statuses if status else None) or []:
        ended = container.state.terminated if container.state else None
        if ended is not None:
            text = f"container {container.name} exited with code {ended.exit_code} ({ended.reason or 'Error'})"
            return f"{text}: {ended.message}" if ended.message else text
    if status is not None and (status.reason or status.message):
        return f"{status.reason or 'Failed'}: {status.message or ''}".rstrip(": ")
    return "the pod failed without a reason"


class PodMonitor(threading.Thread):
    """Follows the pods the watcher reports; reports ended tries through ``report``."""

    def __init__(self, api: CoreV1Api, settings: Settings, node_id: str, report: Callable[[Event], None],
                 stop: threading.Event, adopt_interval: float | None = None) -> None:
        super().__init__(name="k8s-pod-monitor", daemon=True)
        self.api, self.settings, self.node_id = api, settings, node_id
        self.owner_label = label_value(node_id)
        self.report, self.stop = report, stop
        self.adopt_interval = adopt_interval or max(settings.scheduler.node_timeout / 2, 1.0)
        self.records: dict[str, PodRecord] = {}
        self.adopted = 0
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._next_adoption = 0.0

    # -- fed by the watcher ------------------------------------------------------
    def on_list(self, pods: list[Any]) -> None:
        """A full list: pods we knew that are not in it were deleted while nobody watched."""
        seen = {p.metadata.name for p in pods}
        with self._lock:
            for name, record in self.records.items():
                if name not in seen:
                    record.deleted = True
                    self._dirty.add(name)
        for pod in pods:
            self.on_event("ADDED", pod)

    def on_event(self, kind: str, pod: Any) -> None:
        workload = workload_of(pod.metadata)
        if workload is None:
            return
        name = pod.metadata.name
        with self._lock:
            record = self.records.get(name)
            if record is None:
                record = self.records[name] = PodRecord(pod, workload, time.monotonic())
            record.pod = pod
            if kind == "DELETED":
                record.deleted = True
            self._dirty.add(name)
        self._wake.set()

    # -- the thread ----------------------------------------------------------------
    def run(self) -> None:
        while not self.stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the DB or the API may be away; the next pass retries
                log.exception("pod monitor pass failed")
                self.stop.wait(1.0)

    def check(self) -> None:
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            # Pending pods are looked at again each pass: their timeout runs without events.
            dirty |= {n for n, r in self.records.items() if not r.handled and pod_phase(r.pod) == "Pending"}
            dirty |= {n for n, r in self.records.items() if r.remove_pod and not r.deleted}
        for name in sorted(dirty):
            record = self.records.get(name)
            if record is not None:
                self._handle(name, record)
        if time.monotonic() >= self._next_adoption:
            self._next_adoption = time.monotonic() + self.adopt_interval
            self.adopt_orphans()

    def _mine(self, record: PodRecord) -> bool:
        labels = record.pod.metadata.labels or {}
        return labels.get(OWNER) == self.owner_label

    def _handle(self, name: str, record: PodRecord) -> None:
        cfg = self.settings.kubernetes
        phase = pod_phase(record.pod)
        if record.deleted:
            with self._lock:
                self.records.pop(name, None)
            if record.handled or not self._mine(record):
                return
            if phase == "Succeeded":  # it ended before it was deleted: that is all there is to say
                self._end(record, "", remove=False, record_failure=False)
            elif phase == "Failed":
                self._end(record, f"pod {name} failed: {failure_reason(record.pod)}", remove=False)
            else:
                self._end(record, f"pod {name} was deleted before its try ended", remove=False)
            return
        if not self._mine(record):
            return
        if not record.handled:
            if phase == "Succeeded":
                self._end(record, "", remove=cfg.delete_worker_pods, record_failure=False)
            elif phase == "Failed":
                # A graceful deletion ends the container first: say why it ended, not only how.
                deleting = record.pod.metadata.deletion_timestamp is not None
                verb = "was deleted before its try ended" if deleting else "failed"
                self._end(record, f"pod {name} {verb}: {failure_reason(record.pod)}",
                          remove=cfg.delete_worker_pods and cfg.delete_worker_pods_on_failure)
            elif phase == "Pending" and time.monotonic() - record.first_pending > cfg.pending_timeout:
                self._end(record, f"pod {name} was Pending for more than {cfg.pending_timeout:g} s: "
                          f"{pending_reason(record.pod)}", remove=True)
            elif phase == "Unknown":
                log.warning("pod %s is in phase Unknown (its node is unreachable)", name)
        if record.remove_pod:
            self._delete_pod(name, record)

    def _end(self, record: PodRecord, reason: str, *, remove: bool, record_failure: bool = True) -> None:
        name = record.pod.metadata.name
        detail = reason or "pod succeeded"
        if record_failure:
            final = fail_try(self.settings, record.workload, reason, pod_name=name)
            if final is not None:
                detail = f"{reason} -> {final.value}"
        record.handled = True
        record.remove_pod = remove
        self.report(Event(record.workload, "finished", detail))

    def _delete_pod(self, name: str, record: PodRecord) -> None:
        try:
            self.api.delete_namespaced_pod(name, self.settings.kubernetes.namespace,
                                           _request_timeout=REQUEST_TIMEOUT)
        except Exception as e:  # noqa: BLE001 - retried on the next pass
            if status_of(e) != 404:
                log.warning("could not delete pod %s (%s); retrying", name, describe(e))
                return
        record.remove_pod = False

    # -- adoption ------------------------------------------------------------------
    def adopt_orphans(self) -> int:
        """Relabel to this scheduler the pods whose scheduler is no longer alive; how many it took."""
        live = self._live_owner_labels()
        with self._lock:
            orphans = [r.pod for r in self.records.values()
                       if not r.deleted and (r.pod.metadata.labels or {}).get(OWNER) not in live]
        taken = 0
        for pod in orphans:
            body: dict[str, Any] = {"metadata": {"labels": {OWNER: self.owner_label},
                                                 "resourceVersion": pod.metadata.resource_version}}
            try:
                self.api.patch_namespaced_pod(pod.metadata.name, self.settings.kubernetes.namespace, body,
                                              _request_timeout=REQUEST_TIMEOUT)
            except Exception as e:  # noqa: BLE001 - a peer adopted it first (409), or it is gone (404)
                if status_of(e) not in (404, 409):
                    log.warning("could not adopt pod %s: %s", pod.metadata.name, describe(e))
                continue
            taken += 1
        if taken:
            self.adopted += taken
            log.info("adopted %d pods of schedulers that are no longer alive", taken)
        return taken

    def _live_owner_labels(self) -> set[str]:
        from tandem.cluster.nodes import live_node_ids
        from tandem.db.session import session_scope

        with session_scope() as session:
            ids = session.execute(live_node_ids()).scalars().all()
        return {label_value(i) for i in ids} | {self.owner_label}
