"""Loggers for code running in a task: ``self.log`` of operators, ``logging.getLogger("airflow.task")``.

Their records go to the task's stdout, which the runner captures into the try's log, at INFO
and above, as in Airflow.
"""

from __future__ import annotations

import logging
import sys

# Airflow's name for the task logger is configured too, since DAG files log to it directly.
TASK_LOGGERS = ("tandem.task", "airflow.task")


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is when the record is emitted (the runner redirects it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.setStream(sys.stdout)
        super().emit(record)


def _configure() -> None:
    for name in TASK_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, _StdoutHandler) for h in logger.handlers):
            handler = _StdoutHandler()
            handler.setFormatter(logging.Formatter("[%(asctime)s] {%(name)s} %(levelname)s - %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False


def task_logger(owner: object) -> logging.Logger:
    """The logger of an operator (``tandem.task.operators.<module>.<class>``)."""
    _configure()
    cls = type(owner)
    return logging.getLogger(f"tandem.task.operators.{cls.__module__}.{cls.__name__}")
