from __future__ import annotations

import pytest

from tandem import DAG, TaskGroup, chain
from tandem.operators import EmptyOperator


def _ops(dag: DAG, *names: str) -> list[EmptyOperator]:
    return [EmptyOperator(task_id=n, dag=dag) for n in names]


def edges(dag: DAG) -> set[tuple[str, str]]:
    return {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}


def test_rshift_and_lshift_set_both_directions() -> None:
    dag = DAG("d")
    a, b, c = _ops(dag, "a", "b", "c")
    result = a >> b
    c << b
    assert result is b
    assert edges(dag) == {("a", "b"), ("b", "c")}
    assert b.upstream_task_ids == {"a"} and b.downstream_task_ids == {"c"}


def test_lists_on_either_side() -> None:
    dag = DAG("d")
    a, b, c, d = _ops(dag, "a", "b", "c", "d")
    [a, b] >> c
    c >> [d]
    d << [a]
    [b] << a
    assert edges(dag) == {("a", "c"), ("b", "c"), ("c", "d"), ("a", "d"), ("a", "b")}


def test_set_upstream_and_downstream() -> None:
    dag = DAG("d")
    a, b, c = _ops(dag, "a", "b", "c")
    b.set_upstream(a)
    b.set_downstream([c])
    assert edges(dag) == {("a", "b"), ("b", "c")}
    assert [t.task_id for t in b.upstream_list] == ["a"]
    assert [t.task_id for t in b.downstream_list] == ["c"]


def test_chain_with_lists_pairs_elementwise() -> None:
    dag = DAG("d")
    a, b, c, d, e, f = _ops(dag, "a", "b", "c", "d", "e", "f")
    chain(a, [b, c], [d, e], f)
    assert edges(dag) == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "e"), ("d", "f"), ("e", "f")}


def test_chain_rejects_lists_of_different_lengths() -> None:
    dag = DAG("d")
    a, b, c = _ops(dag, "a", "b", "c")
    with pytest.raises(ValueError, match="different lengths"):
        chain([a, b], [c])


def test_dependency_on_non_task_is_a_type_error() -> None:
    dag = DAG("d")
    (a,) = _ops(dag, "a")
    with pytest.raises(TypeError):
        a >> "b"  # type: ignore[operator]


def test_cross_dag_dependency_is_rejected() -> None:
    (a,) = _ops(DAG("one"), "a")
    (b,) = _ops(DAG("two"), "b")
    with pytest.raises(Exception, match="different DAGs"):
        a >> b


def test_task_group_dependencies_use_group_roots_and_leaves() -> None:
    # Given a group with an internal chain g.x >> g.y and a parallel g.z
    with DAG("d") as dag:
        start = EmptyOperator(task_id="start")
        with TaskGroup("g") as group:
            x = EmptyOperator(task_id="x")
            y = EmptyOperator(task_id="y")
            z = EmptyOperator(task_id="z")
            x >> y
        end = EmptyOperator(task_id="end")
    # When the group is placed between start and end
    start >> group >> end
    # Then start feeds the roots and the leaves feed end
    assert (x.task_id, y.task_id, z.task_id) == ("g.x", "g.y", "g.z")
    assert edges(dag) == {("g.x", "g.y"), ("start", "g.x"), ("start", "g.z"), ("g.y", "end"), ("g.z", "end")}


def test_roots_leaves_and_topological_sort() -> None:
    with DAG("d") as dag:
        a, b, c, d = (EmptyOperator(task_id=n) for n in "abcd")
        d >> b
        a >> b >> c
    assert [t.task_id for t in dag.roots] == ["a", "d"]
    assert [t.task_id for t in dag.leaves] == ["c"]
    order = [t.task_id for t in dag.topological_sort()]
    assert order.index("a") < order.index("b") < order.index("c")
    assert order.index("d") < order.index("b")
    assert order == ["a", "d", "b", "c"]
