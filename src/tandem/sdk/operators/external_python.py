"""Running a Python callable in another interpreter: an existing one, or a fresh virtualenv.

The callable's source is written to a script (decorators stripped, as in Airflow), its
arguments are pickled to a file, the interpreter runs the script, and the result comes back
pickled. The callable must import what it uses inside its body, since it runs without its
module. Of the context it gets only the plain values Airflow also passes (``ds``, ``ts``,
``run_id`` ...), by naming them as parameters.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from tandem.exceptions import TaskError, TaskSkipped
from tandem.sdk.callables import determine_kwargs
from tandem.sdk.operators.branch import BranchMixin
from tandem.sdk.operators.python import PythonOperator

# The context keys a callable in another interpreter may ask for: plain, picklable values.
SERIALIZABLE_CONTEXT_KEYS = frozenset({
    "ds", "ds_nodash", "expanded_ti_count", "inlets", "outlets", "run_id", "task_instance_key_str",
    "test_mode", "ts", "ts_nodash", "ts_nodash_with_tz", "map_index", "try_number",
})

_RUNNER = """
import pickle, sys
with open(sys.argv[1], "rb") as f:
    args, kwargs = pickle.load(f)
result = {name}(*args, **kwargs)
with open(sys.argv[2], "wb") as f:
    pickle.dump(result, f)
"""


def callable_source(function: Callable[..., Any]) -> str:
    """The function's source, dedented, without decorator lines above its ``def``."""
    lines = textwrap.dedent(inspect.getsource(function)).splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(("def ", "async def ")))
    return "\n".join(lines[start:]) + "\n"


class ExternalPythonOperator(PythonOperator):
    """Run ``python_callable`` with the interpreter ``python`` (a path to a Python binary).

    :param skip_on_exit_code: exit code(s) of the interpreter that mark the task skipped.
    :param expect_airflow, string_args, serializer, use_dill: accepted for Airflow
        compatibility; arguments and results always travel with pickle.
    """

    template_fields: ClassVar[Sequence[str]] = ("templates_dict", "op_args", "op_kwargs", "python")

    def __init__(self, *, python: str, skip_on_exit_code: int | Sequence[int] | None = None,
                 expect_airflow: bool = True, expect_pendulum: bool = False, string_args: Any = None,
                 serializer: str | None = None, use_dill: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.python = python
        codes = skip_on_exit_code if skip_on_exit_code is not None else ()
        self.skip_on_exit_code = (codes,) if isinstance(codes, int) else tuple(codes)
        self.expect_airflow, self.expect_pendulum, self.string_args = expect_airflow, expect_pendulum, string_args
        self.serializer, self.use_dill = serializer, use_dill

    def execute_callable(self, context: dict[str, Any]) -> Any:
        return self.run_in(self.interpreter(), context)

    def interpreter(self) -> str:
        if not os.path.isfile(self.python) or not os.access(self.python, os.X_OK):
            raise TaskError(f"task '{self.task_id}': python {self.python!r} is not an executable file")
        return self.python

    def run_in(self, python: str, context: dict[str, Any]) -> Any:
        plain = {k: v for k, v in context.items() if k in SERIALIZABLE_CONTEXT_KEYS}
        kwargs = determine_kwargs(self.python_callable, self.op_args, self.op_kwargs, plain)
        name = self.python_callable.__name__
        with tempfile.TemporaryDirectory(prefix="tandem-python-") as tmp:
            folder = Path(tmp)
            (folder / "script.py").write_text(callable_source(self.python_callable) + _RUNNER.format(name=name))
            with open(folder / "input.pkl", "wb") as f:
                pickle.dump((list(self.op_args), kwargs), f)
            completed = subprocess.run([python, str(folder / "script.py"), str(folder / "input.pkl"),
                                        str(folder / "output.pkl")], capture_output=True, text=True, check=False)
            sys.stdout.write(completed.stdout + completed.stderr)
            sys.stdout.flush()
            if completed.returncode in self.skip_on_exit_code:
                raise TaskSkipped(f"the process exited with code {completed.returncode}: skipping")
            if completed.returncode != 0:
                last = (completed.stderr.strip().splitlines() or ["(no output)"])[-1]
                raise TaskError(f"the callable failed in {python} (exit code {completed.returncode}): {last}")
            with open(folder / "output.pkl", "rb") as f:
                return pickle.load(f)  # written by the task's own callable, just now


class PythonVirtualenvOperator(ExternalPythonOperator):
    """Run ``python_callable`` in a new virtualenv with ``requirements`` installed by pip.

    :param requirements: pip requirement strings, or a path to a requirements file.
    :param python_version: e.g. ``"3.12"``: the venv is made with ``python3.12`` from PATH.
    :param system_site_packages: let the venv see this interpreter's packages.
    :param pip_install_options: extra ``pip install`` arguments.
    :param index_urls: package indexes (the first is ``--index-url``, others ``--extra-index-url``).
    :param venv_cache_path: keep venvs here, one per set of requirements, and reuse them.
    """

    template_fields: ClassVar[Sequence[str]] = ("templates_dict", "op_args", "op_kwargs", "requirements")

    def __init__(self, *, requirements: None | str | Sequence[str] = None, python_version: str | None = None,
                 system_site_packages: bool = True, pip_install_options: list[str] | None = None,
                 index_urls: list[str] | None = None, venv_cache_path: str | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("python", sys.executable)
        super().__init__(**kwargs)
        self.requirements = [requirements] if isinstance(requirements, str) else list(requirements or [])
        self.python_version = python_version
        self.system_site_packages = system_site_packages
        self.pip_install_options = list(pip_install_options or [])
        self.index_urls = list(index_urls or [])
        self.venv_cache_path = venv_cache_path

    def _base_python(self) -> str:
        if not self.python_version or sys.version.startswith(f"{self.python_version}."):
            return sys.executable
        return f"python{self.python_version}"

    def _pip_arguments(self) -> list[str]:
        reqs: list[str] = []
        for requirement in self.requirements:
            reqs += ["-r", requirement] if requirement.endswith(".txt") and os.path.isfile(requirement) else [requirement]
        indexes = [f"--index-url={self.index_urls[0]}"] if self.index_urls else []
        indexes += [f"--extra-index-url={url}" for url in self.index_urls[1:]]
        return [*self.pip_install_options, *indexes, *reqs]

    def _create(self, target: Path) -> str:
        command = [self._base_python(), "-m", "venv", str(target)]
        if self.system_site_packages:
            command.append("--system-site-packages")
        if not self.requirements:
            command.append("--without-pip")  # much faster, and nothing to install
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise TaskError(f"task '{self.task_id}': creating the virtualenv failed: {done.stderr.strip()}")
        python = str(target / "bin" / "python")
        if self.requirements:
            done = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                   *self._pip_arguments()], capture_output=True, text=True, check=False)
            sys.stdout.write(done.stdout + done.stderr)
            if done.returncode != 0:
                raise TaskError(f"task '{self.task_id}': pip install {self.requirements} failed")
        return python

    def execute_callable(self, context: dict[str, Any]) -> Any:
        if self.venv_cache_path:
            key = hashlib.sha256(repr((self._base_python(), self.system_site_packages, self._pip_arguments()))
                                 .encode()).hexdigest()[:16]
            target = Path(self.venv_cache_path) / f"venv-{key}"
            python = str(target / "bin" / "python") if (target / "bin" / "python").exists() else self._create(target)
            return self.run_in(python, context)
        with tempfile.TemporaryDirectory(prefix="tandem-venv-") as tmp:
            return self.run_in(self._create(Path(tmp) / "venv"), context)


class BranchExternalPythonOperator(BranchMixin, ExternalPythonOperator):
    """An ExternalPythonOperator whose callable returns the task id(s) to follow."""

    def execute(self, context: dict[str, Any]) -> Any:
        result = super().execute(context)
        self.follow_branches(context, result)
        return result


class BranchPythonVirtualenvOperator(BranchMixin, PythonVirtualenvOperator):
    """A PythonVirtualenvOperator whose callable returns the task id(s) to follow."""

    def execute(self, context: dict[str, Any]) -> Any:
        result = super().execute(context)
        self.follow_branches(context, result)
        return result
