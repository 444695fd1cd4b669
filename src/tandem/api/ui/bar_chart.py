"""Small server-rendered SVG charts (no script, no CDN: the CSP allows neither)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT, GAP = 240, 48, 2


def stacked_bars(buckets: Sequence[dict[str, int]], states: Sequence[str], *, label: str,
                 bucket_seconds: int) -> Markup:
    """One bar per time bucket (oldest left), stacked by state; each bar has a tooltip of its counts."""
    peak = max((sum(b.get(s, 0) for s in states) for b in buckets), default=0) or 1
    width = (WIDTH - GAP * (len(buckets) - 1)) / max(len(buckets), 1)
    parts: list[str] = [f'<svg class="bars" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
                        f'preserveAspectRatio="none" role="img" aria-label="{escape(label)}">']
    for i, bucket in enumerate(buckets):
        x = i * (width + GAP)
        y = float(HEIGHT)
        minutes_ago = (len(buckets) - i) * bucket_seconds // 60
        title = f"{minutes_ago} min ago: " + ", ".join(f"{s} {bucket.get(s, 0)}" for s in states)
        parts.append(f"<g><title>{escape(title)}</title>")
        for state in states:
            count = bucket.get(state, 0)
            if not count:
                continue
            h = HEIGHT * count / peak
            y -= h
            parts.append(f'<rect class="bar-{escape(state)}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                         f'height="{h:.1f}"></rect>')
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def chart_context(outcome: dict[str, Any], states: Sequence[str], label: str) -> Markup:
    return stacked_bars(outcome["buckets"], states, label=label, bucket_seconds=outcome["bucket_seconds"])
