"""Assets: named data that tasks update (``outlets``) and DAGs can be scheduled on.

``Asset("s3://bucket/key")`` names one; ``a & b`` (all of) and ``a | b`` (any of) combine
them into the condition of ``DAG(schedule=...)``, serialized as a JSON-able tree:
``{"asset": uri}``, ``{"all": [...]}`` or ``{"any": [...]}`` (a list schedule means all).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tandem.sdk.schedule import Schedule


class BaseAsset:
    """Something a schedule condition can hold; combine with ``&`` and ``|``."""

    def __and__(self, other: BaseAsset) -> AssetAll:
        return AssetAll(self, other)

    def __or__(self, other: BaseAsset) -> AssetAny:
        return AssetAny(self, other)

    def to_asset_schedule(self) -> dict[str, Any]:
        raise NotImplementedError


class Asset(BaseAsset):
    """A named piece of data. ``name`` and ``uri`` default to each other; one is required.

    :param group: a free-form category (Airflow's default ``"asset"``).
    :param extra: JSON-able details kept with the asset.
    """

    def __init__(self, name: str | None = None, uri: str | None = None, *, group: str = "asset",
                 extra: dict[str, Any] | None = None, watchers: list[Any] | None = None) -> None:
        if not name and not uri:
            raise TypeError("Asset() needs a name or a uri")
        self.name: str = name or uri  # type: ignore[assignment]
        self.uri: str = uri or name  # type: ignore[assignment]
        self.group = group
        self.extra = dict(extra or {})
        if watchers:
            raise NotImplementedError("Asset watchers (event-driven scheduling) are not supported by Tandem")

    def to_asset_schedule(self) -> dict[str, Any]:
        return {"asset": self.uri}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Asset) and (other.name, other.uri) == (self.name, self.uri)

    def __hash__(self) -> int:
        return hash((self.name, self.uri))

    def __repr__(self) -> str:
        return f"Asset(name={self.name!r}, uri={self.uri!r})"


class AssetAlias(BaseAsset):
    """A name resolved to assets at run time; Tandem accepts it as an outlet only."""

    def __init__(self, name: str, group: str = "asset") -> None:
        self.name, self.group = name, group

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetAlias) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("alias", self.name))

    def to_asset_schedule(self) -> dict[str, Any]:
        raise NotImplementedError("scheduling on an AssetAlias is not supported by Tandem")


class AssetAll(BaseAsset):
    """True once every member has been updated since the DAG's last asset-triggered run."""

    def __init__(self, *objects: BaseAsset) -> None:
        self.objects = list(objects)

    def to_asset_schedule(self) -> dict[str, Any]:
        return {"all": [o.to_asset_schedule() for o in self.objects]}


class AssetAny(BaseAsset):
    """True once any member has been updated since the DAG's last asset-triggered run."""

    def __init__(self, *objects: BaseAsset) -> None:
        self.objects = list(objects)

    def to_asset_schedule(self) -> dict[str, Any]:
        return {"any": [o.to_asset_schedule() for o in self.objects]}


@dataclass
class Metadata:
    """Yielded by a task to attach ``extra`` to the event of one of its outlet assets."""

    asset: Asset
    extra: dict[str, Any]
    alias: AssetAlias | None = None


@dataclass
class OutletEvent:
    """``outlet_events[asset]``: set ``extra`` to attach details to the asset's update;
    ``outlet_events[alias].add(asset, extra)`` records an update of an asset through an alias."""

    extra: dict[str, Any] = field(default_factory=dict)
    added: list[tuple[Asset, dict[str, Any]]] = field(default_factory=list)

    def add(self, asset: Asset, extra: dict[str, Any] | None = None) -> None:
        self.added.append((asset, dict(extra or {})))


class OutletEvents(dict[Any, OutletEvent]):
    """The ``outlet_events`` context entry: one :class:`OutletEvent` per asset, made on first use."""

    def __missing__(self, key: Any) -> OutletEvent:
        self[key] = event = OutletEvent()
        return event


class AssetOrTimeSchedule:
    """Run on a timetable and also whenever the assets condition is met (Airflow's name).

    :param timetable: a timetable object, cron string or timedelta.
    :param assets: an asset, an ``&``/``|`` expression or a list (all of them).
    """

    def __init__(self, *, timetable: Any, assets: Any) -> None:
        self.timetable, self.assets = timetable, assets

    def to_schedule(self) -> Schedule:
        from tandem.sdk.schedule import parse_schedule

        time = parse_schedule(self.timetable)
        if time.kind in ("none", "assets", "asset_or_time"):
            raise ValueError("AssetOrTimeSchedule needs a time-based timetable")
        condition = json.loads(asset_schedule(self.assets).expr or "{}")
        return Schedule("asset_or_time", expr=json.dumps({"assets": condition, "time": time.to_dict()}, sort_keys=True))


def asset_condition(schedule: dict[str, Any]) -> dict[str, Any] | None:
    """The asset condition of a serialized schedule, if it has one."""
    if schedule.get("kind") == "assets":
        return json.loads(schedule["expr"])
    if schedule.get("kind") == "asset_or_time":
        return json.loads(schedule["expr"])["assets"]
    return None


def asset_schedule(schedule: Any) -> Schedule:
    """The :class:`Schedule` for an asset, an ``&``/``|`` expression or a list (all of them)."""
    condition = AssetAll(*schedule) if isinstance(schedule, (list, tuple)) else schedule
    return Schedule("assets", expr=json.dumps(condition.to_asset_schedule(), sort_keys=True))


def outlet_updates(task: Any, context: dict[str, Any]) -> list[dict[str, Any]]:
    """The asset updates a successful task makes: one per ``Asset`` outlet, with its extra."""
    events: OutletEvents = context.get("outlet_events") or OutletEvents()
    outlets = getattr(task, "outlets", [])
    updates = [{"uri": a.uri, "extra": dict(events[a].extra) if a in events else {}}
               for a in outlets if isinstance(a, Asset)]
    for alias in (a for a in outlets if isinstance(a, AssetAlias) and a in events):
        updates += [{"uri": asset.uri, "extra": extra} for asset, extra in events[alias].added]
    return updates


@dataclass(frozen=True)
class AssetEventView:
    """One update of an asset, as a triggered run's ``triggering_asset_events`` shows it."""

    uri: str
    extra: dict[str, Any]
    timestamp: Any
    source_dag_id: str | None = None
    source_run_id: str | None = None
    source_task_id: str | None = None
    source_map_index: int = -1

    @property
    def asset(self) -> Asset:
        return Asset(uri=self.uri)


class AssetEvents(dict[str, list[AssetEventView]]):
    """uri -> events, oldest first; also indexed by the :class:`Asset` itself.

    The context's ``triggering_asset_events`` (the events a run was triggered by) and
    ``inlet_events`` (every event of the task's inlet assets).
    """

    def __getitem__(self, key: Any) -> list[AssetEventView]:
        return super().__getitem__(key.uri if isinstance(key, Asset) else key)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.uri if isinstance(key, Asset) else key)

    def for_asset(self, name: str | None = None, uri: str | None = None) -> list[AssetEventView]:
        """Events of the asset with this uri (or name, which Tandem takes as the uri by default)."""
        return self.get(uri or name or "", [])
