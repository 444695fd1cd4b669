"""What could not be carried over from Airflow exactly, collected while reading it."""

from __future__ import annotations

from dataclasses import dataclass, field

from tandem.db.merge.report import Unconverted


@dataclass
class Notes:
    items: list[Unconverted] = field(default_factory=list)

    def add(self, table: str, key: str, reason: str, resolution: str) -> None:
        self.items.append(Unconverted(table, key, reason, resolution))
