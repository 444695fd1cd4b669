"""Variable.get/set with defaults and JSON, BaseHook.get_connection, templated var and conn."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, BaseHook, Variable, task

with DAG("af_variables_connections", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:

    @task
    def read_variables() -> None:
        # AIRFLOW_VAR_COMPAT_CONFIG is set in the environment by the suite.
        config = Variable.get("compat_config", deserialize_json=True)
        assert config == {"region": "eu", "limit": 3}, config
        assert Variable.get("does_not_exist", default="fallback") == "fallback"
        assert Variable.get("does_not_exist", default=None) is None

    @task
    def write_then_read() -> None:
        Variable.set("compat_written", {"n": 1}, serialize_json=True)
        assert Variable.get("compat_written", deserialize_json=True) == {"n": 1}
        Variable.set("compat_plain", "text")
        assert Variable.get("compat_plain") == "text"

    @task
    def missing_variable_fails() -> None:
        Variable.get("surely_missing_variable")

    @task
    def read_connection() -> None:
        # AIRFLOW_CONN_COMPAT_HTTP is set in the environment by the suite.
        conn = BaseHook.get_connection("compat_http")
        assert (conn.conn_type, conn.host, conn.login, conn.password, conn.port) == (
            "http", "example.com", "user", "secret", 8080,
        ), conn
        assert conn.extra_dejson == {"timeout": "5"}, conn.extra_dejson

    templated = BashOperator(
        task_id="templated",
        bash_command='test "{{ var.json.compat_config.region }}" = eu && test "{{ conn.compat_http.host }}" = example.com',
    )
    read_variables() >> write_then_read() >> templated
    read_connection()
    missing_variable_fails()
