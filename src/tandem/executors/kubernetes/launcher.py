"""Creating worker pods, a batch at a time, off the scheduler's thread.

A refusal worth retrying (quota exceeded, throttling, 5xx, the API server away) is retried
with backoff for ``kubernetes.api_retry_timeout``, then the try is handed back as ``lost``
(the scheduler queues it again). A pod the API server rejects as invalid, or that cannot be
built from the template and the task's override, fails its try with the reason.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from tandem.config import Settings
from tandem.executors.kubernetes.client import REQUEST_TIMEOUT, describe, is_retryable, status_of
from tandem.executors.kubernetes.labels import pod_name
from tandem.executors.kubernetes.outcomes import fail_try
from tandem.executors.kubernetes.pod import Pod, PodSpecError, build_pod, pod_override
from tandem.executors.workload import Event, Workload

if TYPE_CHECKING:
    from kubernetes.client import CoreV1Api

log = logging.getLogger(__name__)

MAX_BACKOFF = 10.0
TERMINAL_PHASES = ("Succeeded", "Failed")


class PodLauncher(threading.Thread):
    """Turns submitted workloads into pods; reports what could not be started through ``report``."""

    def __init__(self, api: CoreV1Api, settings: Settings, template: Pod, owner: str,
                 report: Callable[[Event], None], stop: threading.Event) -> None:
        super().__init__(name="k8s-pod-launcher", daemon=True)
        self.api, self.settings, self.template, self.owner = api, settings, template, owner
        self.report, self.stop = report, stop
        self.pending: queue.Queue[Workload] = queue.Queue()
        self.batch_size = settings.kubernetes.worker_pods_creation_batch_size
        self._overrides: dict[tuple[str, str], dict[str, Any]] = {}

    def submit(self, workloads: list[Workload]) -> None:
        for workload in workloads:
            self.pending.put(workload)

    def run(self) -> None:
        with ThreadPoolExecutor(self.batch_size, thread_name_prefix="k8s-create") as pool:
            while not self.stop.is_set():
                try:
                    batch = [self.pending.get(timeout=0.5)]
                except queue.Empty:
                    continue
                while len(batch) < self.batch_size:
                    try:
                        batch.append(self.pending.get_nowait())
                    except queue.Empty:
                        break
                wait([pool.submit(self._guarded_launch, w) for w in batch])

    def _guarded_launch(self, workload: Workload) -> None:
        try:
            self.launch(workload)
        except Exception as e:  # noqa: BLE001 - one try's trouble must not stop the launcher
            log.exception("could not launch a pod for %s", workload)
            self.report(Event(workload, "lost", f"pod launch failed: {e}"))

    def launch(self, workload: Workload) -> None:
        name = pod_name(workload)
        try:
            pod = build_pod(workload, self.settings, self.template, self._override(workload), self.owner)
        except PodSpecError as e:
            self._fail(workload, f"cannot build the pod of the try: {e}", name)
            return
        namespace = self.settings.kubernetes.namespace
        deadline = time.monotonic() + self.settings.kubernetes.api_retry_timeout
        delay = 0.5
        while True:
            try:
                self.api.create_namespaced_pod(namespace, pod, _request_timeout=REQUEST_TIMEOUT)  # type: ignore[arg-type]
                return
            except Exception as e:  # noqa: BLE001 - ApiException or any transport error
                error: BaseException = e
            if status_of(error) == 409 and self._existing_pod_runs(name):
                return  # an earlier attempt got through; its answer was lost
            if not is_retryable(error):
                self._fail(workload, f"the Kubernetes API refused pod {name}: {describe(error)}", name)
                return
            if time.monotonic() + delay > deadline or self.stop.is_set():
                log.error("gave up creating pod %s for %s: %s", name, workload, describe(error))
                self.report(Event(workload, "lost", f"could not create pod {name}: {describe(error)}"))
                return
            log.warning("creating pod %s: %s; retrying in %.1f s", name, describe(error), delay)
            self.stop.wait(delay)
            delay = min(delay * 2, MAX_BACKOFF)

    def _existing_pod_runs(self, name: str) -> bool:
        """After a 409: True if the pod of that name is alive; a finished one is removed for a new start."""
        namespace = self.settings.kubernetes.namespace
        try:
            existing = self.api.read_namespaced_pod(name, namespace, _request_timeout=REQUEST_TIMEOUT)
        except Exception as e:  # noqa: BLE001 - retried by the caller as a conflict
            log.warning("reading pod %s after a conflict: %s", name, describe(e))
            return False
        if (existing.status and existing.status.phase) not in TERMINAL_PHASES:
            return True
        try:
            self.api.delete_namespaced_pod(name, namespace, grace_period_seconds=0, _request_timeout=REQUEST_TIMEOUT)
        except Exception as e:  # noqa: BLE001 - the create is retried, and conflicts again until this works
            log.warning("deleting finished pod %s to start it again: %s", name, describe(e))
        return False

    def _fail(self, workload: Workload, reason: str, name: str) -> None:
        log.error("%s: %s", workload, reason)
        fail_try(self.settings, workload, reason, pod_name=name)
        self.report(Event(workload, "finished", reason))

    def _override(self, workload: Workload) -> Pod | None:
        """The task's ``pod_override`` from its serialized DAG (cached per DAG version)."""
        cache_key = (workload.dag_id, workload.dag_hash)
        tasks = self._overrides.get(cache_key)
        if tasks is None:
            tasks = _executor_configs(workload.dag_id)
            self._overrides = {k: v for k, v in self._overrides.items() if k[0] != workload.dag_id}
            self._overrides[cache_key] = tasks
        return pod_override(tasks.get(workload.task_id), f"task {workload.dag_id}.{workload.task_id}")


def _executor_configs(dag_id: str) -> dict[str, Any]:
    import sqlalchemy as sa

    from tandem.db.session import session_scope
    from tandem.models import SerializedDagModel

    with session_scope() as session:
        data = session.execute(
            sa.select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id)
        ).scalar_one_or_none()
    return {t["task_id"]: t.get("executor_config") for t in (data or {}).get("tasks", [])}
