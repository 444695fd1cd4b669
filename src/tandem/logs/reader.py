"""``read_try_log``: one entry point for the CLI and the API.

Sources, in order: this machine's log folder (the try ran here, or the folder is shared),
remote storage (``logging.remote_base_log_folder``, filled when a try ends), the pod that ran
the try (Kubernetes executors, while the pod exists), then the log server of the worker that ran the try, found through the try's row and that worker's node
row (which is how a running try's log is tailed from any server).
"""

from __future__ import annotations

import logging

from tandem.config import Settings
from tandem.logs.chunk import LogChunk, chunk_from_bytes
from tandem.orchestration import TiKey
from tandem.runner.logs import safe_log_path

__all__ = ["LogChunk", "read_local", "read_try_log"]

log = logging.getLogger(__name__)

#: Bytes read per call; callers tail bigger logs with ``offset``.
LIMIT = 1 << 20


def read_local_bytes(
    settings: Settings, key: TiKey, try_number: int, offset: int, limit: int
) -> bytes | None:
    path = safe_log_path(settings.log_folder, key, try_number)
    if not path.is_file():
        return None
    with path.open("rb") as f:
        f.seek(offset)
        return f.read(limit)


def read_local(
    settings: Settings, key: TiKey, try_number: int, offset: int = 0, limit: int = LIMIT
) -> LogChunk:
    data = read_local_bytes(settings, key, try_number, offset, limit)
    if data is None:
        return LogChunk("", offset, False)
    return chunk_from_bytes(data, offset, str(safe_log_path(settings.log_folder, key, try_number)))


def read_try_log(settings: Settings, key: TiKey, try_number: int, offset: int = 0) -> LogChunk:
    """The try's log from ``offset`` (bytes) on, from the first source that has it."""
    chunk = read_local(settings, key, try_number, offset)
    if chunk.found:
        return chunk
    details = []
    if settings.logging.remote_base_log_folder:
        from tandem.logs.remote import read_remote

        try:
            data = read_remote(settings, key, try_number, offset, LIMIT)
        except Exception as e:  # noqa: BLE001 - storage down or misconfigured: the worker may still have it
            log.warning("cannot read remote log storage: %s", e)
            data, details = None, [f"remote storage: {e}"]
        if data is not None:
            return chunk_from_bytes(data, offset, f"{settings.logging.remote_base_log_folder} (remote)")
    from tandem.executors.kubernetes.pod_logs import runs_pods

    if runs_pods(settings):
        from tandem.executors.kubernetes.pod_logs import read_pod_log

        pod_chunk = read_pod_log(settings, key, try_number, offset, LIMIT)
        if pod_chunk is not None:
            return pod_chunk
    from tandem.logs.fetch import fetch_from_worker

    chunk = fetch_from_worker(settings, key, try_number, offset)
    if chunk.found or not details:
        return chunk
    return LogChunk("", offset, False, detail="; ".join([*details, chunk.detail]))
