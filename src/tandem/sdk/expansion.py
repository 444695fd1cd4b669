"""Pure arithmetic of dynamic task mapping, shared by the SDK and the scheduler.

Several expand arguments form a cross product in which the *last* argument varies
fastest (``expand(a=[1, 2], b=["x", "y"])`` gives (1,x) (1,y) (2,x) (2,y)), the
same order as Airflow and :func:`itertools.product`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def total_length(lengths: Sequence[int]) -> int:
    """How many task instances a cross product of these lengths has."""
    return math.prod(lengths) if lengths else 0


def positions_for_index(map_index: int, lengths: Sequence[int]) -> list[int]:
    """The position within each expand argument for ``map_index``."""
    total = total_length(lengths)
    if not 0 <= map_index < total:
        raise IndexError(f"map_index {map_index} out of range for {total} mapped task instance(s)")
    positions = []
    for length in reversed(lengths):
        positions.append(map_index % length)
        map_index //= length
    return positions[::-1]


def mapped_length(sources: Sequence[dict[str, Any]], xcom_lengths: dict[str, int] | None = None) -> int:
    """Instance count of a serialized mapped task.

    ``sources`` is ``task["mapped"]["sources"]``; ``xcom_lengths`` gives, per
    ``arg`` of each ``kind == "xcom"`` source, the length of the pulled value.
    Raises KeyError when an XCom-fed length is missing (upstream not done yet).
    """
    lengths = []
    for source in sources:
        if source["kind"] == "literal":
            lengths.append(int(source["length"]))
        else:
            lengths.append(int((xcom_lengths or {})[source["arg"]]))
    return total_length(lengths)
