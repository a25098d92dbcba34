"""The benchmark chart (benchmarks/_chart.py, ``run.py --svg``) and the one the site shows."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET

from codeblocks import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from _chart import chartable, describe, svg_chart

SVG = "{http://www.w3.org/2000/svg}"
TEAL, ORANGE = "#0f8b8d", "#e07a1f"


def row(figure: str, ratio: float | None, unit: str) -> dict[str, object]:
    return {"bench": "b", "figure": figure, "ratio": ratio, "unit": unit}


def bars(svg: str) -> dict[str, tuple[float, float, str]]:
    """``label -> (left, width, colour)`` of each bar, read back from the SVG."""
    root = ET.fromstring(svg)
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("height") == "16"]
    assert len(labels) == len(rects)
    return {
        str(label): (float(r.get("x", 0)), float(r.get("width", 0)), str(r.get("fill")))
        for label, r in zip(labels, rects, strict=True)
    }


def test_each_ratio_is_a_bar_coloured_by_who_does_better() -> None:
    rows = [
        row("cpu", 1.25, "x raw CPU"),  # a cost above 1: the baseline does better
        row("decode", 0.5, "x orjson.loads"),  # a cost below 1: the SDK does better
        row("throughput", 0.8, "x raw req/s"),  # higher is better: 0.8 is a cost of 1.25
        row("structuring", 7.0, "x faster"),  # higher is better: a cost of 1/7
        row("latency", 0.01, "s (wake)"),  # not a ratio: the table only
        row("missing", None, "x raw CPU"),
        row("broken", float("nan"), "x raw CPU"),
    ]
    assert [r["figure"] for r in chartable(rows)] == ["cpu", "decode", "throughput", "structuring"]
    drawn = bars(svg_chart(rows, "one run"))
    assert set(drawn) == {"b: cpu", "b: decode", "b: throughput", "b: structuring"}
    one = drawn["b: cpu"][0]  # the bar of a cost above 1 starts at 1x
    assert drawn["b: cpu"][2] == drawn["b: throughput"][2] == ORANGE
    assert drawn["b: decode"][2] == drawn["b: structuring"][2] == TEAL
    assert drawn["b: throughput"][:2] == drawn["b: cpu"][:2]  # 1 / 0.8 == 1.25
    left, width, _ = drawn["b: decode"]
    assert left + width == one  # below 1: drawn from its value up to the 1x line


def test_text_is_escaped() -> None:
    svg = svg_chart([row("a < b & c", 2.0, "x raw CPU")], 'run "<1>"')
    assert "b: a < b & c" in bars(svg)
    assert 'run "<1>"' in "".join(ET.fromstring(svg).itertext())


def test_the_site_shows_the_chart_of_its_saved_run() -> None:
    """docs/assets/benchmarks.svg is what ``run.py --from-json`` draws from the saved
    figures beside it, so the two cannot disagree."""
    saved = json.loads((ROOT / "docs/assets/benchmarks.json").read_text())
    drawn = svg_chart(saved["rows"], describe(saved["meta"]))
    assert (ROOT / "docs/assets/benchmarks.svg").read_text() == drawn
    assert len(chartable(saved["rows"])) >= 5
