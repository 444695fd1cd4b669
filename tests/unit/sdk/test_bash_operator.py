from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tandem import DAG
from tandem.exceptions import TaskError, TaskSkipped
from tandem.operators import BashOperator

from .sdk_stubs import run_task


def _run(command: str, **kwargs: object) -> tuple[str, object]:
    with DAG("d") as dag:
        BashOperator(task_id="b", bash_command=command, **kwargs)  # type: ignore[arg-type]
    state, result, _, _ = run_task(dag, "b")
    return state, result


def test_returns_last_line_and_streams_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("echo one; echo two >&2; echo three") == ("success", "three")
    assert capsys.readouterr().out.splitlines() == ["one", "two", "three"]


def test_no_output_returns_none() -> None:
    assert _run("true") == ("success", None)


def test_non_zero_exit_names_the_code() -> None:
    with pytest.raises(TaskError, match="exit code 3"):
        _run("exit 3")


def test_exit_99_means_skipped_and_is_configurable() -> None:
    assert _run("exit 99")[0] == "skipped"
    assert _run("exit 42", skip_on_exit_code=[42])[0] == "skipped"
    with pytest.raises(TaskError, match="99"):
        _run("exit 99", skip_on_exit_code=None)


def test_env_replaces_or_appends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_OUTER", "outer")
    assert _run('echo "${TANDEM_OUTER:-unset}-$MINE"', env={"MINE": "x"}) == ("success", "unset-x")
    assert _run('echo "$TANDEM_OUTER-$MINE"', env={"MINE": "x"}, append_env=True) == ("success", "outer-x")


def test_cwd_and_templated_fields(tmp_path: Path) -> None:
    assert _run("pwd", cwd=str(tmp_path)) == ("success", str(tmp_path))
    templated = _run(
        'echo "{{ ds }} $WHEN"', env={"WHEN": "{{ ds_nodash }}"}, cwd="{{ var.value.get('dir', '/') }}"
    )
    assert templated == ("success", "2024-03-05 20240305")
    with pytest.raises(TaskError, match="not an existing directory"):
        _run("pwd", cwd=str(tmp_path / "missing"))


def test_script_file_is_rendered_relative_to_dag_folder(tmp_path: Path) -> None:
    # Given a DAG file next to a templated script
    (tmp_path / "script.sh").write_text('echo "script {{ params.who }}"\n')
    dag_file = tmp_path / "my_dag.py"
    dag_file.write_text(
        "from tandem import DAG\nfrom tandem.operators import BashOperator\n"
        "with DAG('d', params={'who': 'me'}) as dag:\n"
        "    BashOperator(task_id='b', bash_command='script.sh')\n"
    )
    namespace: dict[str, object] = {}
    exec(compile(dag_file.read_text(), str(dag_file), "exec"), namespace)
    # When it runs, the file content (rendered) is the command
    assert run_task(namespace["dag"], "b")[1] == "script me"  # type: ignore[arg-type]


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def _stops_running(pid: int) -> bool:
    # SIGKILL is delivered asynchronously; the process is normally gone within milliseconds.
    deadline = time.monotonic() + 5
    while _running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_on_kill_terminates_the_process_group(tmp_path: Path) -> None:
    # Given a command that spawns a background grandchild and prints its pid
    op = BashOperator(task_id="b", bash_command="sleep 60 & echo $!; wait")
    pid_holder: list[int] = []

    class Stop(Exception):
        pass

    real_write = sys.stdout.write

    def write(text: str) -> int:
        if text.strip().isdigit():
            pid_holder.append(int(text))
            raise Stop  # simulates the runner aborting execution mid-run
        return real_write(text)

    sys.stdout.write = write  # type: ignore[method-assign]
    try:
        with pytest.raises(Stop):
            op.execute({})
    finally:
        sys.stdout.write = real_write  # type: ignore[method-assign]
    # Then the grandchild was killed with its group in the finally path (dead or a zombie
    # waiting for init to reap it; either way no longer running).
    assert _stops_running(pid_holder[0])


def test_skipped_is_task_skipped_subclass_for_airflow_compat() -> None:
    from tandem.exceptions import AirflowSkipException

    assert AirflowSkipException is TaskSkipped
