"""What an executor is given: identity and version of a try, never code or secrets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from tandem.orchestration import TiKey


@dataclass(frozen=True)
class Workload:
    """Run try ``try_number`` of one task instance.

    ``try_number`` is the number the runner claims: the task instance must still be queued with
    ``try_number - 1`` recorded, otherwise another runner got there first and nothing runs.
    ``queued_by`` fences late deliveries: once a peer has re-queued the try (its scheduler was
    declared dead, or it sat queued too long), the old message names the wrong queuer and loses.
    """

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    queue: str = "default"
    priority_weight: int = 1
    fileloc: str = ""
    dag_hash: str = ""
    #: Where the runner finds the DAG file in its run's bundle version (empty: use ``fileloc``).
    bundle_name: str = ""
    relative_fileloc: str = ""
    execution_timeout: float | None = None
    queued_by: str = ""

    @property
    def key(self) -> TiKey:
        return TiKey(self.dag_id, self.run_id, self.task_id, self.map_index)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Workload:
        # Keys a newer node added are ignored, so nodes of two versions share one queue.
        return cls(**{k: v for k, v in data.items() if k in _FIELDS})

    def __str__(self) -> str:
        mapped = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"{self.dag_id}/{self.run_id}/{self.task_id}{mapped} try {self.try_number}"


_FIELDS = frozenset(f.name for f in fields(Workload))


@dataclass(frozen=True)
class Event:
    """Something the executor saw happen to a workload.

    ``kind`` is ``finished`` (the runner exited; the DB says how the try ended), ``lost`` (the
    executor could not run it; the scheduler re-queues it) or ``info``.
    """

    workload: Workload
    kind: str
    detail: str = ""
