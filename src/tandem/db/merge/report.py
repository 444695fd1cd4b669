"""What a merge found and did: counts per table and every conflict with its resolution."""

from __future__ import annotations

from dataclasses import dataclass, field

# Tables the DAG processor rebuilds from DAG files, or that describe live processes.
NOT_COPIED = ("dag", "serialized_dag", "dag_code", "import_error", "node")


@dataclass
class TableCounts:
    imported: int = 0
    present: int = 0
    conflicts: int = 0
    renamed: int = 0


@dataclass(frozen=True)
class Conflict:
    table: str
    key: str
    reason: str
    resolution: str


@dataclass(frozen=True)
class Unconverted:
    """A row of an Airflow database with no exact Tandem form, and what became of it."""

    table: str
    key: str
    reason: str
    resolution: str


@dataclass
class MergeReport:
    policy: str
    counts: dict[str, TableCounts] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    # DAG ids that got a paused placeholder ``dag`` row so the UI lists their imported runs.
    dag_stubs: list[str] = field(default_factory=list)

    def table(self, name: str) -> TableCounts:
        return self.counts.setdefault(name, TableCounts())

    def add_conflict(self, conflict: Conflict) -> None:
        self.conflicts.append(conflict)

    @property
    def imported(self) -> int:
        return sum(c.imported for c in self.counts.values()) + len(self.dag_stubs)

    def summary_rows(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = [
            {"table": name, "imported": c.imported, "already present": c.present, "conflicts": c.conflicts,
             "renamed": c.renamed}
            for name, c in self.counts.items()
        ]
        rows.append({"table": "dag (paused placeholders)", "imported": len(self.dag_stubs), "already present": "",
                     "conflicts": "", "renamed": ""})
        return rows
