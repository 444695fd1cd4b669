"""TaskGroup: a named, nestable box of tasks (UI grouping plus id prefixing).

Tasks created inside ``with TaskGroup("g"):`` get ids ``g.<task_id>``; nested
groups give ``outer.inner.<task_id>``. ``group >> task`` links the group's leaves
(members with no downstream inside the group) to ``task``; ``task >> group``
links it to the group's roots.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Union

from tandem.exceptions import DagDefinitionError
from tandem.sdk import dag_context
from tandem.sdk.abstractoperator import check_id
from tandem.sdk.dependency import DependencyMixin
from tandem.sdk.source import caller_location

if TYPE_CHECKING:
    from tandem.sdk.abstractoperator import AbstractOperator
    from tandem.sdk.dag import DAG

Child = Union["AbstractOperator", "TaskGroup"]


class TaskGroup(DependencyMixin):
    """A group of tasks within a DAG.

    :param group_id: id unique among its siblings (``None`` only for a DAG's root group).
    :param tooltip: shown in the UI.
    :param prefix_group_id: prefix member task ids with the group id (default True).
    :param parent_group: the enclosing group (default: the open ``with`` group or the root).
    :param dag: the DAG (default: the open ``with DAG``).
    :param add_suffix_on_collision: take ``group_id__N`` when the id is taken (else an error).
    :param ui_color, ui_fgcolor: accepted for Airflow compatibility.
    """

    def __init__(
        self,
        group_id: str | None,
        *,
        tooltip: str = "",
        prefix_group_id: bool = True,
        parent_group: TaskGroup | None = None,
        dag: DAG | None = None,
        default_args: dict[str, Any] | None = None,
        add_suffix_on_collision: bool = False,
        ui_color: str = "CornflowerBlue",
        ui_fgcolor: str = "#000",
        group_display_name: str | None = None,
        doc_md: str | None = None,
    ) -> None:
        self.children: dict[str, Child] = {}
        self.tooltip = tooltip
        self.prefix_group_id = prefix_group_id
        self.default_args = dict(default_args or {})
        self.ui_color, self.ui_fgcolor = ui_color, ui_fgcolor
        self.group_display_name, self.doc_md = group_display_name, doc_md
        #: For a mapped task group (``@task_group`` + ``expand``): arg name -> list, dict or XComArg.
        self.expand_input: dict[str, Any] | None = None
        if group_id is None:  # the root group of a DAG, created by DAG itself
            self._group_id: str | None = None
            self.parent_group: TaskGroup | None = None
            self.dag = dag
            return
        location = caller_location()
        dag = dag or (parent_group.dag if parent_group else dag_context.current_dag())
        if dag is None:
            raise DagDefinitionError(
                f"TaskGroup {group_id!r} must be created inside a DAG",
                fileloc=location.fileloc,
                lineno=location.lineno,
            )
        check_id("group_id", group_id, location, dag.dag_id)
        self.dag = dag
        self.parent_group = parent_group or dag_context.current_group(dag)
        self._group_id = group_id
        assert self.parent_group is not None
        full_id = self.group_id
        if add_suffix_on_collision:
            self._group_id = self._free_label(group_id, dag)
            full_id = self.group_id
        if full_id in dag.task_group.all_group_ids() or full_id in dag.task_dict:
            raise DagDefinitionError(
                f"duplicate group id {full_id!r}",
                fileloc=location.fileloc,
                lineno=location.lineno,
                dag_id=dag.dag_id,
            )
        self.parent_group.children[full_id] = self  # type: ignore[index]

    def _free_label(self, label: str, dag: DAG) -> str:
        """``label``, or ``label__N`` with the next free N when a group already has the id."""
        taken = dag.task_group.all_group_ids() | dag.task_dict.keys()
        full = self.group_id
        if full not in taken:
            return label
        pattern = re.compile(rf"^{re.escape(full or '')}__(\d+)$")
        suffixes = [int(m.group(1)) for g in taken if (m := pattern.match(g))]
        return f"{label}__{max(suffixes, default=0) + 1}"

    @property
    def group_id(self) -> str | None:
        """The full id, including the ids of enclosing prefixing groups."""
        if self._group_id is None:
            return None
        parent = self.parent_group
        if parent is not None and parent.group_id and parent.prefix_group_id:
            return f"{parent.group_id}.{self._group_id}"
        return self._group_id

    @property
    def is_root(self) -> bool:
        return self._group_id is None

    def child_id(self, label: str) -> str:
        """The id a member called ``label`` gets."""
        if self.group_id and self.prefix_group_id:
            return f"{self.group_id}.{label}"
        if self.parent_group is not None and not self.prefix_group_id:
            return self.parent_group.child_id(label)
        return label

    def expand_sources(self) -> list[dict[str, Any]]:
        """Serialized expand arguments of a mapped group (as a mapped operator's)."""
        from tandem.sdk.xcom_arg import XComArg

        sources: list[dict[str, Any]] = []
        for arg, value in (self.expand_input or {}).items():
            if isinstance(value, XComArg):
                sources.append({"arg": arg, **value.expand_source()})
            else:
                sources.append({"arg": arg, "kind": "literal", "length": len(value)})
        return sources

    def inherited_default_args(self) -> dict[str, Any]:
        """This group's default_args over those of its enclosing groups."""
        inherited = self.parent_group.inherited_default_args() if self.parent_group is not None else {}
        return {**inherited, **self.default_args}

    def add(self, task: AbstractOperator) -> None:
        self.children[task.task_id] = task

    def all_group_ids(self) -> set[str]:
        ids: set[str] = set()
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                ids.add(child.group_id or "")
                ids |= child.all_group_ids()
        return ids

    def iter_groups(self) -> list[TaskGroup]:
        """This group and all nested groups, depth first."""
        groups: list[TaskGroup] = [self]
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                groups.extend(child.iter_groups())
        return groups

    def iter_tasks(self) -> list[AbstractOperator]:
        tasks: list[AbstractOperator] = []
        for child in self.children.values():
            tasks.extend(child.iter_tasks() if isinstance(child, TaskGroup) else [child])
        return tasks

    # -- dependencies ----------------------------------------------------------
    def dependency_roots(self) -> list[AbstractOperator]:
        members = {t.task_id for t in self.iter_tasks()}
        return [t for t in self.iter_tasks() if not (t.upstream_task_ids & members)]

    def dependency_leaves(self) -> list[AbstractOperator]:
        members = {t.task_id for t in self.iter_tasks()}
        return [t for t in self.iter_tasks() if not (t.downstream_task_ids & members)]

    def __enter__(self) -> TaskGroup:
        dag_context.push_group(self)
        return self

    def __exit__(self, *exc: object) -> None:
        dag_context.pop_group()

    def __repr__(self) -> str:
        return f"<TaskGroup: {self.group_id or '(root)'}>"
