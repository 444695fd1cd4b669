"""Against a real cluster, when KUBECONFIG names one: the executor's pods are accepted by the API
server (server-side dry run, so nothing runs there) and its list and watch calls work."""

from __future__ import annotations

import os

import pytest

from tandem.config import Settings
from tandem.executors.kubernetes.client import core_api
from tandem.executors.kubernetes.labels import SELECTOR
from tandem.executors.kubernetes.pod import build_pod, load_template
from tandem.executors.workload import Workload

pytestmark = pytest.mark.kubernetes


@pytest.fixture
def cluster_settings() -> Settings:
    config = os.environ.get("KUBECONFIG")
    if not config or not os.path.exists(config.split(os.pathsep)[0]):
        pytest.skip("no real cluster: set KUBECONFIG to a kubeconfig file naming one")
    settings = Settings(kubernetes={"namespace": os.environ.get("TANDEM_TEST_K8S_NAMESPACE", "default"),
                                    "image": os.environ.get("TANDEM_TEST_K8S_IMAGE", "busybox:1.36")})
    try:
        core_api(settings).list_namespaced_pod(settings.kubernetes.namespace, limit=1, _request_timeout=(5, 10))
    except Exception as e:  # noqa: BLE001 - any reason the cluster cannot be used is a reason to skip
        pytest.skip(f"the cluster of KUBECONFIG={config} cannot be reached: {e}")
    return settings


def test_a_worker_pod_is_accepted_and_pods_can_be_followed(cluster_settings: Settings) -> None:
    api = core_api(cluster_settings)
    namespace = cluster_settings.kubernetes.namespace
    workload = Workload("tandem_cluster_check", "manual__check", "dry_run", -1, 1, queued_by="test")
    pod = build_pod(workload, cluster_settings, load_template(cluster_settings), None, owner="test")
    created = api.create_namespaced_pod(namespace, pod, dry_run="All")  # type: ignore[arg-type]
    assert created.metadata.labels["tandem.io/task-id"] == "dry_run"
    listed = api.list_namespaced_pod(namespace, label_selector=SELECTOR)
    assert listed.metadata.resource_version
    from kubernetes import watch

    events = list(watch.Watch().stream(api.list_namespaced_pod, namespace, label_selector=SELECTOR,
                                       resource_version=listed.metadata.resource_version, timeout_seconds=1))
    assert all(e["type"] in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK") for e in events)
