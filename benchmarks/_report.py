"""Result rows, the ratio table and the JSON dump."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import orjson

__all__ = ["Row", "fmt_time", "render", "write_json"]


@attrs.define(kw_only=True)
class Row:
    """One figure: SDK against its baseline, with the ratio and (maybe) a target."""

    bench: str
    figure: str
    sdk: str
    baseline: str
    #: The number compared against ``target``; its meaning is spelled out in ``unit``.
    ratio: float | None
    unit: str
    target: str = ""
    passed: bool | None = None
    data: dict[str, Any] = attrs.field(factory=dict)


def fmt_time(seconds: float) -> str:
    """Human units for a duration."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} us"


def _verdict(row: Row) -> str:
    if row.passed is None:
        return ""
    return "PASS" if row.passed else "FAIL"


def render(rows: list[Row]) -> str:
    """A plain-text table (fits a terminal and pastes into an issue)."""
    header = ("benchmark", "figure", "SDK", "baseline", "ratio", "target", "")
    body = [
        (
            r.bench,
            r.figure,
            r.sdk,
            r.baseline,
            "" if r.ratio is None else f"{r.ratio:.2f} {r.unit}",
            r.target,
            _verdict(r),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in body
    ]
    return "\n".join(lines)


def write_json(rows: list[Row], path: Path, meta: dict[str, Any]) -> None:
    payload = {"meta": meta, "rows": [attrs.asdict(r) for r in rows]}
    path.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))


def _span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f}"


def render_ranges(runs: list[list[dict[str, Any]]]) -> str:
    """Several saved runs (``--json``) as one table: each row's ratio as a range.

    What the README's performance table is written from: the range of the ratios over
    the runs (ratios are same-run; absolute times are not comparable between runs) and
    how many runs met the target.
    """
    ratios: dict[tuple[str, str], list[float]] = {}
    first: dict[tuple[str, str], dict[str, Any]] = {}
    verdicts: dict[tuple[str, str], list[bool]] = {}
    for rows in runs:
        for row in rows:
            key = (row["bench"], row["figure"])
            first.setdefault(key, row)
            if row["ratio"] is not None:
                ratios.setdefault(key, []).append(row["ratio"])
            if row["passed"] is not None:
                verdicts.setdefault(key, []).append(row["passed"])
    header = ("benchmark", "figure", "ratio range", "target", "met")
    body = []
    for key, row in first.items():
        values = ratios.get(key)
        met = verdicts.get(key)
        body.append(
            (
                key[0],
                key[1],
                "" if not values else f"{_span(values)} {row['unit']} ({len(values)} runs)",
                row["target"],
                "" if not met else f"{sum(met)}/{len(met)}",
            )
        )
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
