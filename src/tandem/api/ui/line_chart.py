"""Line charts drawn on the server as SVG: axes with ticks, one polyline per series, a legend.

The page's Content-Security-Policy forbids inline styles, so colours are SVG presentation
attributes (``stroke``), which it allows, and the rest of the look is in ``views.css``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Colour-blind friendly (Okabe-Ito, then Tableau); series past these reuse them with a dash.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
           "#4e79a7", "#9c755f")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
WIDTH, HEIGHT = 900, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 48


@dataclass
class Point:
    x: float
    y: float
    title: str


@dataclass
class Series:
    name: str
    color: str
    dash: str
    points: list[Point] = field(default_factory=list)

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass
class Chart:
    width: int
    height: int
    plot: tuple[int, int, int, int]  # left, top, right, bottom
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    y_title: str
    series: list[Series]
    legend_height: int


def _unit(largest: float) -> tuple[float, str]:
    if largest >= 2 * 3600:
        return 3600.0, "hours"
    if largest >= 2 * 60:
        return 60.0, "minutes"
    return 1.0, "seconds"


def _nice_step(top: float, ticks: int = 5) -> float:
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def line_chart(x_labels: list[str], values: dict[str, list[float | None]], what: str) -> Chart:
    """A chart of ``values`` (series name -> one value in seconds per x label, None for none)."""
    numbers = [v for vs in values.values() for v in vs if v is not None]
    scale, unit = _unit(max((abs(v) for v in numbers), default=1.0))
    low = min(min(numbers, default=0.0), 0.0) / scale
    high = max(max(numbers, default=1.0), 0.0) / scale
    step = _nice_step(max(high - low, 1e-9))
    low, high = math.floor(low / step) * step, max(math.ceil(high / step) * step, step)
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    n = max(len(x_labels), 1)

    def x_at(i: int) -> float:
        return LEFT + (right - LEFT) * (i + 0.5) / n

    def y_at(v: float) -> float:
        return bottom - (bottom - TOP) * (v - low) / (high - low)

    ticks = [(y_at(low + i * step), f"{low + i * step:g}") for i in range(int(round((high - low) / step)) + 1)]
    # Label at most ~12 runs along the axis; every point still has its own tooltip.
    every = max(1, math.ceil(n / 12))
    labels = [(x_at(i), label) for i, label in enumerate(x_labels) if i % every == 0]
    series = []
    for k, (name, vs) in enumerate(sorted(values.items())):
        s = Series(name, PALETTE[k % len(PALETTE)], DASHES[(k // len(PALETTE)) % len(DASHES)])
        s.points = [Point(x_at(i), y_at(v / scale), f"{name} · {x_labels[i]}: {v / scale:.2f} {unit}")
                    for i, v in enumerate(vs) if v is not None]
        series.append(s)
    legend_rows = math.ceil(len(series) / 4)
    return Chart(WIDTH, HEIGHT + 18 * legend_rows + 6, (LEFT, TOP, right, bottom), labels, ticks,
                 f"{what} ({unit})", series, legend_rows)
