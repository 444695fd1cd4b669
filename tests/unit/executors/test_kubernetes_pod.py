"""Worker pods: names and labels valid for Kubernetes, the template and pod_override merged as
Airflow merges them, and every pod built valid against the Kubernetes OpenAPI schema."""

from __future__ import annotations

import re
from pathlib import Path

import kubernetes_validate
import kubernetes_validate.utils
import pytest
from kubernetes.client import models as k8s

from tandem.config import Settings
from tandem.executors.kubernetes.labels import label_value, pod_name, workload_of
from tandem.executors.kubernetes.pod import (
    PodSpecError,
    build_pod,
    decode_command_workload,
    encode_command_workload,
    load_template,
    pod_override,
    reconcile_pods,
)
from tandem.executors.workload import Workload
from tandem.sdk.executor_config import serialize_executor_config

LABEL = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
WORKLOAD = Workload("etl.Daily_Load", "scheduled__2024-01-01T00:00:00+00:00", "extract/Customers", 3, 2,
                    queued_by="0b6f1c9e-7a1d-4c55-9d0e-6f1f2b3c4d5e")


def validate(pod: dict[str, object]) -> None:
    kubernetes_validate.validate(pod, kubernetes_validate.utils.latest_version(), strict=True)


@pytest.mark.parametrize("value", ["etl", "scheduled__2024-01-01T00:00:00+00:00", "-x-", "a" * 80, "é/ü", "_"])
def test_label_values_are_valid_and_keep_distinct_ids_distinct(value: str) -> None:
    safe = label_value(value)
    assert LABEL.match(safe) and len(safe) <= 63, safe
    assert safe == value or safe != label_value(value + "x")


def test_pod_names_are_dns_labels_unique_per_try_and_queuer() -> None:
    name = pod_name(WORKLOAD)
    assert DNS_LABEL.match(name) and len(name) <= 63, name
    again = Workload(**{**WORKLOAD.to_dict(), "try_number": 3})
    other_queuer = Workload(**{**WORKLOAD.to_dict(), "queued_by": "another"})
    assert len({name, pod_name(again), pod_name(other_queuer)}) == 3
    long_ids = Workload("d" * 250, "r", "t" * 250, -1, 1)
    assert DNS_LABEL.match(pod_name(long_ids)) and len(pod_name(long_ids)) <= 63


def test_the_command_carries_the_workload_and_bad_input_says_what_is_wrong() -> None:
    assert decode_command_workload(encode_command_workload(WORKLOAD)) == WORKLOAD
    with pytest.raises(ValueError, match="not an encoded workload"):
        decode_command_workload("not base64 json!")
    with pytest.raises(ValueError, match="not a complete workload"):
        decode_command_workload(encode_command_workload(WORKLOAD)[:0] + "e30")  # {}


def test_the_override_is_merged_over_the_template_as_airflow_does() -> None:
    # Given a template and an override written as Airflow users write them
    base = {"metadata": {"labels": {"team": "data", "tier": "batch"}, "finalizers": ["a"]},
            "spec": {"serviceAccountName": "tandem-worker", "volumes": [{"name": "dags", "emptyDir": {}}],
                     "containers": [{"name": "base", "image": "tandem:1", "env": [{"name": "A", "value": "1"}],
                                     "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "2"}},
                                     "volumeMounts": [{"name": "dags", "mountPath": "/dags"}]},
                                    {"name": "sidecar", "image": "proxy:1"}]}}
    override = serialize_executor_config("t", {"pod_override": k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(labels={"tier": "gpu"}, finalizers=["b"]),
        spec=k8s.V1PodSpec(
            volumes=[k8s.V1Volume(name="cache", empty_dir=k8s.V1EmptyDirVolumeSource())],
            containers=[k8s.V1Container(name="base", env=[k8s.V1EnvVar(name="B", value="2")],
                                        resources=k8s.V1ResourceRequirements(limits={"memory": "1Gi"}))]))})
    assert override is not None

    # When they are reconciled
    pod = reconcile_pods(base, override["pod_override"])

    # Then labels merge key by key, lists are concatenated, other fields are the override's if it sets them
    assert pod["metadata"]["labels"] == {"team": "data", "tier": "gpu"}
    assert pod["metadata"]["finalizers"] == ["a", "b"]
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["dags", "cache"]
    assert pod["spec"]["serviceAccountName"] == "tandem-worker"
    base_container, sidecar = pod["spec"]["containers"]
    assert base_container["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert base_container["image"] == "tandem:1"
    assert base_container["resources"] == {"limits": {"memory": "1Gi"}}  # replaced whole, as in Airflow
    assert base_container["volumeMounts"] == [{"name": "dags", "mountPath": "/dags"}]
    assert sidecar == {"name": "sidecar", "image": "proxy:1"}


def test_built_pods_are_valid_and_identify_their_try(tmp_path: Path) -> None:
    template = tmp_path / "pod.yaml"
    template.write_text("""
apiVersion: v1
kind: Pod
metadata: {labels: {team: data}}
spec:
  containers:
  - name: base
    image: tandem:1
    envFrom: [{configMapRef: {name: tandem-config}}]
""")
    settings = Settings(kubernetes={"namespace": "jobs", "pod_template_file": str(template)})
    override = pod_override(serialize_executor_config("t", {"pod_override": k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(labels={"tandem.io/scheduler": "hijack"}, name="renamed"),
        spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="base", image="tandem:2")]))}), "t")
    pod = build_pod(WORKLOAD, settings, load_template(settings), override, owner="node-1")
    validate(pod)
    meta = pod["metadata"]
    assert (meta["name"], meta["namespace"]) == (pod_name(WORKLOAD), "jobs")
    assert meta["labels"]["tandem.io/scheduler"] == "node-1" and meta["labels"]["team"] == "data"
    assert meta["labels"]["tandem.io/map-index"] == "3" and meta["labels"]["tandem.io/try-number"] == "2"
    assert all(LABEL.match(v) and len(v) <= 63 for v in meta["labels"].values()), meta["labels"]
    assert meta["annotations"]["tandem.io/run-id"] == WORKLOAD.run_id
    assert workload_of(k8s.V1ObjectMeta(annotations=meta["annotations"])) == WORKLOAD
    container = pod["spec"]["containers"][0]
    assert container["image"] == "tandem:2" and container["args"][:3] == ["tandem", "tasks", "run-workload"]
    assert pod["spec"]["restartPolicy"] == "Never"
    # A default pod (no template) is valid too once it has an image
    plain = build_pod(WORKLOAD, Settings(kubernetes={"image": "tandem:1"}), load_template(Settings()), None, "n")
    validate(plain)


def test_bad_templates_and_overrides_are_refused_naming_what_and_where(tmp_path: Path) -> None:
    missing = Settings(kubernetes={"pod_template_file": str(tmp_path / "nope.yaml")})
    with pytest.raises(PodSpecError, match="nope.yaml: cannot be read"):
        load_template(missing)
    (tmp_path / "bad.yaml").write_text("kind: Deployment\n")
    with pytest.raises(PodSpecError, match="bad.yaml: must be one Pod"):
        load_template(Settings(kubernetes={"pod_template_file": str(tmp_path / "bad.yaml")}))
    with pytest.raises(PodSpecError, match="has no image"):
        build_pod(WORKLOAD, Settings(), load_template(Settings()), None, "n")
    with pytest.raises(PodSpecError, match="task d.t: executor_config\\['pod_override'\\] must be a V1Pod"):
        pod_override({"pod_override": "yes"}, "task d.t")


def test_reasons_are_read_from_the_pod_status_as_kubernetes_reports_them() -> None:
    from tandem.executors.kubernetes.monitor import failure_reason, pending_reason

    unschedulable = k8s.V1Pod(status=k8s.V1PodStatus(phase="Pending", conditions=[k8s.V1PodCondition(
        type="PodScheduled", status="False", reason="Unschedulable", message="0/3 nodes are available")]))
    assert pending_reason(unschedulable) == "Unschedulable: 0/3 nodes are available"
    pulling = k8s.V1Pod(status=k8s.V1PodStatus(phase="Pending", container_statuses=[k8s.V1ContainerStatus(
        name="base", image="x", image_id="", ready=False, restart_count=0,
        state=k8s.V1ContainerState(waiting=k8s.V1ContainerStateWaiting(reason="ImagePullBackOff")))]))
    assert pending_reason(pulling) == "ImagePullBackOff"
    assert pending_reason(k8s.V1Pod(status=k8s.V1PodStatus(phase="Pending"))) == "no reason reported"
    oom = k8s.V1Pod(status=k8s.V1PodStatus(phase="Failed", container_statuses=[k8s.V1ContainerStatus(
        name="base", image="x", image_id="", ready=False, restart_count=0,
        state=k8s.V1ContainerState(terminated=k8s.V1ContainerStateTerminated(exit_code=137, reason="OOMKilled")))]))
    assert failure_reason(oom) == "container base exited with code 137 (OOMKilled)"
    evicted = k8s.V1Pod(status=k8s.V1PodStatus(phase="Failed", reason="Evicted", message="low on memory"))
    assert failure_reason(evicted) == "Evicted: low on memory"
