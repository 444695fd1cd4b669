"""CeleryKubernetesExecutor: tasks of ``kubernetes.kubernetes_queue`` run in pods, the rest on Celery."""

from __future__ import annotations

from collections.abc import Sequence

from tandem.executors.base import BaseExecutor, ExecutorStart
from tandem.executors.celery.executor import CeleryExecutor
from tandem.executors.kubernetes.executor import KubernetesExecutor
from tandem.executors.workload import Event, Workload


class CeleryKubernetesExecutor(BaseExecutor):
    """Routes each workload by its task's queue; both executors share the scheduler's parallelism."""

    name = "celery_kubernetes"
    is_local = False

    def __init__(self) -> None:
        self.celery = CeleryExecutor()
        self.kubernetes = KubernetesExecutor()
        self.kubernetes_queue = "kubernetes"

    def start(self, start: ExecutorStart) -> None:
        self.kubernetes_queue = start.settings.kubernetes.kubernetes_queue
        self.celery.start(start)
        self.kubernetes.start(start)

    def open_slots(self) -> int:
        # Both count the same rows (this scheduler's unfinished tries), so either answers for both.
        return self.kubernetes.open_slots()

    def submit(self, workloads: Sequence[Workload]) -> None:
        to_pods = [w for w in workloads if w.queue == self.kubernetes_queue]
        to_celery = [w for w in workloads if w.queue != self.kubernetes_queue]
        if to_pods:
            self.kubernetes.submit(to_pods)
        if to_celery:
            self.celery.submit(to_celery)

    def poll(self, timeout: float = 0.0) -> list[Event]:
        events = self.kubernetes.poll(0.0)
        events.extend(self.celery.poll(0.0 if events else timeout))
        return events

    def shutdown(self, wait: bool = True) -> None:
        self.kubernetes.shutdown(wait)
        self.celery.shutdown(wait)
