"""Code execution from user data (Airflow CVE-2022-40127, CVE-2022-24288, CVE-2023-22884).

A user who may trigger runs controls the run id, the conf and the params. None of them may
reach a shell command's text: the run id must match ``security.identifier_pattern``, and the
shipped example DAGs hand such values to the shell through the environment only.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

import tandem.example_dags
from tandem.dag_processing.parser import import_dag_file
from tandem.identifiers import check_identifier
from tandem.operators import BashOperator
from tandem.sdk.context import build_context
from tandem.sdk.dag import DAG

EXAMPLES = Path(tandem.example_dags.__file__).parent
PAYLOADS = ["x'; touch {mark}; echo '", 'x"; touch {mark}; echo "', "$(touch {mark})", "`touch {mark}`",
            "x; touch {mark}", "x && touch {mark}", "x | touch {mark}", "x\ntouch {mark}"]


def _example_dags() -> list[DAG]:
    dags = []
    for path in sorted(EXAMPLES.glob("example_*.py")):
        dags.extend(import_dag_file(str(path))[1])
    return dags


@pytest.mark.parametrize("payload", PAYLOADS)
def test_shell_metacharacters_are_not_valid_run_ids(tandem_home: Path, payload: str) -> None:
    with pytest.raises(ValueError, match="identifier_pattern"):
        check_identifier(payload.format(mark="/tmp/pwned"))


def test_airflow_style_run_ids_are_valid(tandem_home: Path) -> None:
    for run_id in ("manual__2024-01-01T00:00:00+00:00", "scheduled__2024-01-01T00:00:00.123+00:00", "my-run_1~x"):
        assert check_identifier(run_id) == run_id


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_example_dag_runs_user_data_as_shell(tandem_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 payload: str) -> None:
    # Given an operator who relaxed the identifier pattern, and a run id, conf and params full of
    # shell metacharacters
    monkeypatch.setenv("TANDEM__SECURITY__IDENTIFIER_PATTERN", r"^[^/]+$")
    from tandem.config import reset_settings

    reset_settings()
    mark = tmp_path / "pwned"
    evil = payload.format(mark=mark)
    ran = 0
    for dag in _example_dags():
        conf = {name: evil for name, spec in dag.params.serialize().items()
                if "string" in str((spec.get("schema") or {}).get("type", "string"))}
        conf["anything"] = evil
        for task in dag.tasks:
            if task.is_mapped or not isinstance(task, BashOperator):
                continue
            # When every BashOperator of every example renders and runs with them
            task = task.prepare_for_execution()
            context = build_context(dag=dag, task=task, ti=None, run_id=evil, logical_date=datetime.now(UTC),
                                    data_interval_start=None, data_interval_end=None, conf=conf, params=None,
                                    variable_getter=lambda name: None)
            task.render_template_fields(context)
            assert str(mark) not in task.bash_command, f"{dag.dag_id}.{task.task_id} templates user data into a command"
            with contextlib.suppress(Exception):  # failing or skipping is fine; running the payload is not
                task.execute(context)
            ran += 1
    # Then the payload never ran
    assert ran >= 3
    assert not mark.exists()
