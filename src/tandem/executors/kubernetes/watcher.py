"""Following every worker pod of the namespace: one list, then a watch from its resourceVersion.

A watch whose resourceVersion has expired (``410 Gone``, as an HTTP status or as an ERROR
event in the stream) starts over with a fresh list, which the monitor compares with what it
knew, so a pod deleted while nobody watched is noticed too. Other errors back off and resume
the watch where it stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tandem.config import Settings
from tandem.executors.kubernetes.client import REQUEST_TIMEOUT, describe, status_of
from tandem.executors.kubernetes.labels import SELECTOR

if TYPE_CHECKING:
    from kubernetes.client import CoreV1Api

log = logging.getLogger(__name__)

MAX_BACKOFF = 15.0


class PodWatcher(threading.Thread):
    """Calls ``on_list(pods)`` after every (re)list and ``on_event(type, pod)`` for each change."""

    def __init__(self, api: CoreV1Api, settings: Settings, on_list: Callable[[list[Any]], None],
                 on_event: Callable[[str, Any], None], stop: threading.Event) -> None:
        super().__init__(name="k8s-pod-watcher", daemon=True)
        self.api, self.settings, self.stop = api, settings, stop
        self.on_list, self.on_event = on_list, on_event
        self.resource_version: str | None = None
        self.relists = 0
        self._watch: Any = None

    def run(self) -> None:
        backoff = 0.0
        while not self.stop.is_set():
            try:
                if self.resource_version is None:
                    self._list()
                self._follow()
                backoff = 0.0
            except Exception as e:  # noqa: BLE001 - ApiException or any transport error
                if status_of(e) == 410:
                    log.info("the pod watch expired (410 Gone); listing pods again")
                    self.resource_version = None
                    continue
                backoff = min(max(backoff * 2, 0.5), MAX_BACKOFF)
                log.warning("pod watch failed (%s); retrying in %.1f s", describe(e), backoff)
                self.stop.wait(backoff)

    def _list(self) -> None:
        pods: Any = self.api.list_namespaced_pod(
            self.settings.kubernetes.namespace, label_selector=SELECTOR, _request_timeout=REQUEST_TIMEOUT
        )
        self.relists += 1
        self.on_list(list(pods.items))
        self.resource_version = pods.metadata.resource_version

    def _follow(self) -> None:
        from kubernetes import watch

        timeout = self.settings.kubernetes.watch_timeout
        self._watch = watch.Watch()
        stream = self._watch.stream(
            self.api.list_namespaced_pod, self.settings.kubernetes.namespace, label_selector=SELECTOR,
            resource_version=self.resource_version, timeout_seconds=max(int(timeout), 1),
            allow_watch_bookmarks=True, _request_timeout=(REQUEST_TIMEOUT[0], timeout + 15),
        )
        for event in stream:
            kind, pod = event["type"], event["object"]
            if kind == "ERROR":  # the client passes some ERROR events through as raw dicts
                raw = event.get("raw_object") or {}
                from kubernetes.client.exceptions import ApiException

                raise ApiException(status=int(raw.get("code") or 500), reason=str(raw.get("message", raw)))
            version = getattr(getattr(pod, "metadata", None), "resource_version", None)
            if version:
                self.resource_version = version
            if kind != "BOOKMARK":
                self.on_event(kind, pod)
            if self.stop.is_set():
                self._watch.stop()
                break

    def close(self) -> None:
        if self._watch is not None:
            self._watch.stop()
