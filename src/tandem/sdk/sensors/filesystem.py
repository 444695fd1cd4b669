"""FileSensor: wait until a path (or glob) exists."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from typing import Any, ClassVar

from tandem.sdk.sensors.base import BaseSensorOperator


class FileSensor(BaseSensorOperator):
    """Wait until ``filepath`` (templated; glob patterns allowed) exists on this worker.

    :param fs_conn_id: accepted for Airflow compatibility; its ``path`` extra is a base folder.
    :param recursive: let ``**`` match folders recursively.
    """

    template_fields: ClassVar[Sequence[str]] = ("filepath",)

    def __init__(self, *, filepath: str, fs_conn_id: str = "fs_default", recursive: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filepath = filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = recursive

    def _base_path(self) -> str:
        from tandem.exceptions import NotFound
        from tandem.sdk.connection import Connection

        try:
            return str(Connection.get(self.fs_conn_id).extra_dejson.get("path", ""))
        except NotFound:
            return ""  # as Airflow's default fs connection: paths are taken as given

    def poke(self, context: dict[str, Any]) -> bool:
        path = os.path.join(self._base_path(), self.filepath)
        return any(True for _ in glob.iglob(path, recursive=self.recursive))
