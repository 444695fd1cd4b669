from __future__ import annotations

from datetime import timedelta

import pytest

from tandem import DAG, TaskGroup
from tandem.exceptions import DagDefinitionError
from tandem.operators import BaseOperator, BashOperator, EmptyOperator, PythonOperator
from tandem.sdk.trigger_rule import TriggerRule


def test_default_args_fill_unpassed_arguments_only() -> None:
    args = {"retries": 3, "retry_delay": timedelta(minutes=1), "owner": "data", "queue": "q1"}
    with DAG("d", default_args=args):
        implicit = EmptyOperator(task_id="implicit")
        explicit = EmptyOperator(task_id="explicit", retries=0, owner="me")
    assert (implicit.retries, implicit.retry_delay, implicit.owner, implicit.queue) == (
        3,
        timedelta(minutes=1),
        "data",
        "q1",
    )
    assert (explicit.retries, explicit.owner, explicit.queue) == (0, "me", "q1")


def test_default_args_fill_subclass_specific_arguments() -> None:
    with DAG("d", default_args={"bash_command": "echo default", "env": {"A": "1"}}):
        op = BashOperator(task_id="b")
        other = BashOperator(task_id="c", bash_command="echo mine")
    assert op.bash_command == "echo default" and op.env == {"A": "1"}
    assert other.bash_command == "echo mine"


def test_operator_default_args_override_dag_and_group_default_args() -> None:
    with DAG("d", default_args={"retries": 1, "pool": "p"}):
        with TaskGroup("g", default_args={"retries": 2}):
            in_group = EmptyOperator(task_id="t")
        own = EmptyOperator(task_id="u", default_args={"retries": 5})
    assert (in_group.retries, in_group.pool) == (2, "p")
    assert (own.retries, own.pool) == (5, "p")


def test_unknown_arguments_are_rejected() -> None:
    with pytest.raises(TypeError):
        EmptyOperator(task_id="x", not_an_argument=1)  # type: ignore[call-arg]


def test_unknown_trigger_rule_lists_valid_rules() -> None:
    with DAG("d"):
        with pytest.raises(DagDefinitionError) as err:
            EmptyOperator(task_id="x", trigger_rule="sometimes")
    message = str(err.value)
    assert "test_baseoperator.py:" in message and "sometimes" in message
    for rule in TriggerRule:
        assert rule.value in message


def test_trigger_rule_enum_accepted() -> None:
    op = EmptyOperator(task_id="x", trigger_rule=TriggerRule.ONE_FAILED)
    assert op.trigger_rule == "one_failed"


def test_numbers_are_accepted_as_seconds() -> None:
    op = EmptyOperator(task_id="x", retry_delay=30, execution_timeout=60.5)
    assert op.retry_delay == timedelta(seconds=30)
    assert op.execution_timeout == timedelta(seconds=60.5)


def test_callbacks_for_accepts_single_callable_or_list() -> None:
    def one(ctx: dict) -> None: ...
    def two(ctx: dict) -> None: ...

    op = EmptyOperator(task_id="x", on_success_callback=one, on_failure_callback=[one, two])
    assert op.callbacks_for("success") == [one]
    assert op.callbacks_for("failure") == [one, two]
    assert op.callbacks_for("retry") == []
    with pytest.raises(ValueError):
        op.callbacks_for("bogus")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("downstream", {"a": 1 + 2 + 4, "b": 2 + 4, "c": 4}),
        ("upstream", {"a": 1, "b": 2 + 1, "c": 4 + 2 + 1}),
        ("absolute", {"a": 1, "b": 2, "c": 4}),
    ],
)
def test_priority_weight_rules(rule: str, expected: dict[str, int]) -> None:
    with DAG("d", default_args={"weight_rule": rule}) as dag:
        a = EmptyOperator(task_id="a", priority_weight=1)
        b = EmptyOperator(task_id="b", priority_weight=2)
        c = EmptyOperator(task_id="c", priority_weight=4)
        a >> b >> c
    assert {t.task_id: t.priority_weight_total for t in dag.tasks} == expected


def test_xcoms_to_push() -> None:
    op = EmptyOperator(task_id="x")
    assert op.xcoms_to_push(None) == {}
    assert op.xcoms_to_push([1]) == {"return_value": [1]}
    op.multiple_outputs = True
    assert op.xcoms_to_push({"a": 1}) == {"return_value": {"a": 1}, "a": 1}
    with pytest.raises(TypeError):
        op.xcoms_to_push([1, 2])
    assert EmptyOperator(task_id="y", do_xcom_push=False).xcoms_to_push(5) == {}


def test_base_operator_execute_must_be_implemented() -> None:
    with pytest.raises(NotImplementedError):
        BaseOperator(task_id="x").execute({})


def test_python_callable_must_be_callable() -> None:
    with pytest.raises(DagDefinitionError, match="must be callable"):
        PythonOperator(task_id="x", python_callable="nope")  # type: ignore[arg-type]
