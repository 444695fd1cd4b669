"""The Kubernetes API client of a node, and what its errors mean for a try."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from tandem.config import Settings

if TYPE_CHECKING:
    from kubernetes.client import CoreV1Api

#: Seconds one API request may take (connect, read): a hung API server must not hang the scheduler.
REQUEST_TIMEOUT = (5.0, 30.0)


class KubernetesConfigError(RuntimeError):
    """The cluster cannot be reached with the configured credentials; says which setting to fix."""


def core_api(settings: Settings) -> CoreV1Api:
    """A CoreV1Api for ``[kubernetes]``: in-cluster service account, or a kubeconfig file/context."""
    from kubernetes import client, config

    cfg = settings.kubernetes
    configuration = client.Configuration()
    try:
        if cfg.in_cluster:
            config.load_incluster_config(client_configuration=configuration)
        else:
            config.load_kube_config(
                config_file=cfg.config_file or os.environ.get("KUBECONFIG") or None,
                context=cfg.context or None, client_configuration=configuration,
            )
    except config.ConfigException as e:
        source = "in_cluster" if cfg.in_cluster else f"config_file {cfg.config_file or '(default)'}"
        raise KubernetesConfigError(f"kubernetes.{source}: {e}") from None
    except OSError as e:
        raise KubernetesConfigError(f"kubernetes.config_file {cfg.config_file}: {e}") from None
    # Each scheduler thread (launcher, watcher, monitor) shares this client: size its pool for them.
    configuration.connection_pool_maxsize = max(settings.kubernetes.worker_pods_creation_batch_size + 4, 8)
    configuration.retries = False  # Tandem retries with its own backoff, and knows which errors to retry
    return client.CoreV1Api(client.ApiClient(configuration))


def status_of(error: BaseException) -> int:
    """HTTP status of an API error; 0 for a transport error (connection refused, timeout)."""
    from kubernetes.client.exceptions import ApiException

    return int(error.status or 0) if isinstance(error, ApiException) else 0


def is_retryable(error: BaseException) -> bool:
    """Worth trying again later: transport errors, quota refusals, conflicts, throttling, 5xx.

    A 400/422 (an invalid pod) or 404 will answer the same next time.
    """
    status = status_of(error)
    return status in (0, 403, 409, 429) or status >= 500


def describe(error: BaseException) -> str:
    """A one-line account of an API error, with the API server's own message when it sent one."""
    import json

    from kubernetes.client.exceptions import ApiException

    if isinstance(error, ApiException):
        message = ""
        try:
            message = json.loads(error.body or "{}").get("message", "")
        except (ValueError, AttributeError):
            message = str(error.body or "")[:300]
        return f"{error.status} {error.reason}: {message}".strip().rstrip(":")
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
