from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jinja2
import pytest

from tandem import DAG
from tandem.operators import BaseOperator, PythonOperator
from tandem.sdk.context import build_context

from .sdk_stubs import LOGICAL_DATE, StubTaskInstance, run_task

VARIABLES = {"name": "world", "config": json.dumps({"k": [1, 2]})}


class Echo(BaseOperator):
    """Test operator: renders ``text`` and returns it."""

    template_fields = ("text",)

    def __init__(self, *, text: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = text

    def execute(self, context: dict[str, Any]) -> Any:
        return self.text


def render(text: Any, **dag_kwargs: Any) -> Any:
    with DAG("tmpl", **dag_kwargs) as dag:
        Echo(task_id="echo", text=text)
    return run_task(dag, "echo", conf={"c": "conf-value"}, variables=VARIABLES)[1]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ ds }}", "2024-03-05"),
        ("{{ ds_nodash }}", "20240305"),
        ("{{ ts }}", "2024-03-05T06:07:08+00:00"),
        ("{{ ts_nodash }}", "20240305T060708"),
        ("{{ logical_date.year }}", "2024"),
        ("{{ data_interval_start.isoformat() }}", LOGICAL_DATE.isoformat()),
        ("{{ data_interval_end.day }}", "5"),
        ("{{ run_id }}", "manual__1"),
        ("{{ dag.dag_id }}", "tmpl"),
        ("{{ task.task_id }}", "echo"),
        ("{{ ti.task_id }}/{{ task_instance.map_index }}", "echo/-1"),
        ("{{ try_number }}", "1"),
        ("{{ conf.c }}", "conf-value"),
        ("{{ params.p }}", "5"),
        ("{{ var.value.name }}", "world"),
        ("{{ var.value.get('missing', 'fallback') }}", "fallback"),
        ("{{ var.json.config.k[1] }}", "2"),
        ("{{ macros.ds_add(ds, 3) }}", "2024-03-08"),
        ("{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}", "05/03/2024"),
        ("{{ macros.datetime(2020, 1, 2).year + macros.timedelta(days=1).days }}", "2021"),
        ("{{ macros.json.dumps([1]) }}", "[1]"),
        ("{{ macros.uuid.UUID(int=0) }}", "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_every_context_key_renders(template: str, expected: str) -> None:
    assert render(template, params={"p": 5}) == expected


def test_rendering_recurses_through_containers() -> None:
    value = {"a": ["{{ ds }}", ("{{ run_id }}", 3)], "b": {"{{ ds }}"}, "n": None}
    assert render(value) == {"a": ["2024-03-05", ("manual__1", 3)], "b": {"2024-03-05"}, "n": None}


def test_missing_variable_raises() -> None:
    with pytest.raises(KeyError, match="missing"):
        render("{{ var.value.missing }}")


def test_undefined_names_fail_as_in_airflow_unless_lenient_is_opted_into() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render("{{ nope }}")
    assert render("{{ nope }}", template_undefined=jinja2.Undefined) == ""


def test_user_macros_and_filters() -> None:
    rendered = render(
        "{{ shout(greeting) | twice }}",
        user_defined_macros={"greeting": "hi", "shout": str.upper},
        user_defined_filters={"twice": lambda s: s * 2},
    )
    assert rendered == "HIHI"


def test_template_searchpath(tmp_path: Any) -> None:
    (tmp_path / "query.sql").write_text("select '{{ ds }}'")

    class SqlLike(Echo):
        template_ext = (".sql",)

    with DAG("d", template_searchpath=str(tmp_path)) as dag:
        SqlLike(task_id="q", text="query.sql")
    assert run_task(dag, "q")[1] == "select '2024-03-05'"


def test_render_does_not_mutate_the_dag_task_when_prepared() -> None:
    with DAG("d") as dag:
        op = Echo(task_id="e", text="{{ ds }}")
    run_task(dag, "e")
    assert op.text == "{{ ds }}"


def test_build_context_merges_conf_over_dag_and_task_params() -> None:
    with DAG("d", params={"a": 1, "b": 2}) as dag:
        op = PythonOperator(task_id="t", python_callable=print, params={"b": 3, "c": 4})
    ti = StubTaskInstance("t")
    context = build_context(
        dag=dag,
        task=op,
        ti=ti,
        run_id="r",
        logical_date=datetime(2024, 1, 1, tzinfo=UTC),
        data_interval_start=None,
        data_interval_end=None,
        conf={"a": 9, "extra": True},
        params=None,
        variable_getter=lambda name: None,
        macros={"custom": 1},
    )
    assert context["params"] == {"a": 9, "b": 3, "c": 4, "extra": True}
    assert context["task_instance"] is ti and context["macros"].custom == 1
    assert context["macros"].ds_add("2024-01-01", 1) == "2024-01-02"
    assert context["data_interval_start"] == context["logical_date"]
    explicit = build_context(
        dag=dag,
        task=op,
        ti=ti,
        run_id="r",
        logical_date=datetime(2024, 1, 1, tzinfo=UTC),
        data_interval_start=None,
        data_interval_end=None,
        conf={},
        params={"given": 1},
        variable_getter=lambda name: None,
    )
    assert explicit["params"] == {"given": 1}


def test_airflow_date_filters() -> None:
    assert render("{{ logical_date | ds }} {{ logical_date | ds_nodash }} {{ logical_date | ts_nodash }}") == (
        "2024-03-05 20240305 20240305T060708")


def test_literal_values_are_not_rendered() -> None:
    from tandem.sdk.templating import literal

    assert render(["{{ ds }}", literal("{{ ds }}")]) == ["2024-03-05", "{{ ds }}"]
