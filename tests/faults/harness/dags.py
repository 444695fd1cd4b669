"""DAG sources for fault tests. Every task body first appends one line to a side file
(``O_APPEND``, outside the database, so DB faults cannot lose it): the record that its try
started, against which "each try's body starts at most once" is checked."""

from __future__ import annotations

import textwrap
from pathlib import Path

RECORD = '''
import os, time

SIDE = {side!r}

def record_start(ti):
    line = f"{{ti.dag_id}} {{ti.run_id}} {{ti.task_id}} {{ti.map_index}} {{ti.try_number}} {{os.getpid()}} {{time.time()}}\\n"
    fd = os.open(SIDE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
'''


def work_dag(side: Path, dag_id: str, *, width: int = 4, sleep: float = 1.0, retries: int = 3,
             max_active_runs: int = 16, retry_delay: float = 1.0, extra_args: str = "") -> str:
    """``first >> [width middle tasks] >> last``; each records its start, then sleeps ``sleep`` s."""
    body = f'''
from datetime import datetime, timedelta
from tandem import DAG, task

with DAG({dag_id!r}, schedule=None, start_date=datetime(2024, 1, 1), max_active_runs={max_active_runs},
         max_active_tasks=64,
         default_args={{"retries": {retries}, "retry_delay": timedelta(seconds={retry_delay}){extra_args}}}) as dag:
    @task
    def step(ti=None):
        record_start(ti)
        time.sleep({sleep})
    first = step.override(task_id="first")()
    middle = [step.override(task_id=f"m{{i}}")() for i in range({width})]
    last = step.override(task_id="last")()
    first >> middle >> last
'''
    return RECORD.format(side=str(side)) + textwrap.dedent(body)


def poison_retries_dag(side: Path, dag_id: str, *, sleep: float) -> str:
    """One task with a huge retry budget and exponential backoff (issue 8: the retry-delay
    arithmetic overflowed at try 40 and crashed every scheduler's repair pass)."""
    body = f'''
from datetime import datetime, timedelta
from tandem import DAG, task

with DAG({dag_id!r}, schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    @task(retries=60, retry_delay=timedelta(seconds=300), retry_exponential_backoff=True)
    def poison(ti=None):
        record_start(ti)
        time.sleep({sleep})
        raise RuntimeError("poison task fails every try")
    poison()
'''
    return RECORD.format(side=str(side)) + textwrap.dedent(body)


def chatty_dag(side: Path, dag_id: str, *, megabytes: int) -> str:
    """A task printing ``megabytes`` MB to its log, beside quiet ones."""
    body = f'''
from datetime import datetime, timedelta
from tandem import DAG, task

with DAG({dag_id!r}, schedule=None, start_date=datetime(2024, 1, 1), default_args={{"retries": 0}}) as dag:
    @task
    def chatty(ti=None):
        record_start(ti)
        line = "x" * 1023
        for _ in range({megabytes} * 1024):
            print(line)
    @task
    def quiet(ti=None):
        record_start(ti)
        time.sleep(0.5)
    chatty()
    quiet()
'''
    return RECORD.format(side=str(side)) + textwrap.dedent(body)
