"""DAG files of the comparison's shapes, written for Tandem or for Apache Airflow.

The same DAG written twice, differing only in the import line, so that both systems run
exactly the same tasks: no-op ``@task``s, as in the anchor's ``dags/``.
"""

from __future__ import annotations

from pathlib import Path

IMPORTS = {
    "tandem": "from tandem import dag, task",
    "airflow": "from airflow.sdk import dag, task",
}

HEADER = '''{imports}
from datetime import datetime


@task
def noop(x=None):
    return None

'''

CHAIN = '''
@dag(dag_id="cmp_chain", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks=64, catchup=False)
def cmp_chain():
    previous = None
    for i in range({n}):
        current = noop.override(task_id=f"t{{i:02d}}")()
        if previous is not None:
            previous >> current
        previous = current


cmp_chain()
'''

FANOUT = '''
@dag(dag_id="cmp_fanout_{n}", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks={n} + 1,
     catchup=False)
def cmp_fanout_{n}():
    first = noop.override(task_id="start")()
    for i in range({n}):
        first >> noop.override(task_id=f"n{{i:05d}}")()


cmp_fanout_{n}()
'''

MAPPED = '''
@task
def items():
    return list(range({n}))


@dag(dag_id="cmp_mapped_{n}", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks=256,
     catchup=False)
def cmp_mapped_{n}():
    noop.expand(x=items())


cmp_mapped_{n}()
'''

# One run each, created by the scheduler as soon as the file is parsed: no trigger needed.
SMALL = '''
@dag(dag_id="cmp_many_{i:05d}", schedule="@once", start_date=datetime(2024, 1, 1), catchup=False)
def cmp_many_{i:05d}():
    start = noop.override(task_id="start")()
    end = noop.override(task_id="end")()
    start >> [noop.override(task_id=f"mid{{j}}")() for j in range(3)] >> end


cmp_many_{i:05d}()
'''


def chain_id() -> str:
    return "cmp_chain"


def fanout_id(n: int) -> str:
    return f"cmp_fanout_{n}"


def mapped_id(n: int) -> str:
    return f"cmp_mapped_{n}"


def write_run_shapes(folder: Path, system: str, *, chain: int, fanouts: list[int], mapped: list[int]) -> None:
    """The triggered shapes, one file each."""
    folder.mkdir(parents=True, exist_ok=True)
    header = HEADER.format(imports=IMPORTS[system])
    (folder / "cmp_chain.py").write_text(header + CHAIN.format(n=chain))
    for n in fanouts:
        (folder / f"cmp_fanout_{n}.py").write_text(header + FANOUT.format(n=n))
    for n in mapped:
        (folder / f"cmp_mapped_{n}.py").write_text(header + MAPPED.format(n=n))


def write_many(folder: Path, system: str, count: int) -> None:
    """``count`` files of one 5-task DAG each (start >> 3 in parallel >> end), scheduled once."""
    folder.mkdir(parents=True, exist_ok=True)
    header = HEADER.format(imports=IMPORTS[system])
    for i in range(count):
        (folder / f"cmp_many_{i:05d}.py").write_text(header + SMALL.format(i=i))
