"""Remote log storage through fsspec: a shared directory, or an object store (s3://, gs://, ...).

Finished tries' logs are copied there by the worker that ran them, so logs outlive the
worker's disk. The layout under ``logging.remote_base_log_folder`` is the local one
(``dag_id=…/run_id=…/task_id=…[/map_index=…]/attempt=N.log``). Object stores need their
fsspec implementation installed (``s3fs``, ``gcsfs``, ...).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from tandem.config import Settings
from tandem.orchestration import TiKey
from tandem.runner.logs import safe_log_path, try_log_path


def _remote(settings: Settings, key: TiKey, try_number: int) -> tuple[Any, str]:
    from fsspec.core import url_to_fs

    cfg = settings.logging
    fs, root = url_to_fs(cfg.remote_base_log_folder, **cfg.remote_log_storage_options)
    relative = try_log_path(PurePosixPath("."), key, try_number)  # type: ignore[arg-type]
    if ".." in relative.parts:
        raise ValueError("log path escapes the log folder")
    return fs, f"{str(root).rstrip('/')}/{relative.as_posix()}"


def upload_try_log(settings: Settings, key: TiKey, try_number: int) -> str | None:
    """Copy the try's local log to remote storage; its remote path, or None without a local log."""
    local = safe_log_path(settings.log_folder, key, try_number)
    if not local.is_file():
        return None
    fs, path = _remote(settings, key, try_number)
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    fs.put_file(str(local), path)
    return str(path)


def read_remote(settings: Settings, key: TiKey, try_number: int, offset: int, limit: int) -> bytes | None:
    """Bytes of the try's remote log from ``offset`` on; None when remote storage has none."""
    if not settings.logging.remote_base_log_folder:
        return None
    fs, path = _remote(settings, key, try_number)
    try:
        with fs.open(path, "rb") as f:
            f.seek(offset)
            data: bytes = f.read(limit)
            return data
    except FileNotFoundError:
        return None
