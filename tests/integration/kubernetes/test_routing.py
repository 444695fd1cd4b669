"""celery_kubernetes: a task of ``kubernetes.kubernetes_queue`` becomes a pod, every other a Celery message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tandem.config import get_settings, reset_settings
from tandem.executors.base import ExecutorStart
from tandem.executors.kubernetes.labels import pod_name
from tandem.executors.kubernetes.routing import CeleryKubernetesExecutor
from tandem.executors.loader import load_executor_class
from tandem.executors.workload import Workload
from tests.fixtures.kube import KubeEmulator, start_emulator
from tests.fixtures.processes import wait_for
from tests.integration.celery.support import Broker, isolated_broker
from tests.integration.celery.test_executor import receive

__all__ = ["isolated_broker"]

pytestmark = pytest.mark.redis


@pytest.fixture
def api_only_emulator(tmp_path: Path) -> Iterator[KubeEmulator]:
    emulator = start_emulator(tmp_path / "kube", kubelet=False)
    try:
        yield emulator
    finally:
        emulator.stop()


def test_tasks_of_the_kubernetes_queue_run_in_pods_and_the_rest_on_celery(
    isolated_broker: Broker, api_only_emulator: KubeEmulator, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the celery_kubernetes executor, with "k8s" as the queue of pod tasks
    monkeypatch.setenv("TANDEM__CORE__EXECUTOR", "celery_kubernetes")
    monkeypatch.setenv("TANDEM__KUBERNETES__CONFIG_FILE", str(api_only_emulator.kubeconfig))
    monkeypatch.setenv("TANDEM__KUBERNETES__IMAGE", "tandem:test")
    monkeypatch.setenv("TANDEM__KUBERNETES__KUBERNETES_QUEUE", "k8s")
    reset_settings()
    executor = load_executor_class(get_settings().core.executor)()
    assert isinstance(executor, CeleryKubernetesExecutor)
    executor.start(ExecutorStart(settings=get_settings(), node_id="scheduler-1", parallelism=8))
    try:
        # When a workload of each kind is submitted
        in_pod = Workload("d", "r", "in_pod", -1, 1, queue="k8s", queued_by="scheduler-1")
        on_celery = Workload("d", "r", "on_celery", -1, 1, queue="default", queued_by="scheduler-1")
        executor.submit([in_pod, on_celery])

        # Then the first is a pod, and only it; the second a Celery message on its queue
        wait_for(lambda: api_only_emulator.pods(), 20, message="the pod to be created")
        assert [p["metadata"]["name"] for p in api_only_emulator.pods()] == [pod_name(in_pod)]
        _headers, (args, _kwargs, _) = receive(isolated_broker, "default")
        assert args[0]["task_id"] == "on_celery"
        assert executor.open_slots() == 8
    finally:
        executor.shutdown()
