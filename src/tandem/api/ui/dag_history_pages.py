"""A DAG's history views: the calendar of run outcomes, task duration and landing time charts,
and the XComs of a run."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.deps import db
from tandem.api.errors import not_found
from tandem.api.queries import dags as dag_queries
from tandem.api.queries import runs as run_queries
from tandem.api.ui.access import page_for
from tandem.api.ui.calendar import build_calendar
from tandem.api.ui.grid import latest_runs
from tandem.api.ui.line_chart import line_chart
from tandem.api.ui.render import render
from tandem.models import DagModel, DagRun, TaskInstance, XCom
from tandem.secrets_masker import masker_from_db

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Identity, Depends(page_for(RoleName.VIEWER))]
RUN_CHOICES = (10, 25, 50, 100, 365)


def _load(session: Any, dag_id: str) -> tuple[DagModel, dict[str, Any]]:
    dag = dag_queries.read_dag(session, dag_id)
    data = dag_queries.read_serialized(session, dag_id)
    if dag is None or data is None:
        raise not_found(f"DAG {dag_id!r}")
    return dag, data


@router.get("/dags/{dag_id}/calendar")
def dag_calendar(request: Request, dag_id: str, who: Viewer,
                 year: Annotated[int | None, Query(ge=1970, le=9998)] = None) -> Response:
    shown = year or datetime.now(UTC).year
    with db(request) as session:
        dag, data = _load(session, dag_id)
        calendar = build_calendar(session, dag, data, shown)
    return render(request, "dag_calendar.html", who, dag=dag, data=data, calendar=calendar, tab="calendar")


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    return (later - earlier).total_seconds() if later is not None and earlier is not None else None


def run_task_times(session: Any, dag_id: str, runs: list[DagRun]) -> tuple[dict[str, list[float | None]],
                                                                          dict[str, list[float | None]]]:
    """Per task, one duration and one landing time per run (a mapped task's: its slowest instance).

    Landing time is how long after the run was due (its ``run_after``, the end of its data
    interval) the task finished, as in Airflow.
    """
    index = {r.run_id: i for i, r in enumerate(runs)}
    durations: dict[str, list[float | None]] = defaultdict(lambda: [None] * len(runs))
    landings: dict[str, list[float | None]] = defaultdict(lambda: [None] * len(runs))
    due = {r.run_id: r.run_after or r.data_interval_end or r.logical_date for r in runs}
    for run_id, task_id, start, end, duration in session.execute(
        sa.select(TaskInstance.run_id, TaskInstance.task_id, TaskInstance.start_date, TaskInstance.end_date,
                  TaskInstance.duration)
        .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_(list(index)))
    ).tuples():
        i = index[run_id]
        took = duration if duration is not None else _seconds(end, start)
        if took is not None:
            durations[task_id][i] = max(took, durations[task_id][i] or 0.0)
        landed = _seconds(end, due[run_id])
        if landed is not None:
            current = landings[task_id][i]
            landings[task_id][i] = landed if current is None else max(landed, current)
    return dict(durations), dict(landings)


@router.get("/dags/{dag_id}/durations")
def dag_durations(request: Request, dag_id: str, who: Viewer,
                  runs: Annotated[int, Query(ge=1, le=365)] = 25) -> Response:
    with db(request) as session:
        dag, data = _load(session, dag_id)
        recent = latest_runs(session, dag_id, runs)
        durations, landings = run_task_times(session, dag_id, recent)
    labels = [r.logical_date.strftime("%m-%d %H:%M") for r in recent]
    charts = [("task-duration", "Task duration", line_chart(labels, durations, "duration")),
              ("landing-time", "Landing time", line_chart(labels, landings, "after the run was due"))]
    return render(request, "dag_durations.html", who, dag=dag, data=data, charts=charts, runs=recent,
                  run_limit=runs, run_choices=sorted({*RUN_CHOICES, runs}), tab="durations")


@router.get("/dags/{dag_id}/xcoms")
def dag_xcoms(request: Request, dag_id: str, who: Viewer,
              run_id: Annotated[str | None, Query(max_length=250)] = None) -> Response:
    with db(request) as session:
        dag, data = _load(session, dag_id)
        runs = latest_runs(session, dag_id, 25)
        run = run_queries.read_run(session, dag_id, run_id) if run_id else (runs[-1] if runs else None)
        if run_id and run is None:
            raise not_found(f"DAG run {run_id!r} of DAG {dag_id!r}")
        rows = [] if run is None else list(session.execute(
            sa.select(XCom).where(XCom.dag_id == dag_id, XCom.run_id == run.run_id)
            .order_by(XCom.task_id, XCom.map_index, XCom.key)).scalars())
        # The same masking as the XCom API: stored secrets by value, sensitive keys whole.
        masker = masker_from_db(session)
        entries = [(x, masker.redact(x.value, x.key)) for x in rows]
    if run is not None and all(r.run_id != run.run_id for r in runs):
        runs.append(run)
    return render(request, "dag_xcoms.html", who, dag=dag, data=data, run=run, runs=runs, entries=entries,
                  tab="xcoms")
