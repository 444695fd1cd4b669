"""TriggerDagRunOperator: start a run of another DAG, and optionally wait for it."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from tandem.exceptions import TaskError, TaskSkipped
from tandem.sdk.baseoperator import BaseOperator
from tandem.sdk.other_dags import RunAlreadyExists, other_dags

XCOM_RUN_ID = "trigger_run_id"


class TriggerDagRunOperator(BaseOperator):
    """Trigger ``trigger_dag_id`` with ``conf``.

    :param trigger_run_id: the new run's id (templated); default ``manual__<logical date>``.
    :param logical_date: the new run's logical date (datetime or ISO string, templated); default now.
    :param reset_dag_run: if the run exists, clear it so it runs again (else the task fails).
    :param skip_when_already_exists: if the run exists, mark this task skipped.
    :param wait_for_completion: wait until the run reaches ``allowed_states`` (fail on
        ``failed_states``), checking every ``poke_interval`` seconds.
    """

    template_fields: ClassVar[Sequence[str]] = ("trigger_dag_id", "trigger_run_id", "logical_date", "conf")
    ui_color = "#ffefeb"

    def __init__(self, *, trigger_dag_id: str, trigger_run_id: str | None = None, conf: dict[str, Any] | None = None,
                 logical_date: str | datetime | None = None, reset_dag_run: bool = False,
                 wait_for_completion: bool = False, poke_interval: float = 60,
                 allowed_states: list[str] | None = None, failed_states: list[str] | None = None,
                 skip_when_already_exists: bool = False, fail_when_dag_is_paused: bool = False,
                 deferrable: bool = False, note: str | None = None, run_after: Any = None,
                 openlineage_inject_parent_info: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.trigger_dag_id = trigger_dag_id
        self.trigger_run_id = trigger_run_id
        self.conf = conf
        self.logical_date = logical_date
        self.reset_dag_run = reset_dag_run
        self.wait_for_completion = wait_for_completion
        self.poke_interval = poke_interval
        self.allowed_states = [str(s) for s in allowed_states or ["success"]]
        self.failed_states = [str(s) for s in failed_states] if failed_states is not None else ["failed"]
        self.skip_when_already_exists = skip_when_already_exists
        # Accepted for Airflow compatibility: Tandem waits by polling and keeps no notes.
        self.fail_when_dag_is_paused, self.deferrable, self.note = fail_when_dag_is_paused, deferrable, note
        self.run_after, self.openlineage_inject_parent_info = run_after, openlineage_inject_parent_info

    def execute(self, context: dict[str, Any]) -> None:
        conf = json.loads(self.conf) if isinstance(self.conf, str) else dict(self.conf or {})
        logical_date = self.logical_date or datetime.now(UTC)
        if isinstance(logical_date, str):
            logical_date = datetime.fromisoformat(logical_date)
        run_id = self.trigger_run_id or f"manual__{logical_date.isoformat()}"
        backend = other_dags()
        try:
            backend.trigger(self.trigger_dag_id, run_id, conf, logical_date)
        except RunAlreadyExists:
            if self.skip_when_already_exists:
                raise TaskSkipped(f"DAG run {self.trigger_dag_id}/{run_id} exists already") from None
            if not self.reset_dag_run:
                raise TaskError(f"DAG run {self.trigger_dag_id}/{run_id} exists already") from None
            backend.reset(self.trigger_dag_id, run_id)
        context["ti"].xcom_push(key=XCOM_RUN_ID, value=run_id)
        if self.wait_for_completion:
            self._wait(run_id)

    def _wait(self, run_id: str) -> None:
        while True:
            state = other_dags().run_state(self.trigger_dag_id, run_id)
            if state in self.failed_states:
                raise TaskError(f"{self.trigger_dag_id}/{run_id} ended {state}")
            if state in self.allowed_states:
                return
            time.sleep(self.poke_interval)
