"""A DAG's pages: grid, graph, Gantt and durations, code, runs, and the trigger form."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName
from tandem.api.deps import db
from tandem.api.errors import not_found
from tandem.api.queries import dags as dag_queries
from tandem.api.queries import runs as run_queries
from tandem.api.schemas.filters import Page
from tandem.api.ui import details
from tandem.api.ui.access import page_for
from tandem.api.ui.graph import layout
from tandem.api.ui.grid import ACTIVE_RUN_STATES, grid_payload, latest_runs, mapped_rows, summary_state
from tandem.api.ui.highlight import highlight_python
from tandem.api.ui.params_form import param_fields
from tandem.api.ui.render import render
from tandem.dag_processing.store import fileloc_hash
from tandem.models import DagModel, DagRun, TaskInstance

router = APIRouter(include_in_schema=False)
router.include_router(details.router)
Viewer = Annotated[Identity, Depends(page_for(RoleName.VIEWER))]
RunId = Annotated[str | None, Query(max_length=200)]


def _load(session: Any, dag_id: str) -> tuple[DagModel, dict[str, Any]]:
    dag = dag_queries.read_dag(session, dag_id)
    data = dag_queries.read_serialized(session, dag_id)
    if dag is None or data is None:
        raise not_found(f"DAG {dag_id!r}")
    return dag, data


def _chosen_run(session: Any, dag_id: str, run_id: str | None) -> DagRun | None:
    if run_id:
        return run_queries.read_run(session, dag_id, run_id)
    runs = latest_runs(session, dag_id, 1)
    return runs[-1] if runs else None


def _ti_states(session: Any, dag_id: str, run: DagRun | None) -> tuple[dict[str, str] | None, dict[str, int]]:
    """Each task's state in ``run`` (a mapped task's is the summary of its expanded instances),
    and the number of expanded instances of each mapped task."""
    if run is None:
        return None, {}
    by_task: dict[str, dict[int, str]] = {}
    for task_id, state, map_index in session.execute(
        sa.select(TaskInstance.task_id, TaskInstance.state, TaskInstance.map_index)
        .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
    ):
        by_task.setdefault(task_id, {})[map_index] = state
    out, counts = {}, {}
    for task_id, states in by_task.items():
        expanded = [s for i, s in states.items() if i >= 0]
        out[task_id] = summary_state(expanded) if expanded else states.get(-1, "none")
        if expanded:
            counts[task_id] = len(expanded)
    return out, counts


@router.get("/dags/{dag_id}")
def dag_home(dag_id: str) -> Response:
    from urllib.parse import quote

    return RedirectResponse(f"/dags/{quote(dag_id, safe='')}/grid", status_code=303)


RunCount = Annotated[int, Query(ge=1, le=365)]


@router.get("/dags/{dag_id}/grid")
def dag_grid(request: Request, dag_id: str, who: Viewer, runs: RunCount = 25) -> Response:
    with db(request) as session:
        dag, data = _load(session, dag_id)
        payload = grid_payload(session, dag_id, data, limit=runs)
    # grid.js polls the data route while something moves, so the page itself never reloads.
    return render(request, "dag_grid.html", who, dag=dag, data=data, grid=payload, tab="grid", run_limit=runs,
                  auto_refresh=False)


@router.get("/dags/{dag_id}/grid/data")
def dag_grid_data(request: Request, dag_id: str, who: Viewer, runs: RunCount = 25,
                  mapped: Annotated[str | None, Query(max_length=250)] = None) -> JSONResponse:
    """The grid payload; with ``mapped=<task_id>``, that task's rows per map index instead."""
    with db(request) as session:
        _, data = _load(session, dag_id)
        if mapped is not None:
            if not any(t["task_id"] == mapped and t.get("mapped") for t in data.get("tasks", [])):
                raise not_found(f"mapped task {mapped!r} in DAG {dag_id!r}")
            run_ids = [r.run_id for r in latest_runs(session, dag_id, runs)]
            return JSONResponse({"task_id": mapped, "rows": mapped_rows(session, dag_id, mapped, run_ids)})
        return JSONResponse(grid_payload(session, dag_id, data, limit=runs))


Expand = Annotated[list[str] | None, Query()]


@router.get("/dags/{dag_id}/graph")
def dag_graph(request: Request, dag_id: str, who: Viewer, run_id: RunId = None, expand: Expand = None) -> Response:
    with db(request) as session:
        dag, data = _load(session, dag_id)
        run = _chosen_run(session, dag_id, run_id)
        states, map_counts = _ti_states(session, dag_id, run)
        runs = latest_runs(session, dag_id, 25)
    expanded = {e for e in (expand or []) if e}
    graph = layout(data, expanded, states, map_counts)
    base = [("run_id", run.run_id)] if run is not None else []
    # The query string that flips each group open or shut, keeping the rest as they are.
    toggle = {g: urlencode(base + [("expand", e) for e in sorted(expanded ^ {g})]) for g in graph.groups}
    # graph.js polls the states route while the run moves: a reload would lose zoom and panel.
    return render(request, "dag_graph.html", who, dag=dag, data=data, graph=graph, run=run, runs=runs,
                  expanded=sorted(expanded), toggle=toggle, tab="graph", auto_refresh=False,
                  active=run is not None and run.state in ACTIVE_RUN_STATES)


@router.get("/dags/{dag_id}/graph/states")
def dag_graph_states(request: Request, dag_id: str, who: Viewer, run_id: RunId = None,
                     expand: Expand = None) -> JSONResponse:
    """Each drawn node's state (and map count) in the run, for the graph's live update."""
    with db(request) as session:
        _, data = _load(session, dag_id)
        run = _chosen_run(session, dag_id, run_id)
        states, map_counts = _ti_states(session, dag_id, run)
    graph = layout(data, {e for e in (expand or []) if e}, states, map_counts)
    return JSONResponse({"run_state": run.state if run else None,
                         "active": run is not None and run.state in ACTIVE_RUN_STATES,
                         "nodes": {n.id: {"state": n.status, "map_count": n.map_count} for n in graph.nodes}})


@router.get("/dags/{dag_id}/gantt")
def dag_gantt(request: Request, dag_id: str, who: Viewer, run_id: RunId = None) -> Response:
    with db(request) as session:
        dag, data = _load(session, dag_id)
        run = _chosen_run(session, dag_id, run_id)
        runs = latest_runs(session, dag_id, 25)
        tis = [] if run is None else list(session.execute(
            sa.select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
            .order_by(TaskInstance.start_date, TaskInstance.task_id, TaskInstance.map_index)).scalars())
    started = [t for t in tis if t.start_date is not None]
    t0 = min((t.start_date for t in started), default=None)  # type: ignore[type-var]
    t1 = max(((t.end_date or t.start_date) for t in started), default=None)  # type: ignore[type-var]
    span = max((t1 - t0).total_seconds(), 0.001) if t0 and t1 else 1.0
    bars = [{"ti": t, "x": (t.start_date - t0).total_seconds() / span,  # type: ignore[operator]
             "w": max(((t.end_date or t.start_date) - t.start_date).total_seconds() / span, 0.004)}  # type: ignore[operator]
            for t in started]
    durations = [(r, (r.end_date - r.start_date).total_seconds() if r.start_date and r.end_date else None)
                 for r in runs]
    longest = max((d for _, d in durations if d), default=1.0)
    return render(request, "dag_gantt.html", who, dag=dag, data=data, run=run, runs=runs, bars=bars, span=span,
                  durations=durations, longest=longest, tab="gantt",
                  auto_refresh=run is not None and run.state in ACTIVE_RUN_STATES)


@router.get("/dags/{dag_id}/code")
def dag_code(request: Request, dag_id: str, who: Viewer) -> Response:
    with db(request) as session:
        dag, data = _load(session, dag_id)
        code = dag_queries.read_source(session, fileloc_hash(dag.fileloc))
    html = highlight_python(code.source) if code is not None else None
    return render(request, "dag_code.html", who, dag=dag, data=data, code=code, code_html=html, tab="code")


@router.get("/dags/{dag_id}/runs")
def dag_runs(request: Request, dag_id: str, who: Viewer, state: Annotated[str, Query(max_length=20)] = "",
             page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    size = 50
    with db(request) as session:
        dag, data = _load(session, dag_id)
        rows, total = run_queries.list_runs(session, Page(size, (page - 1) * size, None), dag_id=dag_id,
                                            states=[state] if state else None)
    return render(request, "dag_runs.html", who, dag=dag, data=data, runs=rows, total=total, page=page,
                  pages=max(1, -(-total // size)), state=state, tab="runs",
                  auto_refresh=any(r.state in ACTIVE_RUN_STATES for r in rows))


@router.get("/dags/{dag_id}/trigger")
def trigger_form(request: Request, dag_id: str, who: Annotated[Identity, Depends(page_for(RoleName.USER))]) -> Response:
    with db(request) as session:
        dag, data = _load(session, dag_id)
    return render(request, "trigger.html", who, dag=dag, data=data, fields=param_fields(data.get("params") or {}),
                  tab="trigger")
