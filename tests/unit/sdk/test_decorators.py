from __future__ import annotations

import pytest

from tandem import DAG, TaskGroup, task
from tandem.operators import BashOperator, EmptyOperator, PythonOperator
from tandem.sdk.operators.decorated import DecoratedPythonOperator
from tandem.sdk.xcom_arg import XComArg

from .sdk_stubs import XComStore, run_task


def test_calling_decorated_function_creates_task_and_returns_xcomarg() -> None:
    with DAG("d") as dag:

        @task
        def extract() -> int:
            return 1

        result = extract()
    assert isinstance(result, XComArg) and result.key == "return_value"
    assert isinstance(result.operator, DecoratedPythonOperator)
    assert dag.task_ids == ["extract"]


def test_repeated_calls_get_suffixed_ids() -> None:
    with DAG("d") as dag:

        @task
        def step() -> None: ...

        step(), step(), step()
        with TaskGroup("g"):
            step(), step()
    assert dag.task_ids == ["step", "step__1", "step__2", "g.step", "g.step__1"]


def test_task_arguments_and_override() -> None:
    with DAG("d", default_args={"retries": 1}) as dag:

        @task(task_id="custom", retries=4, pool="p")
        def f() -> None: ...

        @task
        def g() -> None: ...

        f()
        g.override(task_id="renamed", queue="q")()
    assert dag.get_task("custom").retries == 4 and dag.get_task("custom").pool == "p"
    renamed = dag.get_task("renamed")
    assert renamed.queue == "q" and renamed.retries == 1


def test_xcomarg_arguments_create_dependencies_and_resolve_at_run_time() -> None:
    # Given a chain where values flow positionally, by keyword and nested in containers
    with DAG("d") as dag:

        @task
        def one() -> int:
            return 1

        @task
        def two() -> int:
            return 2

        @task
        def combine(a: int, b: dict[str, list[int]]) -> int:
            return a + sum(b["values"])

        combine(one(), b={"values": [two(), 10]})
    # Then dependencies are inferred
    assert dag.get_task("combine").upstream_task_ids == {"one", "two"}
    # When the tasks run in order
    store = XComStore()
    for task_id in ("one", "two"):
        run_task(dag, task_id, store=store)
    state, result, _, _ = run_task(dag, "combine", store=store)
    # Then the arguments were resolved
    assert (state, result) == ("success", 13)


def test_xcomarg_in_classic_operator_fields_sets_dependency() -> None:
    with DAG("d") as dag:

        @task
        def produce() -> str:
            return "hello"

        value = produce()
        py = PythonOperator(task_id="py", python_callable=lambda x: x.upper(), op_args=[value])
        bash = BashOperator(task_id="bash", bash_command=value)
    assert py.upstream_task_ids == {"produce"} and bash.upstream_task_ids == {"produce"}
    store = XComStore()
    run_task(dag, "produce", store=store)
    assert run_task(dag, "py", store=store)[1] == "HELLO"


def test_xcomarg_dependency_operators_and_output() -> None:
    with DAG("d") as dag:

        @task
        def a() -> None: ...

        e = EmptyOperator(task_id="e")
        first = a()
        first >> e
        other = EmptyOperator(task_id="o")
        e.output >> other
    assert dag.get_task("e").upstream_task_ids == {"a"}
    assert other.upstream_task_ids == {"e"}
    assert e.output == XComArg(e)


def test_xcomarg_cannot_be_iterated() -> None:
    with DAG("d"):

        @task
        def a() -> list[int]:
            return [1]

        ref = a()
    with pytest.raises(TypeError):
        list(ref)


def test_multiple_outputs_pushes_each_key() -> None:
    with DAG("d") as dag:

        @task(multiple_outputs=True)
        def split() -> dict:
            return {"a": 1, "b": 2}

        @task
        def use(a: int, b: int) -> int:
            return a * 10 + b

        parts = split()
        use(parts["a"], b=parts["b"])
    store = XComStore()
    _, _, ti, _ = run_task(dag, "split", store=store)
    assert ti.pushed == {"return_value": {"a": 1, "b": 2}, "a": 1, "b": 2}
    assert run_task(dag, "use", store=store)[1] == 12


def test_multiple_outputs_inferred_from_dict_annotation() -> None:
    with DAG("d") as dag:

        @task
        def typed() -> dict[str, int]:
            return {"x": 1}

        @task
        def untyped():  # type: ignore[no-untyped-def]
            return {"x": 1}

        typed(), untyped()
    assert dag.get_task("typed").multiple_outputs is True
    assert dag.get_task("untyped").multiple_outputs is False


def test_decorated_function_keeps_metadata() -> None:
    @task
    def documented() -> None:
        """Docstring."""

    assert documented.__name__ == "documented" and documented.__doc__ == "Docstring."
    assert documented.function() is None


def test_task_bash_renders_and_runs_returned_command() -> None:
    with DAG("d") as dag:

        @task.bash
        def greet(name: str) -> str:
            return f"echo hello {name} {{{{ ds }}}}"

        greet("bob")
    assert dag.get_task("greet").operator_name == "DecoratedBashOperator"
    assert run_task(dag, "greet")[1] == "hello bob 2024-03-05"
