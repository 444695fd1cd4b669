"""BashSensor: wait until a shell command exits 0."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from typing import Any, ClassVar

from tandem.exceptions import TaskError
from tandem.sdk.sensors.base import BaseSensorOperator


class BashSensor(BaseSensorOperator):
    """Done when ``bash_command`` exits 0; other codes mean "not yet".

    :param bash_command: the command (templated).
    :param env: its environment (templated); None inherits this process's.
    :param retry_exit_code: if set, only this code means "not yet" and any other non-zero
        code fails the task, as in Airflow.
    """

    template_fields: ClassVar[Sequence[str]] = ("bash_command", "env")

    def __init__(self, *, bash_command: str, env: dict[str, str] | None = None,
                 output_encoding: str = "utf-8", retry_exit_code: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        self.retry_exit_code = retry_exit_code

    def poke(self, context: dict[str, Any]) -> bool:
        env = dict(os.environ) if self.env is None else {str(k): str(v) for k, v in self.env.items()}
        completed = subprocess.run(["bash", "-c", self.bash_command], env=env, capture_output=True, check=False)
        print(completed.stdout.decode(self.output_encoding, errors="backslashreplace"), end="")
        code = completed.returncode
        if code == 0:
            return True
        if self.retry_exit_code is not None and code != self.retry_exit_code:
            raise TaskError(f"command exited with {code}, not the retry code {self.retry_exit_code}")
        return False
