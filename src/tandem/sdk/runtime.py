"""The contract between an operator and the runner that executes it.

The runner (not part of the SDK) builds an object satisfying
:class:`RuntimeTaskInstance` and puts it in the context as ``ti``. For one task
instance it then does::

    task = dag.get_task(task_id)
    if task.is_mapped:
        task = task.unmap_for_index(map_index, ti)   # already a fresh object
    else:
        task = task.prepare_for_execution()          # copy: resolving/rendering mutates it
    context = build_context(dag=dag, task=task, ti=ti, ...)
    task.resolve_xcom_args(context)
    task.render_template_fields(context)
    result = task.execute(context)          # TaskSkipped -> skipped
    for key, value in task.xcoms_to_push(result).items():
        ti.xcom_push(key, value)
    for callback in task.callbacks_for("success"):   # or "failure" / "retry"
        callback(context)
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class RuntimeTaskInstance(Protocol):
    """What an operator may use of the running task instance (``context["ti"]``).

    ``xcom_pull`` semantics: when ``task_ids`` names a mapped task and
    ``map_indexes`` is None, the value is the list of all its instances' values
    ordered by map_index; when ``task_ids`` is a list, the result is a list with
    one value per task id.
    """

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int

    def xcom_pull(
        self,
        task_ids: str | list[str] | None = None,
        key: str = "return_value",
        map_indexes: int | list[int] | None = None,
        default: Any = None,
    ) -> Any: ...

    def xcom_push(self, key: str, value: Any) -> None: ...


def ti_from(context_or_ti: Any) -> RuntimeTaskInstance:
    """Accept either a context dict or the task instance itself."""
    if isinstance(context_or_ti, dict):
        return context_or_ti["ti"]
    return context_or_ti
