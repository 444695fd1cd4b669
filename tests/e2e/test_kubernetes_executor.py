"""The Kubernetes executor against the API emulator: schedulers on PostgreSQL create a pod per
try, the test kubelet runs each pod's command (``tandem tasks run-workload``) as a process, and
the pod's runner claims, runs and records the try. Faults are aimed: API refusals on pod
creation, watch expiry, pods stuck Pending, a pod deleted mid-try, a scheduler ``kill -9``ed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.config import get_settings, reset_settings
from tandem.db.session import session_scope
from tandem.logs.reader import LogChunk, read_try_log
from tandem.models import TaskInstance, TaskTry
from tandem.orchestration import TiKey
from tests.fixtures.kube import KubeEmulator, kube_emulator, pod_template
from tests.fixtures.processes import Processes, wait_for
from tests.integration.celery.support import Broker, Cluster, logs_of, write_dag

__all__ = ["kube_emulator"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(240)]

BASIC_DAG = """
import os
from datetime import datetime, timedelta

from tandem import DAG, task

with DAG("k8s_basic", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    @task
    def hello():
        print("hello from pod", os.environ["TANDEM_POD_NAME"])
        return 42

    @task(retries=1, retry_delay=timedelta(seconds=0))
    def flaky(ti=None):
        if ti.try_number == 1:
            raise RuntimeError("the first try fails")
        return "second try"

    @task
    def broken():
        raise ValueError("boom in a pod")

    hello()
    flaky()
    broken()
"""

FAULTS_DAG = """
import os
import time
from datetime import datetime

from kubernetes.client import models as k8s

from tandem import DAG, task

unschedulable = {"pod_override": k8s.V1Pod(spec=k8s.V1PodSpec(
    node_selector={"disktype": "ssd"}, containers=[k8s.V1Container(name="base")]))}
unpullable = {"pod_override": k8s.V1Pod(spec=k8s.V1PodSpec(
    containers=[k8s.V1Container(name="base", image="registry.invalid/unpullable:1")]))}
override = {"pod_override": k8s.V1Pod(
    metadata=k8s.V1ObjectMeta(labels={"team": "override", "cost-center": "42"}),
    spec=k8s.V1PodSpec(containers=[k8s.V1Container(
        name="base", env=[k8s.V1EnvVar(name="FROM_OVERRIDE", value="yes")],
        resources=k8s.V1ResourceRequirements(limits={"memory": "512Mi"}))]))}

with DAG("k8s_faults", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    @task(executor_config=unschedulable)
    def stuck():
        pass

    @task(executor_config=unpullable)
    def no_image():
        pass

    @task(executor_config=override)
    def overridden():
        assert os.environ["FROM_OVERRIDE"] == "yes"
        assert os.environ["TANDEM__CORE__LOAD_EXAMPLES"] == "false"  # the template's env is kept

    @task
    def long():
        print("long task started", flush=True)
        time.sleep(120)

    stuck()
    no_image()
    overridden()
    long()
"""

ADOPTION_DAG = """
import time
from datetime import datetime

from tandem import DAG, task

with DAG("k8s_adopt", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks=8) as dag:
    for i in range(4):
        @task(task_id=f"slow_{i}")
        def slow():
            time.sleep(6)
            return "done"

        slow()
"""

NO_BROKER = Broker("none", "redis://127.0.0.1:1/0")


class KubeCluster(Cluster):
    """Schedulers using the Kubernetes executor on the emulator, and the pods' settings."""

    def __init__(self, processes: Processes, engine: Engine, emulator: KubeEmulator, tmp: Path,
                 db_url: str, dags: Path, **settings: str) -> None:
        pod_env = {
            "TANDEM_HOME": str(tmp / "pod-home"), "TANDEM__DATABASE__URL": db_url,
            "TANDEM__CORE__DAGS_FOLDER": str(dags), "TANDEM__CORE__LOAD_EXAMPLES": "false",
            "TANDEM__CORE__FERNET_KEY": get_settings().core.fernet_key,
            "TANDEM__API__SECRET_KEY": get_settings().api.secret_key,
            # Not the schedulers' folder: the test reads logs from the pods, as another machine would.
            "TANDEM__LOGGING__BASE_LOG_FOLDER": str(tmp / "pod-task-logs"),
            "TANDEM__SCHEDULER__HEARTBEAT_INTERVAL": "0.5",
            "TANDEM__LOGGING__REMOTE_BASE_LOG_FOLDER": str(tmp / "remote-logs"),
        }
        template = pod_template(tmp / "pod-template.yaml", pod_env)
        self.kube_env = {
            "TANDEM__CORE__EXECUTOR": "kubernetes",
            "TANDEM__KUBERNETES__CONFIG_FILE": str(emulator.kubeconfig),
            "TANDEM__KUBERNETES__POD_TEMPLATE_FILE": str(template),
            "TANDEM__KUBERNETES__WATCH_TIMEOUT": "20",
            "TANDEM__LOGGING__REMOTE_BASE_LOG_FOLDER": str(tmp / "remote-logs"),
            **settings,
        }
        super().__init__(processes, engine, NO_BROKER, env=self.kube_env)
        self.emulator = emulator

    def ti(self, dag_id: str, task_id: str) -> TaskInstance:
        with session_scope(self.engine) as session:
            return session.execute(sa.select(TaskInstance).where(
                TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id)).scalar_one()

    def wait_for_ti(self, dag_id: str, task_id: str, states: tuple[str, ...], timeout: float = 90) -> TaskInstance:
        def reached() -> TaskInstance | None:
            ti = self.ti(dag_id, task_id)
            return ti if ti.state in states else None

        ti = wait_for(reached, timeout, interval=0.3, message=f"{dag_id}.{task_id} to be {'/'.join(states)}")
        assert isinstance(ti, TaskInstance)
        return ti

    def pods_of(self, task_id: str) -> list[dict[str, Any]]:
        return [p for p in self.emulator.pods()
                if p["metadata"]["annotations"]["tandem.io/task-id"] == task_id]


@pytest.fixture
def kube_cluster(kube_emulator: KubeEmulator, engine: Engine, db_url: str, dags_folder: Path, processes: Processes,
                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeCluster]:
    cluster = KubeCluster(processes, engine, kube_emulator, tmp_path, db_url, dags_folder,
                          TANDEM__KUBERNETES__PENDING_TIMEOUT="5",
                          # The executor, not the zombie reaper, must be the one to notice a deleted pod.
                          TANDEM__SCHEDULER__ZOMBIE_THRESHOLD="30")
    # This process reads the tries' logs as an API server would: from the pods.
    for key, value in cluster.kube_env.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    yield cluster
    reset_settings()
    # Graceful stops are not under test here, and a stopping interpreter is slow on a loaded machine;
    # pods go before the database is dropped.
    for proc in processes.procs:
        if proc.poll() is None:
            processes.kill9(proc)
    kube_emulator.stop()


def scheduler_logs(cluster: KubeCluster) -> str:
    return "\n".join(logs_of(p) for p in cluster.processes.procs)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_tries_run_in_pods_and_each_pod_fault_ends_its_try_with_the_reason(
    kube_cluster: KubeCluster, kube_emulator: KubeEmulator, dags_folder: Path
) -> None:
    # Given a scheduler whose first pod creations are refused (quota, then a server error)
    write_dag(dags_folder, "k8s_basic", BASIC_DAG)
    write_dag(dags_folder, "k8s_faults", FAULTS_DAG)
    kube_emulator.fault(403, method="POST", path="/pods$", count=2, reason="Forbidden",
                        message='pods "x" is forbidden: exceeded quota: compute, requested: pods=1')
    kube_emulator.fault(500, method="POST", path="/pods$", count=1)
    kube_cluster.scheduler()
    kube_cluster.wait_for_dag("k8s_basic")
    kube_cluster.wait_for_dag("k8s_faults")

    # When a run of each DAG is triggered, and every watch expires (410 Gone) once a try runs
    run_id = kube_cluster.trigger("k8s_basic")[0]
    faults_run = kube_cluster.trigger("k8s_faults")[0]
    kube_cluster.wait_for_ti("k8s_basic", "hello", ("running", "success"))
    kube_emulator.compact()
    # ... and the long task's pod is deleted while its try runs (its log read from the pod first)
    running = kube_cluster.wait_for_ti("k8s_faults", "long", ("running",))
    def long_log() -> LogChunk | None:
        chunk = read_try_log(get_settings(), TiKey("k8s_faults", faults_run, "long", -1), 1)
        return chunk if "long task started" in chunk.text else None

    live = wait_for(long_log, 30, message="the long task's log")
    assert isinstance(live, LogChunk) and live.source == f"pod default/{running.hostname}", live
    kube_emulator.delete_pod(running.hostname)
    states = kube_cluster.wait_for_runs("k8s_basic", [run_id], timeout=150)

    # Then each try ran in a pod of its own, under the pod's name, and ended as the task did
    logs = scheduler_logs(kube_cluster)
    assert states[run_id] == "failed", logs  # broken fails the run
    tis = {t.task_id: t for t in kube_cluster.task_instances("k8s_basic")}
    assert (tis["hello"].state, tis["hello"].try_number) == ("success", 1), logs
    assert (tis["flaky"].state, tis["flaky"].try_number) == ("success", 2), logs
    assert (tis["broken"].state, tis["broken"].try_number) == ("failed", 1), logs
    with session_scope(kube_cluster.engine) as session:
        tries = session.execute(sa.select(TaskTry.task_id, TaskTry.try_number, TaskTry.hostname)
                                .where(TaskTry.dag_id == "k8s_basic")).all()
    assert sorted((t, n) for t, n, _ in tries) == [("broken", 1), ("flaky", 1), ("flaky", 2), ("hello", 1)]
    # ... the refusals were retried, the expired watch was renewed from a new list
    counts = kube_emulator.stats()["counts"]
    assert counts["fault 403"] == 2 and counts["fault 500"] == 1, counts
    assert counts["list"] >= 2, counts
    # ... the deleted pod's try failed saying so
    long = kube_cluster.wait_for_ti("k8s_faults", "long", ("failed",))
    assert "was deleted before its try ended" in (long.failure_reason or ""), long.failure_reason
    # ... the Pending pods failed their tries after pending_timeout, with Kubernetes' reason
    stuck = kube_cluster.wait_for_ti("k8s_faults", "stuck", ("failed",))
    assert "Pending for more than 5 s: Unschedulable" in (stuck.failure_reason or ""), stuck.failure_reason
    no_image = kube_cluster.wait_for_ti("k8s_faults", "no_image", ("failed",))
    assert "ImagePullBackOff" in (no_image.failure_reason or ""), no_image.failure_reason
    # ... while the task whose pod_override added env, labels and resources ran with them
    overridden = kube_cluster.wait_for_ti("k8s_faults", "overridden", ("success",), timeout=60)
    assert overridden.try_number == 1
    assert kube_cluster.wait_for_runs("k8s_faults", [faults_run], timeout=60)[faults_run] == "failed"
    # ... pods of tries that succeeded or timed out Pending are deleted; failed ones are kept
    def cleaned() -> bool:
        return not any(kube_cluster.pods_of(t) for t in ("hello", "overridden", "stuck", "no_image")) \
            and len(kube_cluster.pods_of("flaky")) == 1
    wait_for(cleaned, 30, message="the pods of successful and timed-out tries to be deleted")
    [failed_pod] = kube_cluster.pods_of("broken")
    assert failed_pod["status"]["phase"] == "Failed"
    labels = failed_pod["metadata"]["labels"]
    assert labels["tandem.io/task-id"] == "broken" and labels["tandem.io/try-number"] == "1", labels
    assert labels["team"] == "tests"  # the template's labels are kept
    assert json.loads(failed_pod["metadata"]["annotations"]["tandem.io/workload"])["run_id"] == run_id

    # When the logs of ended tries are read, their pods gone or not
    for task_id, text in (("broken", "boom in a pod"), ("hello", "hello from pod")):
        chunk = read_try_log(get_settings(), TiKey("k8s_basic", run_id, task_id, -1), 1)

        # Then they come from remote storage, where the pods' runners copied them
        assert chunk.found and text in chunk.text and chunk.source.endswith("(remote)"), chunk


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_peer_adopts_and_cleans_up_the_pods_of_a_killed_scheduler(
    kube_cluster: KubeCluster, kube_emulator: KubeEmulator, dags_folder: Path, processes: Processes
) -> None:
    # Given one scheduler whose pods are running
    write_dag(dags_folder, "k8s_adopt", ADOPTION_DAG)
    first = kube_cluster.scheduler()
    kube_cluster.wait_for_dag("k8s_adopt")
    run_id = kube_cluster.trigger("k8s_adopt")[0]
    wait_for(lambda: sum(p["status"]["phase"] == "Running" for p in kube_emulator.pods()) == 4, 60,
             message="four pods running")
    owners = {p["metadata"]["labels"]["tandem.io/scheduler"] for p in kube_emulator.pods()}
    assert len(owners) == 1

    # When it is killed -9 and a peer starts
    processes.kill9(first)
    started = time.monotonic()
    kube_cluster.scheduler()

    # Then the peer relabels the pods to itself once the dead scheduler's node times out ...
    def adopted() -> bool:
        pods = kube_emulator.pods()
        return bool(pods) and all(p["metadata"]["labels"]["tandem.io/scheduler"] not in owners for p in pods)
    wait_for(adopted, 60, message="the peer to adopt the pods")
    # ... the tries, recorded by the pods' runners, all succeed, and the peer deletes the pods
    assert kube_cluster.wait_for_runs("k8s_adopt", [run_id], timeout=90)[run_id] == "success", \
        scheduler_logs(kube_cluster)
    assert all(t.try_number == 1 for t in kube_cluster.task_instances("k8s_adopt"))
    wait_for(lambda: not kube_emulator.pods(), 30, message="the adopted pods to be deleted")
    assert time.monotonic() - started < 120
