from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src"

CHECK = """
import sys, pkgutil, importlib
import tandem
assert tandem.__version__ == "0.1.0"
assert "jinja2" not in sys.modules and "croniter" not in sys.modules, "import tandem must stay light"
from tandem import DAG, dag, task, TaskGroup, Param, chain
from tandem.operators import (PythonOperator, BashOperator, EmptyOperator, BranchPythonOperator,
                              ShortCircuitOperator)
from tandem.exceptions import TaskSkipped, AirflowSkipException, DagDefinitionError, ParamValidationError
from tandem.exceptions import TaskTimeout
import tandem.sdk
for info in pkgutil.walk_packages(tandem.sdk.__path__, "tandem.sdk."):
    importlib.import_module(info.name)
forbidden = [m for m in sys.modules
             if m.split(".")[:2] in (["tandem", p] for p in ("db", "models", "scheduler", "api", "runner"))]
assert not forbidden, forbidden
"""


def test_sdk_is_light_and_imports_no_other_layer() -> None:
    # A fresh interpreter, so modules imported by other tests do not interfere.
    result = subprocess.run(
        [sys.executable, "-c", CHECK], env={"PYTHONPATH": str(SRC)}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
