"""The graph view's layout, computed on the server: layered, left to right, in SVG units.

A collapsed task group is one node standing for all its tasks; an expanded one is a frame
around its members. Groups start collapsed, as in Airflow. Nodes (tasks and collapsed groups)
are placed in layers by their longest path from a root *in the graph as drawn*, so an edge
into or out of a collapsed group always runs left to right into that group's node; within a
layer, a few barycenter sweeps order nodes to cut edge crossings. Collapsing can make a cycle
(a → group → b → group); an edge that closes one is drawn but not used for layering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tandem.api.ui.grid import summary_state

NODE_W, NODE_H = 190, 44
GAP_X, GAP_Y = 70, 18
PAD = 34  # room above the first row for an expanded group's label


@dataclass
class GraphNode:
    id: str
    label: str
    kind: str  # "task" or "group"
    members: list[str]
    layer: int = 0
    order: float = 0.0
    x: float = 0.0
    y: float = 0.0
    status: str = "none"  # the summary state of its tasks in the chosen run
    operator: str = ""
    mapped: bool = False
    map_count: int | None = None  # expanded instances in the chosen run


@dataclass
class GraphEdge:
    source: str
    target: str
    path: str  # SVG path data


@dataclass
class GroupFrame:
    id: str
    x: float
    y: float
    w: float
    h: float


@dataclass
class GraphLayout:
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    frames: list[GroupFrame]
    width: float
    height: float
    groups: list[str] = field(default_factory=list)


def _ancestors(group: str, groups: dict[str, dict[str, Any]]) -> list[str]:
    """Group ids from the outermost (below the root) down to ``group``."""
    chain = []
    while group:
        chain.append(group)
        group = (groups.get(group) or {}).get("parent") or ""
    return list(reversed(chain))


def _representative(task: dict[str, Any], groups: dict[str, dict[str, Any]], expanded: set[str]) -> str:
    for group in _ancestors(task.get("task_group") or "", groups):
        if group not in expanded:
            return f"group:{group}"
    return str(task["task_id"])


def _node_layers(nodes: dict[str, GraphNode], edges: list[tuple[str, str]], task_order: dict[str, int]) -> None:
    """Longest path from a root over the drawn nodes (Kahn's order); in a cycle, the node whose
    first task comes first in the DAG goes next, and its edges from unplaced nodes are ignored."""
    import heapq

    ups: dict[str, set[str]] = {n: set() for n in nodes}
    downs: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        ups[b].add(a)
        downs[a].append(b)
    place = {n: task_order[nodes[n].members[0]] for n in nodes}
    waiting = {n: len(ups[n]) for n in nodes}
    ready = [(place[n], n) for n in nodes if not waiting[n]]
    heapq.heapify(ready)
    layer: dict[str, int] = {}
    while len(layer) < len(nodes):
        if not ready:  # only cycles remain: break one at its earliest node
            stuck = min((n for n in nodes if n not in layer), key=place.__getitem__)
            ready.append((place[stuck], stuck))
        _, node_id = heapq.heappop(ready)
        if node_id in layer:
            continue
        layer[node_id] = max((layer[u] + 1 for u in ups[node_id] if u in layer), default=0)
        nodes[node_id].layer = layer[node_id]
        for d in downs[node_id]:
            waiting[d] -= 1
            if waiting[d] == 0 and d not in layer:
                heapq.heappush(ready, (place[d], d))


def layout(data: dict[str, Any], expanded: set[str], states: dict[str, str] | None = None,
           map_counts: dict[str, int] | None = None) -> GraphLayout:
    tasks: list[dict[str, Any]] = data.get("tasks", [])
    groups: dict[str, dict[str, Any]] = {g: v for g, v in (data.get("task_groups") or {}).items() if g}
    task_order = {t["task_id"]: i for i, t in enumerate(tasks)}
    nodes: dict[str, GraphNode] = {}
    rep_of: dict[str, str] = {}
    for t in tasks:
        rep = _representative(t, groups, expanded)
        rep_of[t["task_id"]] = rep
        if rep not in nodes:
            kind = "group" if rep.startswith("group:") else "task"
            label = rep[len("group:"):] if kind == "group" else t["task_id"]
            nodes[rep] = GraphNode(rep, label, kind, [], operator=t.get("operator", "") if kind == "task" else "",
                                   mapped=kind == "task" and bool(t.get("mapped")))
            if nodes[rep].mapped and map_counts is not None:
                nodes[rep].map_count = map_counts.get(t["task_id"], 0)
        nodes[rep].members.append(t["task_id"])
    edge_pairs = sorted({(rep_of[t["task_id"]], rep_of[d]) for t in tasks for d in t.get("downstream", [])
                         if d in rep_of and rep_of[t["task_id"]] != rep_of[d]})
    _node_layers(nodes, edge_pairs, task_order)
    _order_layers(nodes, edge_pairs)
    for node in nodes.values():
        node.x = PAD + node.layer * (NODE_W + GAP_X)
        node.y = PAD + node.order * (NODE_H + GAP_Y)
        if states is not None:
            node.status = summary_state([states[m] for m in node.members if m in states])
    edges = [GraphEdge(a, b, _edge(nodes[a], nodes[b])) for a, b in edge_pairs]
    frames = _frames(nodes, groups, expanded)
    width = max((n.x + NODE_W for n in nodes.values()), default=0) + PAD
    height = max((n.y + NODE_H for n in nodes.values()), default=0) + PAD
    return GraphLayout(list(nodes.values()), edges, frames, width, height, groups=sorted(groups))


def _order_layers(nodes: dict[str, GraphNode], edges: list[tuple[str, str]]) -> None:
    layers: dict[int, list[GraphNode]] = {}
    for node in nodes.values():
        layers.setdefault(node.layer, []).append(node)
    for members in layers.values():
        for i, node in enumerate(members):
            node.order = float(i)
    ups: dict[str, list[str]] = {}
    downs: dict[str, list[str]] = {}
    for a, b in edges:
        downs.setdefault(a, []).append(b)
        ups.setdefault(b, []).append(a)
    keys = sorted(layers)
    for sweep in range(4):
        forward = sweep % 2 == 0
        for layer in keys if forward else list(reversed(keys)):
            members = layers[layer]
            neighbours = ups if forward else downs

            def barycenter(node: GraphNode, lookup: dict[str, list[str]] = neighbours) -> float:
                linked = [nodes[n].order for n in lookup.get(node.id, [])]
                return sum(linked) / len(linked) if linked else node.order

            members.sort(key=barycenter)
            for i, node in enumerate(members):
                node.order = float(i)


def _edge(a: GraphNode, b: GraphNode) -> str:
    x1, y1 = a.x + NODE_W, a.y + NODE_H / 2
    x2, y2 = b.x, b.y + NODE_H / 2
    bend = max(abs(x2 - x1) / 2, 30)
    return f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"


def _frames(nodes: dict[str, GraphNode], groups: dict[str, dict[str, Any]], expanded: set[str]) -> list[GroupFrame]:
    frames = []
    for group in sorted(expanded & set(groups), key=lambda g: g.count(".")):
        depth = len(_ancestors(group, groups))
        inside = [n for n in nodes.values()
                  if any(group in _ancestors(g, groups) or g == group for g in _groups_of(n, groups))]
        if not inside or any(a not in expanded for a in _ancestors(group, groups)):
            continue
        pad = max(14 - depth * 3, 4)
        x0 = min(n.x for n in inside) - pad
        y0 = min(n.y for n in inside) - pad - 14
        x1 = max(n.x + NODE_W for n in inside) + pad
        y1 = max(n.y + NODE_H for n in inside) + pad
        frames.append(GroupFrame(group, x0, y0, x1 - x0, y1 - y0))
    return frames


def _groups_of(node: GraphNode, groups: dict[str, dict[str, Any]]) -> list[str]:
    if node.kind == "group":
        return [node.label]
    found = []
    for group, info in groups.items():
        if node.id in info.get("children", []):
            found.append(group)
    return found
