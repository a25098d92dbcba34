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
