"""Every node serves its metrics, and they agree with the database.

A real cluster (a scheduler with its local executor, a standalone DAG processor and an
api-server, on SQLite) runs a DAG twice; each node's endpoint, found through its node row, is
scraped and its counts checked against the rows. Every metric the shipped Grafana dashboard and
Prometheus rules use must be among those exported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from tests.api.server import ClosingProcesses, child_env, close_engines, start_api_server
from tests.browser.conftest import ADMIN_PASSWORD, prepare_home
from tests.fixtures.processes import wait_for

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RUNS = 2
TIS_PER_RUN = 7  # numbers, double[0..2], total, report.hello, report.bye
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def scrape(url: str, **kwargs: object) -> dict[str, float]:
    """Samples as ``name{label="v",...}`` -> value, summed over identical keys."""
    text = httpx.get(url, timeout=10, **kwargs).raise_for_status().text  # type: ignore[arg-type]
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = s.name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items())) + "}" if s.labels else "")
            samples[key] = samples.get(key, 0.0) + s.value
    return samples


def total(samples: dict[str, float], name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include ``labels``."""
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(v for k, v in samples.items()
               if (k == name or k.startswith(name + "{")) and all(w in k for w in wanted))


def endpoint(target: dict[str, Any]) -> str:
    """The scrape URL of a service-discovery target, reached on this machine's loopback."""
    port = target["targets"][0].rsplit(":", 1)[1]
    return f"{target['labels']['__scheme__']}://127.0.0.1:{port}{target['labels']['__metrics_path__']}"


def referenced_metrics() -> set[str]:
    names: set[str] = set()
    for path in [*DEPLOY.glob("grafana/*.json"), *DEPLOY.glob("prometheus/*.yml")]:
        names.update(re.findall(r"\btandem_[a-z_]+", path.read_text()))
    return names


def family_of(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, str]]]:
    env = {**prepare_home(tmp_path, monkeypatch), "TANDEM__SCHEDULER__STANDALONE_DAG_PROCESSOR": "true"}
    processes = ClosingProcesses(tmp_path)
    try:
        # Started together: start-up dominates this test's time.
        processes.start("scheduler", env=child_env(env))
        processes.start("dag-processor", env=child_env(env))
        url, _ = start_api_server(processes, child_env(env))
        yield url, env
    finally:
        processes.cleanup()
        close_engines()


def test_each_node_exports_metrics_that_match_the_database(cluster: tuple[str, dict[str, str]]) -> None:
    url, env = cluster
    admin = httpx.Client(base_url=url, auth=("admin", ADMIN_PASSWORD), timeout=30)
    engine = sa.create_engine(env["TANDEM__DATABASE__URL"])
    try:
        # Given a DAG run twice to the end
        wait_for(lambda: admin.get("/api/v1/dags/api_demo").status_code == 200, timeout=60, interval=0.3,
                 message="api_demo to be parsed")
        for i in range(RUNS):
            admin.post("/api/v1/dags/api_demo/dagRuns", json={"dag_run_id": f"m{i}"}).raise_for_status()
        wait_for(lambda: all(admin.get(f"/api/v1/dags/api_demo/dagRuns/m{i}").json()["state"] == "success"
                             for i in range(RUNS)), timeout=120, interval=0.5, message="both runs to succeed")

        # When every live node's endpoint is found through the service-discovery list and scraped
        targets = admin.get("/api/v1/cluster/metrics-targets").raise_for_status().json()
        roles = {t["labels"]["role"]: t for t in targets}
        assert {"scheduler", "api-server", "dag-processor"} <= set(roles), targets
        sched_url, processor_url = endpoint(roles["scheduler"]), endpoint(roles["dag-processor"])

        with engine.connect() as conn:
            successes = conn.execute(sa.text(
                "SELECT count(*) FROM task_instance WHERE dag_id = 'api_demo' AND state = 'success'")).scalar_one()
        assert successes == RUNS * TIS_PER_RUN

        # Then the scheduler's counts (recorded by its executor's supervisors) are the rows'
        samples = wait_for(lambda: (lambda s: s if total(s, "tandem_ti_successes_total") >= successes else None)(
            scrape(sched_url)), timeout=20, interval=0.3, message="the success counter to catch up")
        assert isinstance(samples, dict)
        assert total(samples, "tandem_ti_successes_total") == successes
        assert total(samples, "tandem_ti_finish_total", state="success") == successes
        assert total(samples, "tandem_ti_finish_total", dag_id="api_demo", task_id="double", state="success") == 3 * RUNS
        assert total(samples, "tandem_task_duration_seconds_count", dag_id="api_demo") == successes
        assert total(samples, "tandem_dagrun_duration_seconds_count", dag_id="api_demo", state="success") == RUNS
        assert total(samples, "tandem_ti_failures_total") == 0
        assert total(samples, "tandem_scheduler_heartbeat_total") >= 1
        assert total(samples, "tandem_scheduler_loop_duration_seconds_count") >= 1
        assert total(samples, "tandem_scheduler_tasks_queued_total") == successes
        processor_samples = wait_for(lambda: (lambda s: s if any(
            "api_demo.py" in k for k in s if k.startswith("tandem_dag_processing_last_duration_seconds")) else None)(
            scrape(processor_url)), timeout=20, interval=0.5, message="the DAG processor to parse api_demo.py")
        assert isinstance(processor_samples, dict)
        assert total(processor_samples, "tandem_dag_processing_import_errors") == 0
        assert total(processor_samples, "tandem_node_info", role="dag-processor") == 1
        assert total(samples, "tandem_node_info", role="scheduler") == 1
        assert "tandem_executor_open_slots" in samples

        # And the api-server's cluster gauges say the same from the DB
        api_samples = scrape(f"{url}/metrics", auth=("admin", ADMIN_PASSWORD))
        assert total(api_samples, "tandem_task_instances", state="success") == successes
        assert total(api_samples, "tandem_pool_open_slots", pool="default_pool") > 0

        # And the heartbeat carries the scheduler's load, shown on the dashboard's JSON
        dashboard = admin.get("/api/v1/cluster/dashboard").raise_for_status().json()
        scheduler_row = next(n for n in dashboard["nodes"] if n["role"] == "scheduler")
        assert scheduler_row["state"] == "alive"
        assert set(scheduler_row["load"]) >= {"running", "queued", "open_slots", "passes_per_s"}
        assert dashboard["outcomes"]["task_instances"]["totals"]["success"] == successes
        assert dashboard["outcomes"]["dag_runs"]["totals"]["success"] == RUNS

        # And every metric the shipped dashboard and alerts use is exported by some node
        exported = {family_of(k.split("{")[0]) for k in {**samples, **api_samples, **processor_samples}}
        missing = {n for n in referenced_metrics() if family_of(n) not in exported}
        assert not missing, f"deploy/ uses metrics no node exports: {sorted(missing)}"
    finally:
        admin.close()
        engine.dispose()
