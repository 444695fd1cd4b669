"""DAG file bodies for the DAG-processing tests, and a helper that writes them."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_dag_file(folder: Path, name: str, body: str) -> Path:
    """Write ``body`` (dedented) to ``folder/name`` and return the resolved path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip())
    return path.resolve()


def simple_dag(dag_id: str, schedule: str | None = "@daily", extra_task: str | None = None) -> str:
    """A valid DAG file with one or two EmptyOperator tasks."""
    extra = f"\n    b = EmptyOperator(task_id={extra_task!r})\n    a >> b" if extra_task else ""
    return (
        "from datetime import datetime\n"
        "from tandem import DAG\n"
        "from tandem.sdk.operators import EmptyOperator\n"
        "\n"
        f"with DAG({dag_id!r}, schedule={schedule!r}, start_date=datetime(2024, 1, 1), tags=['x']) as dag:\n"
        f"    a = EmptyOperator(task_id='a'){extra}\n"
    )


RAISES = """
    # tandem dag that fails on import
    def helper():
        raise ValueError("boom at import")

    helper()
"""

HANGS = """
    # tandem dag that never finishes importing
    import time
    while True:
        time.sleep(0.05)
"""

SYS_EXIT = """
    # tandem dag
    import sys
    sys.exit(3)
"""

OS_EXIT = """
    # tandem dag
    import os
    os._exit(4)
"""

SEGFAULT = """
    # tandem dag
    import ctypes
    import faulthandler

    faulthandler.disable()  # keep pytest's crash dump out of the test output
    ctypes.string_at(0)
"""

CYCLE = """
    from tandem import DAG
    from tandem.sdk.operators import EmptyOperator

    with DAG("cyclic") as dag:
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        a >> b >> a
"""

ONE_GOOD_ONE_BAD = """
    from tandem import DAG
    from tandem.sdk.operators import EmptyOperator

    with DAG("fine") as fine:
        EmptyOperator(task_id="a")

    with DAG("broken") as broken:
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        a >> b >> a
"""
