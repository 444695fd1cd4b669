"""Running single tasks by hand: ``tandem tasks test`` and ``tandem tasks run``."""

from __future__ import annotations

import traceback
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.cluster.nodes import register_node, stop_node
from tandem.config import Settings
from tandem.db.session import session_scope
from tandem.executors.workload import Workload
from tandem.models import SerializedDagModel, TaskInstance, utcnow
from tandem.orchestration import TiKey, transition_ti
from tandem.runner.execute import run_workload
from tandem.runner.runtime import RuntimeTaskInstance
from tandem.state import TaskInstanceState as S


def test_task(engine: Engine, dag_id: str, task_id: str, *, logical_date: datetime | None = None,
              conf: dict[str, Any] | None = None, map_index: int = -1) -> str:
    """Run one task here, ignoring dependencies and recording nothing; return how it ended."""
    from tandem.dag_processing.parser import load_dag
    from tandem.exceptions import TaskSkipped
    from tandem.runner.other_dags import DatabaseOtherDags
    from tandem.runner.secrets import DatabaseSecrets
    from tandem.sdk.context import build_context, current_context
    from tandem.sdk.other_dags import set_other_dags_backend
    from tandem.sdk.params import validate_conf
    from tandem.sdk.secrets import set_secrets_backend
    from tandem.sdk.timetables import timetable_for

    with session_scope(engine) as session:
        data = session.execute(sa.select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id)).scalar_one_or_none()
    if data is None:
        raise LookupError(f"DAG {dag_id!r} not found (run `tandem dags list` to parse the DAG folder)")
    dag = load_dag(data["fileloc"], dag_id)
    if task_id not in dag.task_dict:
        raise LookupError(f"DAG {dag_id!r} has no task {task_id!r}")
    logical_date = logical_date or utcnow()
    run_id = f"test__{logical_date.isoformat()}"
    ti = RuntimeTaskInstance(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index, try_number=1,
                             mapped_tasks={t["task_id"] for t in data["tasks"] if t.get("mapped")},
                             session_factory=lambda: session_scope(engine))
    task: Any = dag.get_task(task_id)
    if map_index >= 0:
        task = task.unmap_for_index(map_index, ti)
    interval = timetable_for(data["schedule"], data.get("timezone") or "UTC").infer_manual_data_interval(logical_date)
    task_params = next(t.get("params") or {} for t in data["tasks"] if t["task_id"] == task_id)
    params = validate_conf({**(data.get("params") or {}), **task_params}, conf or {})
    set_secrets_backend(DatabaseSecrets(lambda: session_scope(engine)))
    set_other_dags_backend(DatabaseOtherDags(lambda: session_scope(engine)))

    context = build_context(dag=dag, task=task, ti=ti, run_id=run_id, logical_date=logical_date,
                            data_interval_start=interval.start, data_interval_end=interval.end, conf=conf or {},
                            params=params)
    try:
        task.resolve_xcom_args(context)
        task.render_template_fields(context)
        with current_context(context):
            task.pre_execute(context)
            result = task.execute(context)
            task.post_execute(context, result)
    except TaskSkipped as e:
        print(f"Task skipped: {e}")
        return S.SKIPPED.value
    except Exception:
        traceback.print_exc()
        return S.FAILED.value
    print(f"Returned value: {result!r}")
    return S.SUCCESS.value


def run_task_instance(engine: Engine, settings: Settings, key: TiKey) -> str | None:
    """Queue a task instance's next try and run it here through the real runner."""
    with session_scope(engine) as session:
        ti = session.get(TaskInstance, tuple(key))
        if ti is None:
            raise LookupError(f"task instance {key.dag_id}/{key.run_id}/{key.task_id}[{key.map_index}] not found")
        state, try_number = S(ti.state), ti.try_number
        if state not in (S.NONE, S.SCHEDULED, S.UP_FOR_RETRY, S.QUEUED):
            raise ValueError(f"the task instance is {state.value}; clear it first (`tandem tasks clear`)")
        if state != S.QUEUED:
            if state != S.SCHEDULED:
                transition_ti(session, key, state, S.SCHEDULED)
            node_id = register_node(session, "tasks-run")
            transition_ti(session, key, S.SCHEDULED, S.QUEUED, values={"queued_by": node_id})
        else:
            node_id = register_node(session, "tasks-run")
        data = session.execute(sa.select(SerializedDagModel.data).where(SerializedDagModel.dag_id == key.dag_id)).scalar_one()
    task = next(t for t in data["tasks"] if t["task_id"] == key.task_id)
    workload = Workload(dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id, map_index=key.map_index,
                        try_number=try_number + 1, fileloc=data["fileloc"],
                        bundle_name=data.get("bundle_name", ""), relative_fileloc=data.get("relative_fileloc", ""),
                        execution_timeout=task.get("execution_timeout"))
    try:
        final = run_workload(workload, node_id=node_id, redirect_output=False, settings=settings)
    finally:
        with session_scope(engine) as session:
            stop_node(session, node_id)
    return final.value if final else None
