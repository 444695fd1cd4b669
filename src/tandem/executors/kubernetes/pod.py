"""The pod of one try: the pod template, Tandem's part, and the task's ``pod_override``, merged.

Pods are plain dicts in the API's JSON form (camelCase keys), as a template file or
``ApiClient.sanitize_for_serialization(V1Pod)`` gives them. They are merged in Airflow's order
and by Airflow's rules (``PodGenerator.reconcile_pods``), so pod overrides written for
Airflow behave the same here:

- a value set (truthy) in the later pod wins, a value it leaves empty is kept from the earlier;
- metadata ``labels``/``annotations`` are merged key by key; ``finalizers``,
  ``ownerReferences`` and ``managedFields`` are concatenated;
- ``containers`` are merged by position (the first is the task's); ``initContainers`` and
  ``volumes`` are concatenated;
- in each container ``env``, ``envFrom``, ``volumeMounts``, ``ports`` and ``volumeDevices`` are
  concatenated, while ``resources`` (like every other field) is replaced as a whole.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

from tandem.config import Settings
from tandem.executors.kubernetes.labels import pod_annotations, pod_labels, pod_name
from tandem.executors.workload import Workload

Pod = dict[str, Any]

#: Name of the task's container, as in Airflow (first container of the pod).
CONTAINER = "base"
_META_LISTS = ("managedFields", "finalizers", "ownerReferences")
_SPEC_LISTS = ("initContainers", "volumes")
_CONTAINER_LISTS = ("volumeMounts", "env", "envFrom", "ports", "volumeDevices")


class PodSpecError(ValueError):
    """A pod template or pod override that cannot be used, with what and where."""


def merge_objects(base: Any, client: Any) -> Any:
    """``client`` with each of ``base``'s keys that ``client`` leaves empty (one level deep)."""
    if not base:
        return copy.deepcopy(client)
    if not client:
        return copy.deepcopy(base)
    merged = copy.deepcopy(client)
    for key, value in base.items():
        if not merged.get(key) and value is not None:
            merged[key] = copy.deepcopy(value)
    return merged


def _extend(base: dict[str, Any], client: dict[str, Any], field: str, where: str) -> dict[str, Any]:
    merged = copy.deepcopy(client)
    first, second = base.get(field), client.get(field)
    for value in (first, second):
        if value is not None and not isinstance(value, list):
            raise PodSpecError(f"{where}.{field} must be a list, got {type(value).__name__}")
    if first:
        merged[field] = copy.deepcopy(first) + copy.deepcopy(second or [])
    return merged


def reconcile_containers(base: list[dict[str, Any]], client: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not base:
        return copy.deepcopy(client)
    if not client:
        return copy.deepcopy(base)
    merged = []
    for i in range(max(len(base), len(client))):
        if i >= len(client):
            merged.append(copy.deepcopy(base[i]))
            continue
        if i >= len(base):
            merged.append(copy.deepcopy(client[i]))
            continue
        container = client[i]
        for field in _CONTAINER_LISTS:
            container = _extend(base[i], container, field, f"spec.containers[{i}]")
        merged.append(merge_objects(base[i], container))
    return merged


def reconcile_specs(base: dict[str, Any] | None, client: dict[str, Any] | None) -> dict[str, Any] | None:
    if not base or not client:
        return copy.deepcopy(client or base)
    spec = copy.deepcopy(client)
    spec["containers"] = reconcile_containers(base.get("containers") or [], client.get("containers") or [])
    for field in _SPEC_LISTS:
        spec = _extend(base, spec, field, "spec")
    result: dict[str, Any] = merge_objects(base, spec)
    return result


def reconcile_metadata(base: dict[str, Any] | None, client: dict[str, Any] | None) -> dict[str, Any] | None:
    if not base or not client:
        return copy.deepcopy(client or base)
    meta = copy.deepcopy(client)
    meta["labels"] = merge_objects(base.get("labels"), client.get("labels"))
    meta["annotations"] = merge_objects(base.get("annotations"), client.get("annotations"))
    for field in _META_LISTS:
        meta = _extend(base, meta, field, "metadata")
    result: dict[str, Any] = merge_objects(base, meta)
    return result


def reconcile_pods(base: Pod, client: Pod | None) -> Pod:
    """``client`` merged over ``base`` (Airflow's ``PodGenerator.reconcile_pods``)."""
    if not client:
        return copy.deepcopy(base)
    merged = copy.deepcopy(client)
    merged["spec"] = reconcile_specs(base.get("spec"), client.get("spec"))
    merged["metadata"] = reconcile_metadata(base.get("metadata"), client.get("metadata"))
    result: Pod = merge_objects(base, merged)
    return result


def load_template(settings: Settings) -> Pod:
    """The pod every worker pod starts from: ``kubernetes.pod_template_file``, or a minimal pod."""
    path = settings.kubernetes.pod_template_file
    if not path:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {},
                "spec": {"restartPolicy": "Never", "containers": [{"name": CONTAINER}]}}
    import yaml

    try:
        data = yaml.safe_load(Path(path).expanduser().read_text())
    except OSError as e:
        raise PodSpecError(f"kubernetes.pod_template_file {path}: cannot be read: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise PodSpecError(f"kubernetes.pod_template_file {path}: not valid YAML: {e}") from None
    if not isinstance(data, dict) or data.get("kind", "Pod") != "Pod" or not isinstance(data.get("spec"), dict):
        raise PodSpecError(f"kubernetes.pod_template_file {path}: must be one Pod with a spec")
    if not data["spec"].get("containers"):
        raise PodSpecError(f"kubernetes.pod_template_file {path}: spec.containers is empty")
    return data


def pod_override(executor_config: Any, where: str) -> Pod | None:
    """The ``pod_override`` of a task's (serialized) ``executor_config``, as a dict."""
    if not executor_config:
        return None
    if not isinstance(executor_config, dict):
        raise PodSpecError(f"{where}: executor_config must be a dict, got {type(executor_config).__name__}")
    override = executor_config.get("pod_override")
    if override is None:
        return None
    if not isinstance(override, dict):
        raise PodSpecError(f"{where}: executor_config['pod_override'] must be a V1Pod")
    return override


def encode_command_workload(workload: Workload) -> str:
    """The workload as one shell-safe argument of ``tandem tasks run-workload``."""
    raw = json.dumps(workload.to_dict(), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_command_workload(text: str) -> Workload:
    """Inverse of ``encode_command_workload``; ValueError saying what is wrong with ``text``."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (ValueError, TypeError) as e:
        raise ValueError(f"not an encoded workload (base64url JSON): {e}") from None
    if not isinstance(data, dict):
        raise ValueError("not an encoded workload: the JSON is not an object")
    try:
        return Workload.from_dict(data)
    except TypeError as e:
        raise ValueError(f"not a complete workload: {e}") from None


def _env_from_field(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def build_pod(workload: Workload, settings: Settings, template: Pod, override: Pod | None, owner: str) -> Pod:
    """The pod that runs ``workload``: template, then Tandem's part, then the task's override."""
    cfg = settings.kubernetes
    container: dict[str, Any] = {
        "name": CONTAINER,
        "args": ["tandem", "tasks", "run-workload", encode_command_workload(workload)],
        # The runner claims the try under the pod's identity: its log is read from this pod.
        "env": [_env_from_field("TANDEM_POD_NAME", "metadata.name"),
                _env_from_field("TANDEM_POD_NAMESPACE", "metadata.namespace"),
                _env_from_field("TANDEM_POD_UID", "metadata.uid")],
    }
    if cfg.image:
        container["image"] = cfg.image
    tandem_part: Pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod_name(workload), "namespace": cfg.namespace,
                     "labels": pod_labels(workload, owner), "annotations": pod_annotations(workload)},
        # A new try is a new pod: the container must not be restarted in place.
        "spec": {"restartPolicy": "Never", "containers": [container]},
    }
    pod = reconcile_pods(reconcile_pods(template, tandem_part), override)
    # Identity is Tandem's: an override must not move the pod out of its scheduler's sight.
    pod["metadata"].update(name=tandem_part["metadata"]["name"], namespace=cfg.namespace)
    pod["metadata"]["labels"].update(tandem_part["metadata"]["labels"])
    pod["metadata"]["annotations"].update(tandem_part["metadata"]["annotations"])
    first = pod["spec"]["containers"][0]
    if not first.get("image"):
        raise PodSpecError(f"{workload}: the task's container has no image (set kubernetes.image, the pod "
                           "template's, or the task's pod_override)")
    return pod
