"""The ratio table as an SVG bar chart, written with plain Python (no plotting library).

One bar per figure that compares the SDK with its baseline (a unit of the form
``x <baseline>``), drawn from 1x on a logarithmic axis as the SDK's *cost* against
the baseline: a time or CPU ratio as it is, a ratio where higher is better
(throughput, "x faster") inverted, so that left of the line always means the SDK
does better (teal) and right of it the baseline does (orange).  Each bar is
labelled with the figure as the table gives it.  Figures that are not ratios
(seconds, requests a minute) stay in the table only.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

__all__ = ["HIGHER_IS_BETTER", "chartable", "describe", "svg_chart"]

#: Units whose ratio is better above 1 (all others are costs: better below 1).
HIGHER_IS_BETTER = ("x raw req/s", "x faster")

_WIDTH = 960
_LABEL = 430  # the left column: "benchmark: figure"
_ROW = 22
_TOP = 64
_LOW, _HIGH = 0.05, 20.0  # the axis; a ratio beyond it is drawn at its end
_TICKS = (0.1, 0.25, 0.5, 1, 2, 4, 10)
_SDK_WINS, _BASELINE_WINS = "#0f8b8d", "#e07a1f"


def chartable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows the chart shows: a ratio against a baseline."""
    return [
        r
        for r in rows
        if isinstance(r.get("ratio"), int | float)
        and math.isfinite(r["ratio"])
        and r["ratio"] > 0
        and str(r.get("unit", "")).startswith("x ")
    ]


def _x(ratio: float) -> float:
    """Where ``ratio`` sits on the axis (pixels from the left edge)."""
    span = math.log10(_HIGH) - math.log10(_LOW)
    clamped = min(max(ratio, _LOW), _HIGH)
    return _LABEL + (math.log10(clamped) - math.log10(_LOW)) / span * (_WIDTH - _LABEL - 150)


def svg_chart(rows: list[dict[str, Any]], subtitle: str = "") -> str:
    """The chart of ``rows`` (dicts with ``bench``, ``figure``, ``ratio``, ``unit``, as
    ``benchmarks/run.py --json`` writes them) as an SVG document."""
    shown = chartable(rows)
    height = _TOP + _ROW * len(shown) + 56
    one = _x(1.0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" font-family="sans-serif" font-size="12">',
        "<title>coder-tasks-async: the SDK against raw aiohttp + orjson</title>",
        f'<rect width="{_WIDTH}" height="{height}" fill="#ffffff"/>',
        '<text x="12" y="22" font-size="15" font-weight="bold">'
        "The SDK's cost against its baseline (log scale; left of 1x the SDK does better)"
        "</text>",
        f'<text x="12" y="42" fill="#555555">{escape(subtitle)}</text>',
    ]
    for tick in _TICKS:
        x = _x(tick)
        out.append(
            f'<line x1="{x:.1f}" y1="{_TOP - 8}" x2="{x:.1f}" y2="{height - 44}" '
            f'stroke="{"#333333" if tick == 1 else "#dddddd"}"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{height - 30}" text-anchor="middle" fill="#555555">'
            f"{tick:g}x</text>"
        )
    for i, row in enumerate(shown):
        y = _TOP + i * _ROW
        ratio, unit = float(row["ratio"]), str(row["unit"])
        cost = 1 / ratio if unit in HIGHER_IS_BETTER else ratio
        x = _x(cost)
        left, width = min(x, one), max(abs(x - one), 1.0)
        label = f"{row['bench']}: {row['figure']}"
        out += [
            f'<text x="{_LABEL - 8}" y="{y + 14}" text-anchor="end">{escape(label[:64])}</text>',
            f'<rect x="{left:.1f}" y="{y + 3}" width="{width:.1f}" height="{_ROW - 6}" '
            f'fill="{_SDK_WINS if cost <= 1 else _BASELINE_WINS}"/>',
            f'<text x="{max(x, one) + 6:.1f}" y="{y + 14}">{ratio:.2f} {escape(unit)}</text>',
        ]
    out += [
        f'<rect x="12" y="{height - 18}" width="12" height="10" fill="{_SDK_WINS}"/>',
        f'<text x="30" y="{height - 9}">the SDK does better</text>',
        f'<rect x="180" y="{height - 18}" width="12" height="10" fill="{_BASELINE_WINS}"/>',
        f'<text x="198" y="{height - 9}">the baseline does better '
        f"({' and '.join(HIGHER_IS_BETTER)}: drawn inverted, as a cost)</text>",
        "</svg>",
    ]
    return "\n".join(out) + "\n"


def describe(meta: dict[str, Any]) -> str:
    """The chart's subtitle: which run it shows (``meta`` as ``run.py --json`` saves it)."""
    kind = "quick run (indicative only)" if meta.get("quick") else "full run"
    when = f", {meta['date']}" if meta.get("date") else ""
    return f"One {kind}{when}: Python {meta.get('python', '?')} on {meta.get('platform', '?')}"
