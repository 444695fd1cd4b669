"""Run each DAG file of ``dags/`` under Apache Airflow and record its outcome in ``expected/``.

Run it with Airflow's interpreter (Tandem never imports Airflow)::

    bash ../../../shared/anchors/airflow/install.sh /work/airflow-venv   # once
    /work/airflow-venv/bin/python tests/airflow_compat/record_expected.py [NAME ...]

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
from environment import DAG_ENVIRONMENT

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
    outcomes: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        home, dags = Path(tmp), Path(tmp) / "dags"
        dags.mkdir()
        shutil.copy(path, dags)
        shutil.copy(template_db, home / "airflow.db")
        env = airflow_env(home, dags)
        for dag_id in dag_ids(env, dags / path.name):
            run = subprocess.run([str(AIRFLOW), "dags", "test", dag_id], env=env, capture_output=True, text=True,
                                 check=False)
            db = sqlite3.connect(home / "airflow.db")
            found = db.execute("SELECT state FROM dag_run WHERE dag_id = ?", (dag_id,)).fetchone()
            if found is None:
                raise RuntimeError(f"airflow dags test {dag_id} made no run:\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
            (state,) = found
            rows = db.execute(
                "SELECT task_id, map_index, state, try_number FROM task_instance WHERE dag_id = ? "
                "ORDER BY task_id, map_index", (dag_id,),
            ).fetchall()
            db.close()
            outcomes[dag_id] = {
                "state": state,
                "tasks": [{"task_id": t, "map_index": m, "state": s, "try_number": n} for t, m, s, n in rows],
            }
    return outcomes


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
