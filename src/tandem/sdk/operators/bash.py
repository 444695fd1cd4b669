"""BashOperator: run a shell command in its own process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from tandem.exceptions import TaskError, TaskSkipped
from tandem.sdk.baseoperator import BaseOperator

# How long the command gets to exit after SIGTERM before it is SIGKILLed.
_TERMINATE_GRACE_SECONDS = 5


class BashOperator(BaseOperator):
    """Run ``bash -c <bash_command>``; the last line of output is the return value.

    Output lines are copied to this process's stdout (the runner captures it into
    the task log). A non-zero exit fails the task, except the ``skip_on_exit_code``
    code(s) (default 99) which mark it skipped. If the task is killed or times out,
    the command's whole process group is terminated.

    :param bash_command: the command, or a path ending in ``.sh``/``.bash`` to a
        templated script relative to the DAG folder (templated).
    :param env: environment for the command (templated); None inherits this process's.
    :param append_env: add ``env`` to the inherited environment instead of replacing it.
    :param cwd: working directory (templated); default a fresh temporary directory.
    :param skip_on_exit_code: exit code(s) that mean "skipped"; None disables.
    :param output_encoding: how the command's output is decoded.
    :param output_processor: turns the last line of output into the return value.
    """

    template_fields: ClassVar[Sequence[str]] = ("bash_command", "env", "cwd")
    template_ext: ClassVar[Sequence[str]] = (".sh", ".bash")
    ui_color = "#f0ede4"

    def __init__(
        self,
        *,
        bash_command: str,
        env: dict[str, str] | None = None,
        append_env: bool = False,
        cwd: str | None = None,
        skip_on_exit_code: int | Sequence[int] | None = 99,
        output_encoding: str = "utf-8",
        output_processor: Callable[[str], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.output_processor = output_processor
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.cwd = cwd
        if skip_on_exit_code is None:
            self.skip_on_exit_code: tuple[int, ...] = ()
        elif isinstance(skip_on_exit_code, int):
            self.skip_on_exit_code = (skip_on_exit_code,)
        else:
            self.skip_on_exit_code = tuple(skip_on_exit_code)
        self.output_encoding = output_encoding
        self._process: subprocess.Popen[bytes] | None = None

    def _environment(self) -> dict[str, str]:
        if self.env is None:
            return dict(os.environ)
        extra = {str(k): str(v) for k, v in self.env.items()}
        return {**os.environ, **extra} if self.append_env else extra

    def execute(self, context: dict[str, Any]) -> str | None:
        if not isinstance(self.bash_command, str) or not self.bash_command.strip():
            raise TaskError(f"task '{self.task_id}': bash_command is empty")
        if self.cwd is not None and not os.path.isdir(self.cwd):
            raise TaskError(f"task '{self.task_id}': cwd {self.cwd!r} is not an existing directory")
        restore = self._install_sigterm_handler()
        try:
            exit_code, last_line = self._run()
        finally:
            self.on_kill()
            restore()
        if exit_code in self.skip_on_exit_code:
            raise TaskSkipped(f"bash command exited with code {exit_code}: skipping")
        if exit_code != 0:
            raise TaskError(f"bash command failed: it returned the non-zero exit code {exit_code}")
        if self.output_processor is not None and last_line is not None:
            return self.output_processor(last_line)
        return last_line

    def _run(self) -> tuple[int, str | None]:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="tandem-bash-") as tmp:
            self._process = subprocess.Popen(
                ["bash", "-c", self.bash_command],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.cwd or tmp,
                env=self._environment(),
                # Own session = own process group, so on_kill() reaches grandchildren too.
                start_new_session=True,
            )
            last_line: str | None = None
            assert self._process.stdout is not None
            for raw in iter(self._process.stdout.readline, b""):
                line = raw.decode(self.output_encoding, errors="backslashreplace").rstrip("\r\n")
                last_line = line
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            return self._process.wait(), last_line

    def on_kill(self) -> None:
        """Terminate the command's process group (no-op once it has exited)."""
        process, self._process = self._process, None
        if process is None:
            return
        _stop_group(process)
        if process.stdout is not None:
            process.stdout.close()

    def _install_sigterm_handler(self) -> Any:
        """On SIGTERM (the runner's kill/timeout), stop the command first, then chain."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = signal.getsignal(signal.SIGTERM)

        def handler(signum: int, frame: Any) -> None:
            # Stop the command but leave its pipe alone: the interrupted frame may be inside
            # readline() on it, and closing it here would replace the signal's exception.
            # execute()'s own clean-up closes the pipe afterwards.
            if self._process is not None:
                _stop_group(self._process)
            if callable(previous):
                previous(signum, frame)
            else:
                raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, handler)
        return lambda: signal.signal(signal.SIGTERM, previous)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=_TERMINATE_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
    # Background children left in the group would otherwise outlive the task.
    _signal_group(process.pid, signal.SIGKILL)
