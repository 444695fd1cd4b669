"""Run one try: claim, load the task, execute it under its timeout, record the outcome."""

from __future__ import annotations

import os
import signal
import socket
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any

from tandem.config import Settings, get_settings
from tandem.db.session import session_scope
from tandem.executors.workload import Workload
from tandem.models.variable import get_variable_value
from tandem.runner.claim import Claim, claim_try, finish_try
from tandem.runner.heartbeat import TryHeartbeat
from tandem.runner.logs import TryLog, try_log_path
from tandem.runner.runtime import RuntimeTaskInstance
from tandem.state import TaskInstanceState


class TryTerminated(BaseException):
    """SIGTERM reached the try: the executor is stopping it or the try was taken away.

    A BaseException so that a task's own ``except Exception`` does not swallow it.
    """


@dataclass
class Outcome:
    state: TaskInstanceState
    reason: str | None = None
    xcoms: dict[str, Any] = field(default_factory=dict)
    rendered: dict[str, Any] | None = None
    task: Any = None
    context: dict[str, Any] | None = None


def run_workload(workload: Workload, *, node_id: str, hostname: str | None = None,
                 redirect_output: bool = True, settings: Settings | None = None) -> TaskInstanceState | None:
    """Run ``workload`` in this process; return its final state, or None if not claimed."""
    settings = settings or get_settings()
    hostname = hostname or settings.core.hostname or socket.gethostname()
    log = TryLog(try_log_path(settings.log_folder, workload.key, workload.try_number))
    try:
        with session_scope() as session:
            claim = claim_try(session, workload, hostname=hostname, node_id=node_id)
        if claim is None:
            log.line(f"{workload} was not claimed: another runner owns it or it is no longer queued", "WARNING")
            return None
        if redirect_output:
            _redirect_output(log)
        log.line(f"Running {workload} on {hostname} (pid {os.getpid()})")
        outcome = _run_claimed(workload, claim, settings, log)
        with session_scope() as session:
            final = finish_try(session, workload, outcome.state, start_date=claim.start_date,
                               task_data=claim.task_data, xcoms=outcome.xcoms, rendered_fields=outcome.rendered,
                               reason=outcome.reason)
        if final is None:
            log.line("the try was taken over while it ran (cleared, marked or reaped); result discarded",
                     "WARNING")
            return None
        log.line(f"Marked as {final.value}" + (f": {outcome.reason}" if outcome.reason else ""))
        _run_callbacks(outcome, final, log)
        return final
    finally:
        log.close()


def _redirect_output(log: TryLog) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]


def _raise_terminated(signum: int, _frame: Any) -> None:
    raise TryTerminated(f"received signal {signal.Signals(signum).name}")


def _run_claimed(workload: Workload, claim: Claim, settings: Settings, log: TryLog) -> Outcome:
    from tandem.exceptions import TaskSkipped, TaskTimeout

    previous_term = signal.signal(signal.SIGTERM, _raise_terminated)
    heartbeat = TryHeartbeat(workload.key, workload.try_number, settings.scheduler.heartbeat_interval,
                             on_lost=lambda: os.kill(os.getpid(), signal.SIGTERM))
    heartbeat.start()
    outcome = Outcome(TaskInstanceState.FAILED)
    ti: RuntimeTaskInstance | None = None
    try:
        outcome.task, outcome.context, ti = _prepare(workload, claim, settings)
        outcome.rendered = _rendered_fields(outcome.task)
        timeout = outcome.task.execution_timeout
        if timeout is not None:
            signal.signal(signal.SIGALRM, _raise_timeout)
            signal.setitimer(signal.ITIMER_REAL, timeout.total_seconds())
        try:
            result = outcome.task.execute(outcome.context)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        outcome.xcoms = {**ti.pushed, **(outcome.task.xcoms_to_push(result) if result is not None else {})}
        outcome.state = TaskInstanceState.SUCCESS
    except TaskSkipped as e:
        outcome.xcoms = dict(ti.pushed) if ti else {}
        outcome.state, outcome.reason = TaskInstanceState.SKIPPED, str(e) or None
        log.line(f"Skipped: {e}" if str(e) else "Skipped")
    except TaskTimeout as e:
        outcome.reason = str(e) or f"timed out after {workload.execution_timeout} s"
        log.line(outcome.reason, "ERROR")
    except TryTerminated as e:
        outcome.reason = f"terminated: {e}"
        log.line(outcome.reason, "ERROR")
    except Exception as e:
        outcome.reason = f"{type(e).__name__}: {e}"
        log.line("Task failed:\n" + "".join(traceback.format_exception(e)).rstrip(), "ERROR")
    finally:
        heartbeat.stop()
        signal.signal(signal.SIGTERM, previous_term)
    return outcome


def _raise_timeout(_signum: int, _frame: Any) -> None:
    from tandem.exceptions import TaskTimeout

    raise TaskTimeout("execution_timeout exceeded")


def _prepare(workload: Workload, claim: Claim, settings: Settings) -> tuple[Any, dict[str, Any], RuntimeTaskInstance]:
    """Import the DAG file, pick the task (unmapped for this index), build and render its context."""
    from tandem.dag_processing.parser import load_dag
    from tandem.sdk.context import build_context
    from tandem.sdk.params import validate_conf

    dag = load_dag(claim.dag_data.get("fileloc") or workload.fileloc, workload.dag_id)
    task = dag.get_task(workload.task_id)
    mapped = {t["task_id"] for t in claim.dag_data["tasks"] if t.get("mapped")}
    ti = RuntimeTaskInstance(
        dag_id=workload.dag_id, run_id=workload.run_id, task_id=workload.task_id,
        map_index=workload.map_index, try_number=workload.try_number, mapped_tasks=mapped,
        session_factory=session_scope,
    )
    if workload.map_index >= 0:
        task = task.unmap_for_index(workload.map_index, ti)
    run = claim.run
    try:
        params = validate_conf(claim.dag_data.get("params") or {}, run.conf or {})
    except Exception:
        params = {**{k: v.get("default") for k, v in (claim.dag_data.get("params") or {}).items()}, **(run.conf or {})}

    def variable_getter(name: str) -> str | None:
        with session_scope() as session:
            return get_variable_value(session, name)

    context = build_context(
        dag=dag, task=task, ti=ti, run_id=run.run_id, logical_date=run.logical_date,
        data_interval_start=run.data_interval_start, data_interval_end=run.data_interval_end,
        conf=run.conf or {}, params=params, variable_getter=variable_getter, dag_run=run,
    )
    task.resolve_xcom_args(context)
    task.render_template_fields(context)
    return task, context, ti


def _rendered_fields(task: Any) -> dict[str, Any]:
    rendered = {}
    for name in getattr(task, "template_fields", ()):
        value = getattr(task, name, None)
        rendered[name] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
    return rendered


def _run_callbacks(outcome: Outcome, final: TaskInstanceState, log: TryLog) -> None:
    if outcome.task is None or outcome.context is None:
        return
    event = {TaskInstanceState.SUCCESS: "success", TaskInstanceState.FAILED: "failure",
             TaskInstanceState.UP_FOR_RETRY: "retry"}.get(final)
    if event is None:
        return
    for callback in outcome.task.callbacks_for(event):
        try:
            callback(outcome.context)
        except Exception as e:  # a callback never changes the try's outcome
            log.line(f"on_{event}_callback raised {type(e).__name__}: {e}", "ERROR")
