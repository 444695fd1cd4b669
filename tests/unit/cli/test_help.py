"""``--help`` of every group and command works in a real ``python -m tandem`` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GROUPS = ["db", "dags", "tasks", "runs", "variables", "connections", "pools", "config"]


def _help_targets() -> list[list[str]]:
    import click

    from tandem.cli import main as cli_main

    cli_main._register()
    targets = []
    for name in GROUPS:
        group = cli_main.cli.commands[name]
        assert isinstance(group, click.Group)
        targets.append([name])
        targets += [[name, sub] for sub in group.commands]
    return targets


@pytest.mark.slow
def test_help_of_every_command_in_a_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "TANDEM_HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[3] / "src")}
    # One interpreter for all commands keeps this fast; each still runs `python -m tandem` semantics.
    script = (
        "import runpy, sys\n"
        "for argv in " + repr(_help_targets()) + ":\n"
        "    sys.argv = ['tandem', *argv, '--help']\n"
        "    try:\n"
        "        runpy.run_module('tandem', run_name='__main__')\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, (argv, e.code)\n"
        "    print('@@ok', *argv)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("@@ok") == len(_help_targets())
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_python_dash_m_tandem(tmp_path: Path) -> None:
    env = {**os.environ, "TANDEM_HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[3] / "src")}
    proc = subprocess.run([sys.executable, "-m", "tandem", "dags", "--help"], check=False, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: tandem dags")
    for command in ("list", "trigger", "test", "pause", "unpause", "delete", "show", "list-import-errors"):
        assert f"  {command} " in proc.stdout
