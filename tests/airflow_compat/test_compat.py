"""Each Airflow DAG file of ``dags/`` runs unchanged under Tandem with Airflow's outcome.

``expected/<file>.json`` holds what Apache Airflow 3.3.2 did with the file (recorded by
``record_expected.py``): per DAG, the run's state and each task instance's map index, state
and try number. Here every DAG of the file runs with ``tandem dags test`` in a fresh
``TANDEM_HOME`` and its outcome, read from Tandem's database, must be the same.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.airflow_compat.environment import DAG_ENVIRONMENT

HERE = Path(__file__).resolve().parent
CASES = sorted(p.stem for p in (HERE / "expected").glob("*.json"))


def tandem_outcome(tmp_path: Path, dag_file: Path, dag_id: str) -> dict[str, Any]:
    home, dags = tmp_path / "home", tmp_path / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    (dags / dag_file.name).write_bytes(dag_file.read_bytes())
    env = {
        **os.environ, **DAG_ENVIRONMENT,
        "TANDEM_HOME": str(home), "TANDEM__CORE__DAGS_FOLDER": str(dags), "TANDEM__CORE__LOAD_EXAMPLES": "false",
        "TANDEM__CORE__FERNET_KEY": "q4BRm1TAAQMUYhsAA3bqzZ3jtCPtNSEGUunkr05YDVU=",
    }
    env.pop("TANDEM_CONFIG", None)
    env.pop("TANDEM__DATABASE__URL", None)
    result = subprocess.run([sys.executable, "-m", "tandem", "dags", "test", dag_id, "-o", "json"], env=env,
                            capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode in (0, 3), result.stderr[-3000:]  # 3: the run failed
    db = sqlite3.connect(home / "tandem.db")
    try:
        # The run `dags test` made (a DAG file may also trigger other runs).
        state, run_id = db.execute("SELECT state, run_id FROM dag_run WHERE dag_id = ? AND run_id LIKE 'test\\_\\_%' "
                                   "ESCAPE '\\'", (dag_id,)).fetchone()
        rows = db.execute(
            "SELECT task_id, map_index, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ? "
            "ORDER BY task_id, map_index", (dag_id, run_id),
        ).fetchall()
    finally:
        db.close()
    return {"state": state, "tasks": [{"task_id": t, "map_index": m, "state": s, "try_number": n}
                                      for t, m, s, n in rows]}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_dag_file_gives_airflows_outcome(case: str, tmp_path: Path) -> None:
    # Given a DAG file and the outcome Apache Airflow gave it
    expected = json.loads((HERE / "expected" / f"{case}.json").read_text())["dags"]
    assert expected, f"{case}: Airflow loaded no DAG from the file"
    for dag_id, airflow_outcome in expected.items():
        # When Tandem runs the same file
        outcome = tandem_outcome(tmp_path / dag_id, HERE / "dags" / f"{case}.py", dag_id)
        # Then the run and every task instance end as under Airflow
        assert outcome == airflow_outcome, dag_id
