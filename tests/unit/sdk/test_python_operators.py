from __future__ import annotations

from typing import Any

import pytest

from tandem import DAG, task
from tandem.exceptions import TaskSkipped
from tandem.operators import BranchPythonOperator, EmptyOperator, PythonOperator, ShortCircuitOperator
from tandem.sdk.callables import determine_kwargs

from .sdk_stubs import run_task

CONTEXT = {"ds": "2024-01-01", "ti": "TI", "params": {"p": 1}, "run_id": "r"}


def test_callable_gets_only_the_context_keys_it_names() -> None:
    def f(x: int, ds: str, ti: Any = None) -> None: ...

    assert determine_kwargs(f, [1], {}, CONTEXT) == {"ds": "2024-01-01", "ti": "TI"}


def test_var_keyword_gets_whole_context_and_op_kwargs_win() -> None:
    def f(**context: Any) -> None: ...

    kwargs = determine_kwargs(f, [], {"ds": "mine", "extra": 1}, CONTEXT)
    assert kwargs == {**CONTEXT, "ds": "mine", "extra": 1}


def test_positional_op_args_are_not_overridden_by_context() -> None:
    def f(ds: str, run_id: str) -> None: ...

    assert determine_kwargs(f, ["positional"], {}, CONTEXT) == {"run_id": "r"}


def test_python_operator_runs_with_op_args_kwargs_and_templates() -> None:
    # Given templated op_args/op_kwargs/templates_dict
    seen: dict[str, Any] = {}

    def work(a: str, b: str, ds: str, templates_dict: dict[str, str]) -> str:
        seen.update(a=a, b=b, ds=ds, templates=templates_dict)
        return "done"

    with DAG("d") as dag:
        PythonOperator(
            task_id="p",
            python_callable=work,
            op_args=["{{ ds_nodash }}"],
            op_kwargs={"b": "{{ run_id }}"},
            templates_dict={"q": "{{ params.x }}"},
            params={"x": 7},
        )
    # When it runs
    state, result, _, _ = run_task(dag, "p")
    # Then every templated field was rendered and context keys injected
    assert (state, result) == ("success", "done")
    assert seen == {"a": "20240305", "b": "manual__1", "ds": "2024-03-05", "templates": {"q": "7"}}


def test_task_skipped_from_callable_means_skipped() -> None:
    def skip() -> None:
        raise TaskSkipped("nothing to do")

    with DAG("d") as dag:
        PythonOperator(task_id="s", python_callable=skip)
    assert run_task(dag, "s")[0] == "skipped"


def _branch_dag(choice: Any) -> DAG:
    with DAG("d") as dag:
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: choice)
        branch >> [EmptyOperator(task_id="left"), EmptyOperator(task_id="right")]
        EmptyOperator(task_id="far")
    return dag


@pytest.mark.parametrize(
    ("choice", "followed"), [("left", ["left"]), (["left", "right"], ["left", "right"]), (None, []), ([], [])]
)
def test_branch_pushes_followed_ids(choice: Any, followed: list[str]) -> None:
    state, result, ti, _ = run_task(_branch_dag(choice), "branch")
    assert state == "success" and result == choice
    assert ti.pushed["branch_followed"] == followed


def test_branch_to_non_downstream_task_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"\['far'\].*not direct downstream"):
        run_task(_branch_dag(["left", "far"]), "branch")


def test_task_branch_decorator() -> None:
    with DAG("d") as dag:

        @task.branch
        def pick(ds: str) -> str:
            return "a" if ds else "b"

        pick() >> [EmptyOperator(task_id="a"), EmptyOperator(task_id="b")]
    assert dag.get_task("pick").is_branch
    assert run_task(dag, "pick")[2].pushed["branch_followed"] == ["a"]


@pytest.mark.parametrize(("value", "short_circuited"), [(0, True), ([], True), (None, True), (1, False)])
def test_short_circuit_pushes_flag_when_falsy(value: Any, short_circuited: bool) -> None:
    with DAG("d") as dag:
        ShortCircuitOperator(task_id="check", python_callable=lambda: value) >> EmptyOperator(task_id="next")
    _, result, ti, _ = run_task(dag, "check")
    assert result == value
    assert ("short_circuit" in ti.pushed) is short_circuited
    if short_circuited:
        assert ti.pushed["short_circuit"] is True


def test_short_circuit_decorator_and_trigger_rule_option() -> None:
    with DAG("d") as dag:

        @task.short_circuit(ignore_downstream_trigger_rules=False)
        def check() -> bool:
            return False

        check()
    op = dag.get_task("check")
    assert op.is_short_circuit and op.ignore_downstream_trigger_rules is False
    assert run_task(dag, "check")[2].pushed["short_circuit"] is True
