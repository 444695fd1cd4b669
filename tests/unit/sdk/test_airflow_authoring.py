"""The Airflow authoring surface in the SDK: mapping helpers, groups, setup/teardown, sensors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tandem.exceptions import NotFound, SensorTimeout, TaskFailed, TaskSkipped
from tandem.sdk.assets import Asset, Metadata
from tandem.sdk.connection import BaseHook, Connection
from tandem.sdk.dag import DAG
from tandem.sdk.decorators import setup, task, teardown
from tandem.sdk.dependency import Label, chain_linear, cross_downstream
from tandem.sdk.operators.empty import EmptyOperator
from tandem.sdk.secrets import set_secrets_backend
from tandem.sdk.sensors.base import BaseSensorOperator, PokeReturnValue
from tandem.sdk.sensors.python import PythonSensor
from tandem.sdk.serialization import serialize_dag
from tandem.sdk.task_group_decorator import task_group
from tandem.sdk.variable import Variable
from tests.unit.sdk.sdk_stubs import XComStore, run_task

START = datetime(2024, 1, 1, tzinfo=UTC)


def test_map_and_zip_resolve_per_instance() -> None:
    with DAG("d", start_date=START) as dag:
        @task
        def names() -> list[str]:
            return ["a", "b", "c"]

        @task
        def sizes() -> list[int]:
            return [1, 2]

        @task
        def use(value: object) -> object:
            return value

        src, lengths = names(), sizes()
        use.override(task_id="mapped").expand(value=src.map(str.upper))
        use.override(task_id="zipped").expand(value=src.zip(lengths))
        use.override(task_id="longest").expand(value=src.zip(lengths, fillvalue=0))
    store = XComStore()
    run_task(dag, "names", store=store)
    run_task(dag, "sizes", store=store)
    assert [run_task(dag, "mapped", store=store, map_index=i)[1] for i in range(3)] == ["A", "B", "C"]
    assert run_task(dag, "zipped", store=store, map_index=1)[1] == ("b", 2)
    assert run_task(dag, "longest", store=store, map_index=2)[1] == ("c", 0)
    tasks = {t["task_id"]: t for t in serialize_dag(dag)["tasks"]}
    assert tasks["zipped"]["mapped"]["sources"][0]["kind"] == "zip"
    assert tasks["zipped"]["upstream"] == ["names", "sizes"]
    assert tasks["mapped"]["mapped"]["sources"][0] == {"arg": "value", "kind": "xcom", "task_id": "names",
                                                       "key": "return_value"}


def test_expand_kwargs_gives_each_instance_its_arguments() -> None:
    with DAG("d", start_date=START) as dag:
        @task
        def add(a: int, b: int) -> int:
            return a + b

        add.expand_kwargs([{"a": 1, "b": 2}, {"a": 10, "b": 20}])
    assert [run_task(dag, "add", map_index=i)[1] for i in range(2)] == [3, 30]
    with DAG("bad", start_date=START), pytest.raises(Exception, match="list of dicts"):
        add.expand_kwargs([1, 2])


def test_task_group_decorator_suffixes_repeated_calls_and_forwards_the_result() -> None:
    with DAG("d", start_date=START) as dag:
        @task
        def step(x: str) -> str:
            return x

        @task_group(group_id="etl")
        def etl(x: str):
            return step(x)

        first, second = etl("a"), etl("b")
        end = EmptyOperator(task_id="end")
        [first, second] >> end
    assert sorted(dag.task_ids) == ["end", "etl.step", "etl__1.step"]
    assert dag.get_task("end").upstream_task_ids == {"etl.step", "etl__1.step"}


def test_dependency_helpers() -> None:
    with DAG("d", start_date=START) as dag:
        a, b, c, d, e = (EmptyOperator(task_id=n) for n in "abcde")
        cross_downstream([a, b], [c, d])
        chain_linear([c, d], e)
        a >> Label("labelled") >> e
    assert dag.get_task("c").upstream_task_ids == {"a", "b"}
    assert dag.get_task("e").upstream_task_ids == {"a", "c", "d"}


def test_setup_and_teardown_are_serialized() -> None:
    with DAG("d", start_date=START) as dag:
        @setup
        def create() -> None: ...

        @teardown(on_failure_fail_dagrun=True)
        def delete() -> None: ...

        s = create()
        s >> EmptyOperator(task_id="work") >> delete()
        EmptyOperator(task_id="t2").as_teardown(setups=EmptyOperator(task_id="s2"))
    tasks = {t["task_id"]: t for t in serialize_dag(dag)["tasks"]}
    assert tasks["create"]["is_setup"] and tasks["s2"]["is_setup"]
    assert tasks["delete"]["is_teardown"] and tasks["delete"]["on_failure_fail_dagrun"]
    assert tasks["delete"]["trigger_rule"] == "all_done_setup_success"
    assert tasks["t2"]["upstream"] == ["s2"]


class Countdown(BaseSensorOperator):
    def __init__(self, *, pokes: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.left = pokes

    def poke(self, context: dict[str, object]) -> PokeReturnValue:
        self.left -= 1
        return PokeReturnValue(self.left <= 0, xcom_value="done")


def test_sensor_pokes_until_done_and_returns_the_xcom_value() -> None:
    with DAG("d", start_date=START) as dag:
        Countdown(task_id="wait", pokes=3, poke_interval=0)
    state, result, _, _ = run_task(dag, "wait")
    assert (state, result) == ("success", "done")


@pytest.mark.parametrize(("soft_fail", "expected"), [(False, SensorTimeout), (True, TaskSkipped)])
def test_sensor_timeout_fails_without_retry_or_skips(soft_fail: bool, expected: type[Exception]) -> None:
    with DAG("d", start_date=START) as dag:
        PythonSensor(task_id="never", python_callable=lambda: False, poke_interval=0.01, timeout=0.05,
                     soft_fail=soft_fail)
    if expected is TaskSkipped:
        assert run_task(dag, "never")[0] == "skipped"
    else:
        with pytest.raises(SensorTimeout):
            run_task(dag, "never")
        assert issubclass(SensorTimeout, TaskFailed)


def test_sensor_rejects_unknown_mode() -> None:
    with DAG("d", start_date=START), pytest.raises(Exception, match="mode must be one of"):
        PythonSensor(task_id="s", python_callable=lambda: True, mode="deferrable")


class MemorySecrets:
    def __init__(self) -> None:
        self.variables: dict[str, str] = {}

    def get_variable(self, key: str) -> str | None:
        return self.variables.get(key)

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        self.variables[key] = value

    def get_connection(self, conn_id: str) -> dict[str, object] | None:
        return {"conn_type": "postgres", "host": "db", "port": 5432} if conn_id == "pg" else None


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> MemorySecrets:
    backend = MemorySecrets()
    set_secrets_backend(backend)
    yield backend  # type: ignore[misc]
    set_secrets_backend(None)


def test_variables_from_environment_then_backend(secrets: MemorySecrets, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_FROM_ENV", '{"a": 1}')
    assert Variable.get("from_env", deserialize_json=True) == {"a": 1}
    Variable.set("stored", [1, 2], serialize_json=True)
    assert Variable.get("stored", deserialize_json=True) == [1, 2]
    assert Variable.get("missing", default_var="d") == "d"
    with pytest.raises(KeyError, match="Variable missing does not exist"):
        Variable.get("missing")


def test_connections_from_uri_json_and_backend(secrets: MemorySecrets, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WEB", "https://u:p%40ss@example.com:8443/api?timeout=5")
    monkeypatch.setenv("AIRFLOW_CONN_JSONCONN", '{"conn_type": "http", "host": "h", "extra": {"x": 1}}')
    web = BaseHook.get_connection("web")
    assert (web.conn_type, web.login, web.password, web.host, web.port, web.schema) == (
        "https", "u", "p@ss", "example.com", 8443, "api")
    assert web.extra_dejson == {"timeout": "5"}
    assert Connection.get("jsonconn").extra_dejson == {"x": 1}
    assert BaseHook.get_connection("pg").port == 5432
    with pytest.raises(NotFound, match="isn't defined"):
        BaseHook.get_connection("nope")


def test_yielded_metadata_lands_in_outlet_events() -> None:
    orders = Asset("s3://b/orders")
    with DAG("d", start_date=START) as dag:
        @task(outlets=[orders])
        def produce():  # type: ignore[no-untyped-def]
            yield Metadata(orders, {"rows": 3})

        produce()
    state, result, _, context = run_task(dag, "produce")
    assert (state, result) == ("success", None)
    assert context["outlet_events"][orders].extra == {"rows": 3}
    assert dag.get_task("produce").outlets == [orders]


def test_teardown_as_context_manager_wraps_the_block() -> None:
    with DAG("d", start_date=START) as dag:
        @setup
        def create() -> None: ...

        @teardown
        def delete() -> None: ...

        @task
        def work() -> None: ...

        with create() >> delete():
            work() >> work()
    assert dag.get_task("work").upstream_task_ids == {"create"}
    assert dag.get_task("delete").upstream_task_ids == {"create", "work__1"}


def test_mapped_task_group_resolves_each_instances_element() -> None:
    with DAG("d", start_date=START) as dag:
        @task
        def add(x: int, y: int) -> int:
            return x + y

        @task
        def double(v: int) -> int:
            return 2 * v

        @task_group
        def pipeline(x: int, y: int):
            return double(add(x, y))

        pipeline.partial(y=10).expand(x=[1, 2])
    tasks = {t["task_id"]: t for t in serialize_dag(dag)["tasks"]}
    assert tasks["pipeline.add"]["mapped"] == {"sources": [{"arg": "x", "kind": "literal", "length": 2}]}
    assert tasks["pipeline.double"]["mapped_group"] == "pipeline"
    store = XComStore()
    assert [run_task(dag, "pipeline.add", store=store, map_index=i)[1] for i in range(2)] == [11, 12]
    assert run_task(dag, "pipeline.double", store=store, map_index=1)[1] == 24


def test_asset_decorator_defines_the_asset_and_its_producing_dag() -> None:
    from tandem.sdk.asset_decorator import asset
    from tandem.sdk.dag import DagCollector

    with DagCollector() as collector:
        @asset(uri="s3://b/raw", schedule=None)
        def raw() -> None: ...

        @asset(schedule=None)
        def clean(self: Asset, context: dict[str, object], raw: Asset) -> str:
            return f"{self.name} from {raw.uri} in {context['ti'].task_id}"  # type: ignore[attr-defined]

    dags = {d.dag_id: d for d in collector.dags}
    assert raw == Asset(name="raw", uri="s3://b/raw")
    task_ = dags["clean"].get_task("clean")
    assert task_.outlets == [clean] and task_.inlets == [raw]
    assert run_task(dags["clean"], "clean")[1] == "clean from s3://b/raw in clean"


def test_assets_added_through_an_alias_are_updates_and_notifiers_are_callbacks() -> None:
    from tandem.sdk.assets import AssetAlias, outlet_updates
    from tandem.sdk.notifier import BaseNotifier

    sent: list[str] = []

    class Note(BaseNotifier):
        template_fields = ("message",)

        def __init__(self, message: str) -> None:
            self.message = message

        def notify(self, context: dict[str, object]) -> None:
            sent.append(self.message)

    alias = AssetAlias("daily")
    with DAG("d", start_date=START) as dag:
        @task(outlets=[alias], on_success_callback=Note("done {{ ds }}"))
        def produce(outlet_events=None):  # type: ignore[no-untyped-def]
            outlet_events[alias].add(Asset("s3://b/2024"), extra={"n": 1})

        produce()
    state, _, _, context = run_task(dag, "produce")
    assert state == "success"
    assert outlet_updates(context["task"], context) == [{"uri": "s3://b/2024", "extra": {"n": 1}}]
    for callback in context["task"].callbacks_for("success"):
        callback(context)
    assert sent == ["done 2024-03-05"]
