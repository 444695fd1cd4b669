"""The UI's pure parts: grid rows and payload, graph layout, markdown and highlighting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tandem.api.ui.graph import layout
from tandem.api.ui.grid import grid_payload, ordered_rows
from tandem.api.ui.highlight import highlight_python
from tandem.api.ui.markdown import render_markdown


def _serialized(build: Any) -> dict[str, Any]:
    from tandem import DAG
    from tandem.sdk.serialization import serialize_dag

    with DAG("views", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
        build()
    return serialize_dag(dag)


def _group_dag() -> None:
    """a → c → grp.y; a → grp.x → grp.y → grp.z → b: c feeds the group's second task."""
    from tandem import TaskGroup
    from tandem.operators import EmptyOperator

    a, b, c = (EmptyOperator(task_id=t) for t in "abc")
    with TaskGroup("grp"):
        x, y, z = (EmptyOperator(task_id=t) for t in "xyz")
        with TaskGroup("inner"):
            deep = EmptyOperator(task_id="deep")
        x >> y >> z >> deep
    a >> x
    a >> c >> y
    deep >> b


def test_an_edge_into_a_collapsed_group_runs_forward_to_the_group_node() -> None:
    graph = layout(_serialized(_group_dag), expanded=set())
    nodes = {n.id: n for n in graph.nodes}
    edges = {(e.source, e.target): e.path for e in graph.edges}
    assert set(edges) == {("a", "c"), ("a", "group:grp"), ("c", "group:grp"), ("group:grp", "b")}
    group = nodes["group:grp"]
    assert nodes["c"].layer < group.layer < nodes["b"].layer
    end = edges[("c", "group:grp")].split()[-1]
    assert end == f"{group.x:.0f},{group.y + 22:.0f}"


def test_expanded_groups_show_members_and_nested_collapsed_groups() -> None:
    graph = layout(_serialized(_group_dag), expanded={"grp"})
    ids = {n.id for n in graph.nodes}
    assert {"grp.x", "grp.y", "grp.z", "group:grp.inner"} <= ids and "group:grp" not in ids
    assert [f.id for f in graph.frames] == ["grp"]
    assert all(n.layer > 0 for n in graph.nodes if n.id != "a")


def test_a_cycle_made_by_collapsing_is_laid_out() -> None:
    from tandem import TaskGroup
    from tandem.operators import EmptyOperator

    def build() -> None:
        outside = EmptyOperator(task_id="outside")
        with TaskGroup("g"):
            first, last = EmptyOperator(task_id="first"), EmptyOperator(task_id="last")
        first >> outside >> last

    graph = layout(_serialized(build), expanded=set())
    assert {(e.source, e.target) for e in graph.edges} == {("group:g", "outside"), ("outside", "group:g")}
    assert len({(n.x, n.y) for n in graph.nodes}) == 2


def test_mapped_nodes_carry_operator_and_count() -> None:
    from tandem import task

    def build() -> None:
        @task
        def one(x: int) -> int:
            return x

        one.expand(x=[1, 2, 3])

    graph = layout(_serialized(build), expanded=set(), states={"one": "success"}, map_counts={"one": 3})
    (node,) = graph.nodes
    assert node.mapped and node.map_count == 3 and node.operator and node.status == "success"


def test_grid_rows_put_members_under_their_group_in_task_order() -> None:
    rows = ordered_rows(_serialized(_group_dag))
    assert [(r["id"], r["depth"]) for r in rows] == [
        ("a", 0), ("c", 0), ("grp", 0), ("grp.x", 1), ("grp.y", 1), ("grp.z", 1), ("grp.inner", 1),
        ("grp.inner.deep", 2), ("b", 0)]


def test_grid_payload_is_one_code_per_cell_and_summarises_mapped_tasks(tmp_path: Any) -> None:
    from tandem import task
    from tandem.models import Base, DagRun, TaskInstance

    def build() -> None:
        @task
        def one(x: int) -> int:
            return x

        one.expand(x=[1, 2, 3])

    data = _serialized(build)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'grid.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        day = datetime(2025, 1, 1, tzinfo=UTC)
        for i, state in enumerate(["success", "running"]):
            run_id = f"r{i}"
            session.add(DagRun(dag_id="views", run_id=run_id, logical_date=day.replace(day=i + 1), run_after=day,
                               run_type="manual", state=state))
            session.flush()
            for m, ti_state in enumerate(["success", "failed" if i else "success", "success"]):
                session.add(TaskInstance(dag_id="views", run_id=run_id, task_id="one", map_index=m, state=ti_state))
        session.commit()
        payload = grid_payload(session, "views", data)
    engine.dispose()
    (row,) = payload["rows"]
    assert row["cells"] == "sf" and payload["active"] is True
    assert row["counts"] == [{"s": 3}, {"s": 2, "f": 1}]
    assert [r["run_id"] for r in payload["runs"]] == ["r0", "r1"]


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>", "[x](javascript:alert(1))", '<img src=x onerror="alert(1)">',
    "[y](JAVASCRIPT:alert(1))", "<a href='javascript:alert(1)'>z</a>"])
def test_doc_md_never_becomes_markup(source: str) -> None:
    html = str(render_markdown(source))
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html.lower()


def test_doc_md_renders_markdown_and_safe_links() -> None:
    html = str(render_markdown("# Title\n\n[docs](https://example.org) and `code`\n\n|a|\n|-|\n|1|"))
    assert "<h1>Title</h1>" in html and "<table>" in html and "<code>code</code>" in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_code_is_highlighted_with_classes_and_line_anchors() -> None:
    html = str(highlight_python('import os\nx = "<b>"\n'))
    assert 'class="kn"' in html and 'href="#L-2"' in html and "&lt;b&gt;" in html
    assert "style=" not in html
