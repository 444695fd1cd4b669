"""Jinja rendering of operators' ``template_fields``.

Rendering walks str/list/tuple/set/dict recursively. A string ending in one of the
operator's ``template_ext`` is treated as a path to a template file, looked up
relative to the DAG file's folder (then ``template_searchpath``), as in Airflow.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

    from tandem.sdk.dag import DAG


# Airflow's date filters: ``{{ dag_run.logical_date | ds }}``.
DATE_FILTERS: dict[str, Any] = {
    "ds": lambda value: value.strftime("%Y-%m-%d"),
    "ds_nodash": lambda value: value.strftime("%Y%m%d"),
    "ts": lambda value: value.isoformat(),
    "ts_nodash": lambda value: value.strftime("%Y%m%dT%H%M%S"),
    "ts_nodash_with_tz": lambda value: value.isoformat().replace("-", "").replace(":", ""),
}


def jinja_environment(dag: DAG | None) -> jinja2.Environment:
    """The Jinja environment for ``dag`` (cached on the DAG: building it is not free)."""
    cached = getattr(dag, "_jinja_env", None) if dag is not None else None
    if cached is not None:
        return cached
    import jinja2

    searchpath: list[str] = []
    if dag is not None:
        if dag.fileloc and os.path.exists(dag.fileloc):
            searchpath.append(os.path.dirname(os.path.abspath(dag.fileloc)))
        searchpath.extend(dag.template_searchpath)
    import jinja2.nativetypes

    native = dag is not None and dag.render_template_as_native_obj
    environment_class = jinja2.nativetypes.NativeEnvironment if native else jinja2.Environment
    options: dict[str, Any] = {
        "loader": jinja2.FileSystemLoader(searchpath or [os.getcwd()]),
        # StrictUndefined, as Airflow: a typo in a template fails the task instead of rendering "".
        "undefined": (dag.template_undefined if dag is not None else None) or jinja2.StrictUndefined,
        # Scripts rendered from files must keep their final newline.
        "keep_trailing_newline": True,
        "cache_size": 0,
        **(dag.jinja_environment_kwargs if dag is not None else {}),
    }
    env = environment_class(**options)
    env.filters.update(DATE_FILTERS)
    if dag is not None:
        env.globals.update(dag.user_defined_macros)
        env.filters.update(dag.user_defined_filters)
        dag._jinja_env = env
    return env


def render_string(text: str, context: dict[str, Any], env: jinja2.Environment) -> str:
    return env.from_string(text).render(**context)


class LiteralValue:
    """A value templating leaves as it is (Airflow's ``literal("{{ not a template }}")``)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def literal(value: Any) -> LiteralValue:
    return LiteralValue(value)


def render_value(
    value: Any,
    context: dict[str, Any],
    env: jinja2.Environment,
    template_ext: Sequence[str] = (),
) -> Any:
    """Render ``value`` (recursively through containers) with ``context``."""
    if isinstance(value, LiteralValue):
        return value.value
    if isinstance(value, str):
        if template_ext and value.endswith(tuple(template_ext)):
            return env.get_template(value).render(**context)
        return render_string(value, context, env)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # namedtuple
        return type(value)(*(render_value(v, context, env, template_ext) for v in value))
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(render_value(v, context, env, template_ext) for v in value)
    if isinstance(value, dict):
        return {k: render_value(v, context, env, template_ext) for k, v in value.items()}
    return value
