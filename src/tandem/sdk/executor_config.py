"""A task's ``executor_config`` in JSON form, for the serialized DAG.

Airflow users write ``executor_config={"pod_override": k8s.V1Pod(...)}``; the Kubernetes
client's models become their API JSON form (camelCase keys), which is what the Kubernetes
executor merges over its pod template.
"""

from __future__ import annotations

import json
from typing import Any

from tandem.exceptions import DagDefinitionError


def serialize_executor_config(task_id: str, value: Any) -> dict[str, Any] | None:
    if not value:
        return None
    if not isinstance(value, dict):
        raise DagDefinitionError(f"task '{task_id}': executor_config must be a dict, got {type(value).__name__}")
    serialized = {str(key): _json_form(task_id, str(key), item) for key, item in value.items()}
    try:
        json.dumps(serialized)
    except (TypeError, ValueError) as e:
        raise DagDefinitionError(f"task '{task_id}': executor_config is not JSON-serializable: {e}") from None
    return serialized


def _json_form(task_id: str, key: str, value: Any) -> Any:
    # Kubernetes client models (V1Pod, ...) are generated classes with these two attributes.
    if hasattr(value, "openapi_types") and hasattr(value, "attribute_map"):
        from kubernetes.client import ApiClient

        return ApiClient().sanitize_for_serialization(value)
    return value
