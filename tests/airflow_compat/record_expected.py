"""Run each DAG file of ``dags/`` under Apache Airflow and record its outcome in ``expected/``.

Run it with Airflow's interpreter (Tandem never imports Airflow)::

    bash ../../../shared/anchors/airflow/install.sh "$AIRFLOW_VENV"   # once
    "$AIRFLOW_VENV"/bin/python tests/airflow_compat/record_expected.py [NAME ...]

For each file, every DAG it defines is run once with ``airflow dags test`` in a fresh
``AIRFLOW_HOME`` (SQLite), and the run's state and each task instance's map index, state and
try number are read from Airflow's database into ``expected/<file stem>.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from environment import DAG_ENVIRONMENT  # noqa: E402 - found through the path set just above

AIRFLOW = Path(sys.executable).parent / "airflow"


def airflow_env(home: Path, dags: Path) -> dict[str, str]:
    return {
        **os.environ, **DAG_ENVIRONMENT,
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }


def dag_ids(env: dict[str, str], path: Path) -> list[str]:
    code = (
        "import sys; from airflow.dag_processing.dagbag import DagBag; "
        "bag = DagBag(sys.argv[1]); "
        "assert not bag.import_errors, bag.import_errors; print('DAG_IDS', *sorted(bag.dag_ids))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{path.name} does not load under Airflow:\n{result.stderr[-2000:]}")
    # Airflow logs to stdout too: the ids are on the marked line.
    return next(line.split()[1:] for line in result.stdout.splitlines() if line.startswith("DAG_IDS"))


def record(path: Path, template_db: Path) -> dict[str, dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        dags = Path(tmp) / "dags"
        dags.mkdir()
        shutil.copy(path, dags)
        ids = dag_ids(airflow_env(Path(tmp), dags), dags / path.name)
    return {dag_id: record_dag(path, dag_id, template_db) for dag_id in ids}


def record_dag(path: Path, dag_id: str, template_db: Path) -> dict[str, object]:
    """Run one DAG in a fresh AIRFLOW_HOME (as the Tandem side runs each in a fresh TANDEM_HOME)."""
    with tempfile.TemporaryDirectory() as tmp:
        home, dags = Path(tmp), Path(tmp) / "dags"
        dags.mkdir()
        shutil.copy(path, dags)
        shutil.copy(template_db, home / "airflow.db")
        run = subprocess.run([str(AIRFLOW), "dags", "test", dag_id], env=airflow_env(home, dags),
                             capture_output=True, text=True, check=False)
        db = sqlite3.connect(home / "airflow.db")
        try:
            found = db.execute("SELECT state, run_id FROM dag_run WHERE dag_id = ? AND run_type = 'manual' "
                               "ORDER BY id DESC", (dag_id,)).fetchone()
            if found is None:
                raise RuntimeError(f"airflow dags test {dag_id} made no run:\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
            state, run_id = found
            rows = db.execute(
                "SELECT task_id, map_index, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ? "
                "ORDER BY task_id, map_index", (dag_id, run_id),
            ).fetchall()
        finally:
            db.close()
    return {"state": state, "tasks": [{"task_id": t, "map_index": m, "state": s, "try_number": n}
                                      for t, m, s, n in rows]}


def migrated_database(folder: Path) -> Path:
    env = airflow_env(folder, folder / "dags")
    subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, check=True)
    return folder / "airflow.db"


def main(names: list[str]) -> int:
    files = sorted((HERE / "dags").glob("*.py"))
    if names:
        files = [f for f in files if f.stem in names]
    version = subprocess.run([str(AIRFLOW), "version"], capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        template = migrated_database(Path(tmp))
        for path in files:
            outcomes = record(path, template)
            target = HERE / "expected" / f"{path.stem}.json"
            target.write_text(json.dumps({"airflow_version": version, "dags": outcomes}, indent=2) + "\n")
            print(f"{path.name}: " + ", ".join(f"{d} {o['state']}" for d, o in outcomes.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
