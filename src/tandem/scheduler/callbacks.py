"""DAG-level callbacks (``on_success_callback``/``on_failure_callback`` of a DAG).

Run in a short-lived forked child, so user code never blocks or crashes the scheduler. The
scheduler that finished the run (won the compare-and-set) starts them once, after its commit;
their output goes to ``<logs>/dag_id=…/run_id=…/dag_callback.log``.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import traceback
from dataclasses import dataclass
from typing import Any

from tandem.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DagCallback:
    dag_id: str
    run_id: str
    fileloc: str
    event: str  # "success" or "failure"
    reason: str
    #: Where the DAG file is in its run's bundle version (empty: import ``fileloc``).
    relative_fileloc: str = ""


def wanted(dag_data: dict[str, Any], dag_id: str, run_id: str, succeeded: bool, reason: str) -> list[DagCallback]:
    flag = "has_on_success_callback" if succeeded else "has_on_failure_callback"
    if not dag_data.get(flag):
        return []
    return [DagCallback(dag_id, run_id, dag_data.get("fileloc", ""), "success" if succeeded else "failure", reason,
                        dag_data.get("relative_fileloc", ""))]


class CallbackRunner:
    """Starts callback children and reaps them; never waits for one."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._running: list[mp.process.BaseProcess] = []

    def start(self, callbacks: list[DagCallback]) -> None:
        self._running = [p for p in self._running if p.is_alive()]
        for callback in callbacks:
            process = mp.get_context("fork").Process(target=_run, args=(callback, self.settings), daemon=True,
                                                     name="tandem-dag-callback")
            process.start()
            self._running.append(process)


def _run(callback: DagCallback, settings: Settings) -> None:
    from tandem.db.engine import release_after_fork
    from tandem.process import die_with_parent
    from tandem.runner.execute import redirect_output_to
    from tandem.runner.logs import TryLog

    die_with_parent()
    release_after_fork()
    path = settings.log_folder / f"dag_id={callback.dag_id}" / f"run_id={callback.run_id}" / "dag_callback.log"
    trylog = TryLog(path)
    redirect_output_to(trylog)
    code = 0
    try:
        trylog.line(f"DAG run {callback.event} ({callback.reason}): running on_{callback.event}_callback")
        _call(callback, settings)
    except BaseException:
        trylog.line("DAG callback failed:\n" + traceback.format_exc().rstrip(), "ERROR")
        code = 1
    finally:
        trylog.close()
        os._exit(code)


def _call(callback: DagCallback, settings: Settings) -> None:
    import sqlalchemy as sa

    from tandem.dag_processing.parser import load_dag
    from tandem.db.session import session_scope
    from tandem.models import DagRun

    with session_scope() as session:
        run = session.execute(sa.select(DagRun).where(DagRun.dag_id == callback.dag_id,
                                                      DagRun.run_id == callback.run_id)).scalar_one()
    fileloc = callback.fileloc
    if run.bundle_name and run.bundle_version and callback.relative_fileloc:
        from tandem.dag_processing.bundles.cache import materialize
        from tandem.runner.bundle import use_version

        # The run's own version, as its tries ran: a scheduler needs no DAG files either.
        folder = materialize(settings.bundle_cache_folder, run.bundle_name, run.bundle_version, session_scope)
        use_version(folder)
        fileloc = str(folder / callback.relative_fileloc)
    dag = load_dag(fileloc, callback.dag_id)
    context = {"dag": dag, "dag_run": run, "run_id": run.run_id, "logical_date": run.logical_date,
               "conf": run.conf or {}, "reason": callback.reason, "params": dict(run.conf or {})}
    functions = getattr(dag, f"on_{callback.event}_callback")
    for function in functions if isinstance(functions, list) else [functions]:
        function(context)
