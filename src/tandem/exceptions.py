"""Exceptions raised by DAG authors' code and by the authoring SDK.

These are shared by every layer (parser, scheduler, runner, API), so this module
imports nothing but the standard library.
"""

from __future__ import annotations


class TandemException(Exception):
    """Base class of every Tandem-specific error."""


class TaskError(TandemException):
    """A task's work failed (e.g. a bash command exited non-zero)."""


class TaskSkipped(TandemException):
    """Raised from ``execute`` (or a callable) to mark the task instance as skipped."""


class TaskFailed(TandemException):
    """Raised from a task to fail the try at once, without using the retries left."""


class SensorTimeout(TaskFailed):
    """A sensor's condition was not met within its ``timeout`` (no retry, as in Airflow)."""


class XComForMappingNotPushed(TaskError):
    """A task that a mapped task maps over returned nothing (Airflow's exception of this name)."""

    def __str__(self) -> str:
        return "did not push XCom for task mapping"


class UnmappableXComTypePushed(TaskError):
    """A task that a mapped task maps over returned a value that is not a list or a dict."""

    def __str__(self) -> str:
        return f"unmappable return type {type(self.args[0]).__qualname__!r}"


class UnmappableXComLengthPushed(TaskError):
    """A task that a mapped task maps over returned more items than ``core.max_map_length``."""

    def __init__(self, length: int, max_length: int) -> None:
        super().__init__(length, max_length)
        self.length, self.max_length = length, max_length

    def __str__(self) -> str:
        return f"unmappable return value length: {self.length} > {self.max_length}"


class NotFound(TandemException, KeyError):
    """A variable or connection that a DAG file asked for does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


# Airflow DAGs raise these names; keeping them lets them run unchanged.
AirflowSkipException = TaskSkipped
AirflowFailException = TaskFailed
AirflowSensorTimeout = SensorTimeout


class TaskTimeout(TandemException):
    """The task ran longer than its ``execution_timeout``."""


class DagDefinitionError(TandemException):
    """A DAG file defines something invalid.

    The message is prefixed with ``file:line`` (and the DAG id when known) so that
    parse errors shown in the UI point straight at the offending line.

    :param problem: what is wrong, in one sentence.
    :param fileloc: the DAG file, if known.
    :param lineno: the line within ``fileloc``, if known.
    :param dag_id: the DAG being defined, if known.
    """

    def __init__(
        self,
        problem: str,
        *,
        fileloc: str | None = None,
        lineno: int | None = None,
        dag_id: str | None = None,
    ) -> None:
        self.problem = problem
        self.fileloc = fileloc
        self.lineno = lineno
        self.dag_id = dag_id
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.fileloc:
            parts.append(f"{self.fileloc}:{self.lineno}" if self.lineno else self.fileloc)
        if self.dag_id:
            parts.append(f"DAG '{self.dag_id}'")
        parts.append(self.problem)
        return ": ".join(parts)


class ParamValidationError(TandemException):
    """A DAG param value (default or from ``conf``) does not match its schema."""


__all__ = [
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "DagDefinitionError",
    "NotFound",
    "ParamValidationError",
    "SensorTimeout",
    "TandemException",
    "TaskError",
    "TaskFailed",
    "TaskSkipped",
    "TaskTimeout",
]
