from __future__ import annotations

import itertools

import pytest

from tandem import DAG, task
from tandem.exceptions import DagDefinitionError
from tandem.operators import BashOperator, PythonOperator
from tandem.sdk.expansion import mapped_length, positions_for_index
from tandem.sdk.mapped import MappedOperator

from .sdk_stubs import StubTaskInstance, XComStore, run_task


def test_decorated_expand_over_literal() -> None:
    with DAG("d") as dag:

        @task
        def double(x: int, factor: int) -> int:
            return x * factor

        ref = double.partial(factor=2).expand(x=[1, 2, 3])
    mapped = dag.get_task("double")
    assert isinstance(mapped, MappedOperator) and ref.operator is mapped
    assert mapped.mapped_length() == 3
    assert mapped.expand_sources() == [{"arg": "x", "kind": "literal", "length": 3}]
    assert [run_task(dag, "double", map_index=i)[1] for i in range(3)] == [2, 4, 6]


def test_cross_product_order_last_argument_varies_fastest() -> None:
    with DAG("d") as dag:

        @task
        def pair(a: int, b: str) -> str:
            return f"{a}{b}"

        pair.expand(a=[1, 2], b=["x", "y", "z"])
    mapped = dag.get_task("pair")
    assert mapped.mapped_length() == 6
    results = [run_task(dag, "pair", map_index=i)[1] for i in range(6)]
    assert results == [f"{a}{b}" for a, b in itertools.product([1, 2], "xyz")]


def test_expand_over_xcom_and_downstream_gets_all_results() -> None:
    # Given make -> mapped add -> total
    with DAG("d") as dag:

        @task
        def make() -> list[int]:
            return [10, 20, 30]

        @task
        def add(x: int, y: int) -> int:
            return x + y

        @task
        def total(values: list[int]) -> int:
            return sum(values)

        total(add.partial(y=1).expand(x=make()))
    mapped = dag.get_task("add")
    assert mapped.upstream_task_ids == {"make"} and dag.get_task("total").upstream_task_ids == {"add"}
    assert mapped.expand_sources() == [{"arg": "x", "kind": "xcom", "task_id": "make", "key": "return_value"}]
    with pytest.raises(KeyError):
        mapped.mapped_length()
    assert mapped.mapped_length({"x": 3}) == 3
    # When everything runs
    store = XComStore()
    run_task(dag, "make", store=store)
    mapped_results = [run_task(dag, "add", store=store, map_index=i)[1] for i in range(3)]
    # Then each instance got its element and the downstream gets the whole list
    assert mapped_results == [11, 21, 31]
    assert run_task(dag, "total", store=store)[1] == 63


def test_expand_over_dict_gives_key_value_pairs() -> None:
    with DAG("d") as dag:

        @task
        def show(item: tuple[str, int]) -> str:
            return f"{item[0]}={item[1]}"

        show.expand(item={"a": 1, "b": 2})
    assert [run_task(dag, "show", map_index=i)[1] for i in range(2)] == ["a=1", "b=2"]


def test_classic_operator_partial_expand_op_args_and_op_kwargs() -> None:
    with DAG("d", default_args={"retries": 3}) as dag:
        by_args = PythonOperator.partial(task_id="args", python_callable=lambda v: v * 2).expand(
            op_args=[[1], [2]]
        )
        PythonOperator.partial(task_id="kwargs", python_callable=lambda v, w: v + w, retries=1).expand(
            op_kwargs=[{"v": 1, "w": 2}, {"v": 3, "w": 4}]
        )
    assert by_args.retries == 3 and dag.get_task("kwargs").retries == 1
    assert by_args.operator_name == "PythonOperator"
    assert [run_task(dag, "args", map_index=i)[1] for i in range(2)] == [2, 4]
    assert [run_task(dag, "kwargs", map_index=i)[1] for i in range(2)] == [3, 7]


def test_unmap_for_index_returns_plain_operator_with_same_identity() -> None:
    with DAG("d") as dag:

        @task
        def upstream() -> list[str]:
            return ["echo a", "echo b"]

        mapped = BashOperator.partial(task_id="run", env={"A": "1"}).expand(bash_command=upstream())
    store = XComStore()
    store.push("upstream", -1, "return_value", ["echo a", "echo b"])
    ti = StubTaskInstance("run", store=store, map_index=1)
    op = mapped.unmap_for_index(1, {"ti": ti})
    assert isinstance(op, BashOperator) and not op.is_mapped
    assert (op.task_id, op.map_index, op.bash_command, op.env) == ("run", 1, "echo b", {"A": "1"})
    assert op.dag is dag and op.upstream_task_ids == {"upstream"}
    assert dag.get_task("run") is mapped  # the DAG is unchanged
    with pytest.raises(IndexError):
        mapped.unmap_for_index(2, ti)


def test_mapping_in_groups_and_id_validation() -> None:
    with DAG("d") as dag:
        with pytest.raises(DagDefinitionError, match="cannot map over 'nope'"):
            PythonOperator.partial(task_id="a", python_callable=print).expand(nope=[1])
        with pytest.raises(DagDefinitionError, match="needs a list, dict or XComArg"):
            PythonOperator.partial(task_id="b", python_callable=print).expand(op_args=5)
        with pytest.raises(TypeError, match="requires task_id"):
            PythonOperator.partial(python_callable=print)
    assert dag.task_ids == []


def test_expansion_arithmetic() -> None:
    lengths = [2, 3, 4]
    expected = list(itertools.product(range(2), range(3), range(4)))
    assert [tuple(positions_for_index(i, lengths)) for i in range(24)] == expected
    sources = [
        {"arg": "a", "kind": "literal", "length": 2},
        {"arg": "b", "kind": "xcom", "task_id": "t", "key": "return_value"},
    ]
    assert mapped_length(sources, {"b": 5}) == 10
    assert mapped_length([{"arg": "a", "kind": "literal", "length": 0}]) == 0
