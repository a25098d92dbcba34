"""Structuring one ``Task`` and one ``TaskLogEntry``: SDK converter vs stock cattrs vs pydantic.

No HTTP here: timeit-style loops over the fixtures in ``tests/fixtures``.  The stock
cattrs converter gets only the hooks any user would have to add (``UUID(str)`` and
``datetime.fromisoformat``); pydantic v2 is optional and reported as n/a if absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import cattrs
import orjson
from _measure import Settings, micro
from _pydantic_twins import twins
from _report import Row, fmt_time

from coder_tasks_async._wire import converter
from coder_tasks_async._wire.models import Task, TaskLogEntry

__all__ = ["bench_structuring"]

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "v2.28"
TASK_TARGET = 1.8
ENTRY_TARGET = 1.5e-6


def stock_converter() -> cattrs.Converter:
    stock = cattrs.Converter()
    stock.register_structure_hook(UUID, lambda value, _: UUID(value))
    stock.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    return stock


def pydantic_models() -> tuple[Any, Any] | None:
    """Pydantic twins of ``Task`` and ``TaskLogEntry`` (``_pydantic_twins.py``), if installed."""
    models = twins()
    return None if models is None else (models.task, models.entry)


def msgspec_decoders() -> tuple[Any, Any] | None:
    """msgspec decoders for twins of ``Task`` and ``TaskLogEntry``, if msgspec is installed."""
    try:
        import _msgspec_twins
    except ImportError:
        return None
    return _msgspec_twins.single_decoders()


def _candidates(
    cls: type[Any], pyd: Any | None, ms: Any | None, data: dict[str, Any], body: bytes
) -> dict[str, Callable[[], object]]:
    stock = stock_converter()
    out: dict[str, Callable[[], object]] = {
        "sdk": lambda: converter.structure(data, cls),
        "sdk_bytes": lambda: converter.decode(body, cls),
        "cattrs": lambda: stock.structure(data, cls),
        "cattrs_bytes": lambda: stock.structure(orjson.loads(body), cls),
        "orjson": lambda: orjson.loads(body),
    }
    if ms is not None:
        out["msgspec"] = lambda: ms(body)
    if pyd is not None:
        out["pydantic_json"] = lambda: pyd.model_validate_json(body)
        out["pydantic_dict"] = lambda: pyd.model_validate(data)
    # Same result, so the comparison is fair.
    assert stock.structure(data, cls) == converter.structure(data, cls)
    return out


def _rows(name: str, per: dict[str, float]) -> list[Row]:
    sdk, stock = per["sdk"], per["cattrs"]
    pyd_json = per.get("pydantic_json")
    na = "n/a (pydantic missing)"
    ms_s = per.get("msgspec")
    ms_text = "msgspec n/a" if ms_s is None else f"msgspec {fmt_time(ms_s)}"
    return [
        Row(
            bench=f"structure {name}",
            figure="dict -> model vs stock cattrs",
            sdk=fmt_time(sdk),
            baseline=fmt_time(stock) + " (cattrs)",
            ratio=stock / sdk,
            unit="x faster",
            data={"sdk_s": sdk, "cattrs_s": stock},
        ),
        Row(
            bench=f"structure {name}",
            figure="bytes -> model vs cattrs+orjson",
            sdk=fmt_time(per["sdk_bytes"]),
            baseline=fmt_time(per["cattrs_bytes"]) + " (cattrs)",
            ratio=per["cattrs_bytes"] / per["sdk_bytes"],
            unit="x faster",
            data={"sdk_s": per["sdk_bytes"], "cattrs_s": per["cattrs_bytes"]},
        ),
        Row(
            bench=f"structure {name}",
            figure="bytes -> model vs pydantic json",
            sdk=fmt_time(per["sdk_bytes"]),
            baseline=na if pyd_json is None else fmt_time(pyd_json) + " (pydantic)",
            ratio=None if pyd_json is None else pyd_json / per["sdk_bytes"],
            unit="x faster",
            data={"sdk_s": per["sdk_bytes"], "pydantic_json_s": pyd_json},
        ),
        Row(
            bench=f"structure {name}",
            figure="bytes -> model vs orjson floor",
            sdk=fmt_time(per["sdk_bytes"]),
            baseline=fmt_time(per["orjson"]) + " (loads); " + ms_text,
            ratio=per["sdk_bytes"] / per["orjson"],
            unit="x orjson.loads",
            data={"sdk_s": per["sdk_bytes"], "orjson_s": per["orjson"], "msgspec_s": ms_s},
        ),
    ]


def bench_structuring(settings: Settings) -> list[Row]:
    models = pydantic_models()
    p_task, p_entry = models if models is not None else (None, None)
    ms = msgspec_decoders()
    ms_task, ms_entry = ms if ms is not None else (None, None)
    task_body = (FIXTURES / "task.json").read_bytes()
    logs = json.loads((FIXTURES / "task_logs.json").read_text())["logs"]
    entry = next(e for e in logs if e["type"] == "output" and len(e["content"]) > 200)
    entry_body = orjson.dumps(entry)
    number, repeat = settings.pick(2_000, 20_000), settings.pick(5, 9)

    task_per = micro(
        _candidates(Task, p_task, ms_task, orjson.loads(task_body), task_body),
        number=number,
        repeat=repeat,
    )
    entry_per = micro(
        _candidates(TaskLogEntry, p_entry, ms_entry, orjson.loads(entry_body), entry_body),
        number=number * 5,
        repeat=repeat,
    )
    task_rows = _rows("Task", task_per)
    task_rows[0].target = f">= {TASK_TARGET:.1f}x"
    task_rows[0].passed = (task_rows[0].ratio or 0.0) >= TASK_TARGET
    entry_rows = _rows("TaskLogEntry", entry_per)
    entry_rows[0].target = f"<= {ENTRY_TARGET * 1e6:.1f} us"
    entry_rows[0].passed = entry_per["sdk"] <= ENTRY_TARGET
    for key in ("pydantic_dict",):
        if key in task_per:
            task_rows[2].data[key + "_s"] = task_per[key]
            entry_rows[2].data[key + "_s"] = entry_per[key]
    return task_rows + entry_rows
