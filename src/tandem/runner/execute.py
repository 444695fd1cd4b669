"""Run one try: claim it, execute the task under its timeout, record the outcome.

The steps are separate so they can live in different processes: the local executor's
supervisor claims and records (it holds the DB connection), a forked child executes.
``run_workload`` does all of them in the calling process.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import traceback
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Any

from tandem.config import Settings, get_settings
from tandem.db.session import session_scope
from tandem.db.wakeup import notify
from tandem.executors.workload import Workload
from tandem.observability import instruments
from tandem.orchestration import RetryParams
from tandem.runner.claim import Claim, claim_try, finish_try
from tandem.runner.heartbeat import TryHeartbeat
from tandem.runner.logs import TryLog, try_log_path
from tandem.runner.runtime import RuntimeTaskInstance
from tandem.secrets_masker import MaskingStream, process_masker, redact
from tandem.state import TaskInstanceState


class TryTerminated(BaseException):
    """SIGTERM reached the try: the executor is stopping it or the try was taken away.

    A BaseException so that a task's own ``except Exception`` does not swallow it.
    """


@dataclass
class Outcome:
    """How the task's code ended; picklable, so a child can hand it to its supervisor."""

    state: TaskInstanceState
    reason: str | None = None
    xcoms: dict[str, Any] = field(default_factory=dict)
    rendered: dict[str, Any] | None = None
    retry: RetryParams | None = None
    #: False when the task raised TaskFailed (Airflow's AirflowFailException): fail without retry.
    retry_allowed: bool = True
    #: Updates of the task's outlet assets, recorded if the try succeeds: [{"uri", "extra"}].
    asset_events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Prepared:
    """The task object and context of a try, kept for its callbacks."""

    task: Any
    context: dict[str, Any]


def default_hostname(settings: Settings) -> str:
    return settings.core.hostname or socket.gethostname()


def claim_many(workloads: Sequence[Workload], *, node_id: str, hostname: str) -> list[Claim | None]:
    """Claim several tries in one transaction (one commit); None for each one lost."""
    with session_scope() as session:
        return [claim_try(session, w, hostname=hostname, node_id=node_id) for w in workloads]


def claim(workload: Workload, *, node_id: str, hostname: str, log: TryLog) -> Claim | None:
    claimed = claim_many([workload], node_id=node_id, hostname=hostname)[0]
    log_claim(log, workload, claimed, hostname)
    return claimed


def log_claim(log: TryLog, workload: Workload, claimed: Claim | None, hostname: str) -> None:
    if claimed is None:
        log.line(f"{workload} was not claimed: another runner owns it or it is no longer queued", "WARNING")
    else:
        log.line(f"Running {workload} on {hostname}")


def finish_many(items: Sequence[tuple[Workload, Claim, Outcome]], *,
                node_id: str = "", wake: bool = True) -> list[TaskInstanceState | None]:
    """Record several outcomes in one transaction; None for each try that was taken over.

    The commit wakes every scheduler but ``node_id`` (the runner's own, told through a pipe),
    unless ``wake`` is false: a runner that tells the schedulers itself (a Celery worker's
    notices) would otherwise wake each of them twice per try, for two passes.
    """
    with session_scope() as session:
        finals = [
            finish_try(session, w, o.state, start_date=c.start_date, retry=o.retry, xcoms=o.xcoms,
                       rendered_fields=o.rendered, reason=o.reason, allow_retry=o.retry_allowed,
                       asset_events=o.asset_events)
            for w, c, o in items
        ]
        if wake and any(f is not None for f in finals):
            notify(session, node_id)
    instruments.tries_finished(items, finals)  # once committed
    return finals


def finish(workload: Workload, claimed: Claim, outcome: Outcome) -> TaskInstanceState | None:
    return finish_many([(workload, claimed, outcome)])[0]


def report_final(log: TryLog, final: TaskInstanceState | None, outcome: Outcome) -> None:
    if final is None:
        log.line("the try was taken over while it ran (cleared, marked or reaped); result discarded", "WARNING")
    else:
        log.line(f"Marked as {final.value}" + (f": {outcome.reason}" if outcome.reason else ""))


def run_workload(workload: Workload, *, node_id: str, hostname: str | None = None,
                 redirect_output: bool = True, settings: Settings | None = None) -> TaskInstanceState | None:
    """Run ``workload`` entirely in this process; return its final state, or None if not claimed."""
    settings = settings or get_settings()
    log = TryLog(try_log_path(settings.log_folder, workload.key, workload.try_number))
    try:
        claimed = claim(workload, node_id=node_id, hostname=hostname or default_hostname(settings), log=log)
        if claimed is None:
            return None
        if redirect_output:
            redirect_output_to(log)
        outcome, prepared = execute_heartbeating(workload, claimed, log, settings)
        final = finish(workload, claimed, outcome)
        report_final(log, final, outcome)
        if final is not None:
            run_callbacks(prepared, final, log)
        return final
    finally:
        log.close()


def redirect_output_to(log: TryLog) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    # What the task prints (and its BashOperator commands' output) passes the secrets masker.
    sys.stdout = MaskingStream(sys.stdout, process_masker())
    sys.stderr = MaskingStream(sys.stderr, process_masker())


def raise_terminated(signum: int, _frame: Any) -> None:
    raise TryTerminated(f"received signal {signal.Signals(signum).name}")


def _raise_timeout(_signum: int, _frame: Any) -> None:
    from tandem.exceptions import TaskTimeout

    raise TaskTimeout("execution_timeout exceeded")


def execute_heartbeating(workload: Workload, claimed: Claim, log: TryLog,
                         settings: Settings) -> tuple[Outcome, Prepared | None]:
    """``execute_claimed`` while this process heartbeats the try.

    The process running the code heartbeats, not its supervisor: if the supervisor dies the
    try stays alive, and is not reaped as a zombie (and run again) while it still runs. When the
    try is taken away (cleared, marked, reaped), SIGTERM stops the code.
    """
    heartbeat = TryHeartbeat(workload.key, workload.try_number, settings.scheduler.heartbeat_interval,
                             on_lost=lambda: os.kill(os.getpid(), signal.SIGTERM))
    heartbeat.start()
    try:
        return execute_claimed(workload, claimed, log)
    finally:
        heartbeat.stop()


def execute_claimed(workload: Workload, claimed: Claim, log: TryLog) -> tuple[Outcome, Prepared | None]:
    """Run the task's code for a claimed try; never raises for anything the task does."""
    from tandem.exceptions import TaskFailed, TaskSkipped, TaskTimeout
    from tandem.sdk.assets import outlet_updates
    from tandem.sdk.context import current_context
    from tandem.sdk.mapped import check_output_for_mapping

    previous_term = signal.signal(signal.SIGTERM, raise_terminated)
    outcome = Outcome(TaskInstanceState.FAILED)
    prepared: Prepared | None = None
    ti: RuntimeTaskInstance | None = None
    try:
        prepared, ti = _prepare(workload, claimed)
        task = prepared.task
        outcome.retry = RetryParams(retry_delay=task.retry_delay, exponential=bool(task.retry_exponential_backoff),
                                    max_delay=task.max_retry_delay)
        outcome.rendered = _rendered_fields(task)
        timeout = task.execution_timeout
        if timeout is not None:
            signal.signal(signal.SIGALRM, _raise_timeout)
            signal.setitimer(signal.ITIMER_REAL, timeout.total_seconds())
        try:
            call_callbacks(task, "execute", prepared.context, log)
            with current_context(prepared.context):
                task.pre_execute(prepared.context)
                result = task.execute(prepared.context)
                task.post_execute(prepared.context, result)
            check_output_for_mapping(prepared.context["dag"], task, workload.map_index, result,
                                     get_settings().core.max_map_length)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        outcome.xcoms = {**ti.pushed, **(task.xcoms_to_push(result) if result is not None else {})}
        outcome.asset_events = outlet_updates(task, prepared.context)
        outcome.state = TaskInstanceState.SUCCESS
    except TaskSkipped as e:
        outcome.xcoms = dict(ti.pushed) if ti else {}
        outcome.state, outcome.reason = TaskInstanceState.SKIPPED, str(e) or None
        log.line(f"Skipped: {e}" if str(e) else "Skipped")
    except TaskFailed as e:
        outcome.reason, outcome.retry_allowed = f"{type(e).__name__}: {e}", False
        log.line(f"Failed without retry: {outcome.reason}", "ERROR")
    except TaskTimeout as e:
        outcome.reason = f"{e} ({prepared.task.execution_timeout.total_seconds():g} s)" if prepared else str(e)
        log.line(outcome.reason, "ERROR")
    except TryTerminated as e:
        outcome.reason = f"terminated: {e}"
        log.line(outcome.reason, "ERROR")
    except Exception as e:
        outcome.reason = f"{type(e).__name__}: {e}"
        log.line("Task failed:\n" + "".join(traceback.format_exception(e)).rstrip(), "ERROR")
    finally:
        signal.signal(signal.SIGTERM, previous_term)
    outcome.rendered = redact(outcome.rendered)
    outcome.reason = redact(outcome.reason)
    return outcome, prepared


def _prepare(workload: Workload, claimed: Claim) -> tuple[Prepared, RuntimeTaskInstance]:
    """Import the DAG file, pick the task (unmapped for this index), build and render its context."""
    from tandem.runner.assets import read_inlet_events, read_triggering_events
    from tandem.runner.bundle import load_run_dag
    from tandem.runner.other_dags import DatabaseOtherDags
    from tandem.runner.secrets import DatabaseSecrets
    from tandem.sdk.assets import Asset
    from tandem.sdk.context import build_context
    from tandem.sdk.other_dags import set_other_dags_backend
    from tandem.sdk.secrets import set_secrets_backend

    set_secrets_backend(DatabaseSecrets(session_scope))
    set_other_dags_backend(DatabaseOtherDags(session_scope))
    dag = load_run_dag(workload, claimed)
    task: Any = dag.get_task(workload.task_id)
    ti = RuntimeTaskInstance(
        dag_id=workload.dag_id, run_id=workload.run_id, task_id=workload.task_id,
        map_index=workload.map_index, try_number=workload.try_number,
        mapped_tasks=_MappedTaskIds(dag), session_factory=session_scope,
        prefetched=claimed.xcoms,
    )
    task = task.unmap_for_index(workload.map_index, ti) if task.is_mapped else task.prepare_for_execution()
    # Only tasks that need them read asset events: any other try runs without the database.
    inlet_uris = [a.uri for a in task.inlets if isinstance(a, Asset)]
    triggering = inlets = None
    if claimed.run_type == "asset_triggered" or inlet_uris:
        with session_scope() as session:
            triggering = read_triggering_events(session, workload.dag_id, workload.run_id)
            inlets = read_inlet_events(session, inlet_uris)

    context = build_context(
        dag=dag, task=task, ti=ti, run_id=claimed.run_id, logical_date=claimed.logical_date,
        data_interval_start=claimed.data_interval_start, data_interval_end=claimed.data_interval_end,
        conf=claimed.conf, params=None,  # the DAG's params, the task's over them, the run's conf over both
        dag_run=claimed, triggering_asset_events=triggering, inlet_events=inlets,
        previous_success=claimed.previous_success,
    )
    task.resolve_xcom_args(context)
    task.render_template_fields(context)
    return Prepared(task, context), ti


class _MappedTaskIds(Container[str]):
    """The ids of ``dag``'s mapped tasks, looked up one at a time.

    A set built for every try would touch every task object of the DAG, and in a forked try
    that copies the pages they live on: megabytes per try in a DAG of thousands of tasks.
    """

    def __init__(self, dag: Any) -> None:
        self.dag = dag

    def __contains__(self, task_id: object) -> bool:
        task = self.dag.task_dict.get(task_id)
        return task is not None and bool(task.is_mapped)


def _rendered_fields(task: Any) -> dict[str, Any]:
    rendered = {}
    for name in getattr(task, "template_fields", ()):
        value = getattr(task, name, None)
        rendered[name] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
    return rendered


def run_callbacks(prepared: Prepared | None, final: TaskInstanceState, log: TryLog) -> None:
    if prepared is None:
        return
    event = {TaskInstanceState.SUCCESS: "success", TaskInstanceState.FAILED: "failure",
             TaskInstanceState.UP_FOR_RETRY: "retry", TaskInstanceState.SKIPPED: "skipped"}.get(final)
    if event is not None:
        call_callbacks(prepared.task, event, prepared.context, log)


def call_callbacks(task: Any, event: str, context: dict[str, Any], log: TryLog) -> None:
    for callback in task.callbacks_for(event):
        try:
            callback(context)
        except Exception as e:  # a callback never changes the try's outcome
            log.line(f"on_{event}_callback raised {type(e).__name__}: {e}", "ERROR")
