"""Bulk decodes without HTTP: 1,000-task listings (warm, cold), one task (cold), 10,000 entries.

"Warm" decodes the same body again and again, so every UUID string is already in the
converter's cache.  "Cold" gives every call a body it has never seen (fresh UUIDs),
which is what a first listing, or a fleet whose tasks change, costs.  The single-task
row decodes as ``get_task`` does (``decode_task``, whose memo of recent bodies never
hits here) a task whose every UUID is new.

Each SDK figure is printed beside its floor, ``orjson.loads`` of the same bytes (the
work every Python client has to do), and beside ``msgspec``'s typed decode of an
equivalent schema, the fastest typed JSON decode in Python, and pydantic v2's
``model_validate_json`` on twins of the models (``_pydantic_twins.py``), what a typed SDK
built the usual way pays, as references.  Each is measured only when installed (``pip
install msgspec``, ``pip install -e '.[bench]'``); neither is a dependency.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from _measure import Settings, micro
from _pydantic_twins import twins
from _report import Row, fmt_time

from coder_tasks_async._wire import converter
from coder_tasks_async._wire.models import TaskLogs, TasksList

__all__ = ["bench_bulk"]

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "v2.28"
TASKS = 1_000
ENTRIES = 10_000
LIST_WARM_TARGET = 2.5  # x orjson.loads, per task
LIST_COLD_TARGET = 3.0  # issue 27 (3.5 in issue 15)
_UUID_FIELDS = (
    "id",
    "organization_id",
    "owner_id",
    "template_id",
    "template_version_id",
    "workspace_id",
    "workspace_agent_id",
    "workspace_app_id",
)


def _listing(rng_seed: int) -> bytes:
    """A listing of TASKS active tasks whose every UUID is new (deterministic per seed)."""
    base = json.loads((FIXTURES / "task.json").read_text())
    tasks = []
    for i in range(TASKS):
        task = copy.deepcopy(base)
        for k, field in enumerate(_UUID_FIELDS):
            task[field] = str(uuid.UUID(int=(rng_seed << 64) | (i << 8) | k))
        task["name"] = f"task-{rng_seed}-{i}"
        tasks.append(task)
    return orjson.dumps({"tasks": tasks, "count": len(tasks)})


def _logs() -> bytes:
    """ENTRIES entries cycling through the fixture's messages, each at a time of its own
    (as a real conversation's are; the SDK remembers decoded entries by their time)."""
    from _server import build_entries

    return orjson.dumps({"logs": build_entries(ENTRIES)})


def _msgspec_types() -> tuple[Any, Any] | None:
    """msgspec decoders for twins of ``TasksList`` and ``TaskLogs``, if msgspec is installed."""
    try:
        import _msgspec_twins
    except ImportError:
        return None
    return _msgspec_twins.decoders()


def _msgspec_single() -> Callable[[bytes], Any]:
    import _msgspec_twins

    return _msgspec_twins.single_decoders()[0]


def _cycle(bodies: list[bytes]) -> Callable[[], bytes]:
    """Each call returns the next body, round-robin (a fresh body per call when long enough)."""
    state = {"i": -1}

    def nxt() -> bytes:
        state["i"] = (state["i"] + 1) % len(bodies)
        return bodies[state["i"]]

    return nxt


def bench_bulk(settings: Settings) -> list[Row]:
    ms = _msgspec_types()
    pyd = twins()
    repeat = settings.pick(3, 7)
    rows: list[Row] = []

    # Warm: one body, decoded again and again.
    warm = _listing(0)
    cands: dict[str, Callable[[], object]] = {
        "sdk": lambda: converter.decode(warm, TasksList),
        "orjson": lambda: orjson.loads(warm),
    }
    if ms is not None:
        cands["msgspec"] = lambda: ms[0](warm)
    if pyd is not None:
        cands["pydantic"] = lambda: pyd.decode_listing(warm)
    per = micro(cands, number=settings.pick(3, 10), repeat=repeat)
    rows.append(_row("list_tasks 1k warm", per, TASKS, LIST_WARM_TARGET))

    # Cold: a body never seen before on every call (more bodies than calls in a loop).
    number = settings.pick(3, 6)
    # micro warms up with min(number, 200) calls, then runs `repeat` loops of `number`.
    count = number * (repeat + 1) * 3 + 1
    bodies = [_listing(seed) for seed in range(1, count + 1)]
    nxt_sdk, nxt_raw, nxt_ms, nxt_pyd = (_cycle(bodies) for _ in range(4))
    cands = {
        "sdk": lambda: converter.decode(nxt_sdk(), TasksList),
        "orjson": lambda: orjson.loads(nxt_raw()),
    }
    if ms is not None:
        cands["msgspec"] = lambda: ms[0](nxt_ms())
    if pyd is not None:
        cands["pydantic"] = lambda: pyd.decode_listing(nxt_pyd())
    per = micro(cands, number=number, repeat=repeat)
    rows.append(_row("list_tasks 1k cold", per, TASKS, LIST_COLD_TARGET))
    rows.append(_cold_floor(bodies[0], per["orjson"] / TASKS, settings))
    del bodies

    # get_task cold: single-task bodies cut from fresh listings, each decoded once a cycle.
    number = settings.pick(100, 200)
    singles = [
        orjson.dumps(task)
        for seed in range(1, 4)
        for task in orjson.loads(_listing(1_000 + seed))["tasks"]
    ]
    nxt_sdk, nxt_raw, nxt_ms, nxt_pyd = (_cycle(singles) for _ in range(4))
    cands = {
        "sdk": lambda: converter.decode_task(nxt_sdk()),
        "orjson": lambda: orjson.loads(nxt_raw()),
    }
    if ms is not None:
        single = _msgspec_single()
        cands["msgspec"] = lambda: single(nxt_ms())
    if pyd is not None:
        cands["pydantic"] = lambda: pyd.decode_task(nxt_pyd())
    per = micro(cands, number=number, repeat=repeat)
    rows.append(_row("get_task cold", per, 1, None))
    del singles

    logs = _logs()
    cands = {
        "sdk": lambda: converter.decode(logs, TaskLogs),
        "orjson": lambda: orjson.loads(logs),
    }
    if ms is not None:
        cands["msgspec"] = lambda: ms[1](logs)
    if pyd is not None:
        cands["pydantic"] = lambda: pyd.decode_logs(logs)
    per = micro(cands, number=settings.pick(2, 5), repeat=repeat)
    rows.append(_row("get_logs 10k decode", per, ENTRIES, None))
    return rows


def _floor_builder(body: bytes, parse: bool) -> Callable[[], object]:
    """A function creating what decoding ``body`` into models must create, and nothing else.

    Per task: its new UUID objects, then the Task and its two nested models, every
    other value already at hand, each object filled by plain slot stores as the
    generated code does.  The UUIDs' ints are worked out beforehand, or with ``parse``
    from their strings (``bytes.fromhex`` of the string without dashes, then
    ``int.from_bytes``: no shape checks, no cache).  The fixture's timestamps are the same
    in every task, so no datetime is new.  A lower bound for any decoder that builds
    these objects in Python, however clever.
    """
    from coder_tasks_async._wire import codegen
    from coder_tasks_async._wire.models import Task, TaskStateEntry, WorkspaceAgentHealth

    decoded = converter.decode(body, TasksList).tasks
    lines = ["def build():", "    out = []", "    for t, ints in rows:"]
    for k in range(len(_UUID_FIELDS)):
        value = f"B(X(ints[{k}].replace('-', '')))" if parse else f"ints[{k}]"
        lines += [f"        u{k} = F()", f"        u{k}.int = {value}"]
        lines += [f"        u{k}.is_safe = S", f"        u{k}.__class__ = U"]
    lines += ["        h = BH()"]
    lines += [f"        h.{f} = t.workspace_agent_health.{f}" for f in ("healthy", "reason")]
    lines += ["        h.__class__ = H", "        c = BC()"]
    lines += [
        f"        c.{f} = t.current_state.{f}" for f in ("timestamp", "state", "message", "uri")
    ]
    lines += ["        c.__class__ = C", "        o = BT()"]
    for name in (a.name for a in Task.__attrs_attrs__):
        if name in _UUID_FIELDS:
            lines.append(f"        o.{name} = u{_UUID_FIELDS.index(name)}")
        elif name == "workspace_agent_health":
            lines.append(f"        o.{name} = h")
        elif name == "current_state":
            lines.append(f"        o.{name} = c")
        else:
            lines.append(f"        o.{name} = t.{name}")
    lines += ["        o.__class__ = T", "        out.append(o)", "    return out"]
    ns: dict[str, Any] = {
        # With ``parse``, each task's UUID strings, new objects as orjson would hand out.
        "rows": [
            (t, [str(getattr(t, f)) if parse else getattr(t, f).int for f in _UUID_FIELDS])
            for t in decoded
        ],
        "B": int.from_bytes,
        "X": bytes.fromhex,
        "F": converter._FreshUUID,
        "S": uuid.SafeUUID.unknown,
        "U": uuid.UUID,
        "BH": codegen._builder(WorkspaceAgentHealth),
        "H": WorkspaceAgentHealth,
        "BC": codegen._builder(TaskStateEntry),
        "C": TaskStateEntry,
        "BT": codegen._builder(Task),
        "T": Task,
    }
    exec("\n".join(lines), ns)
    build: Callable[[], object] = ns["build"]
    assert build() == decoded  # the very objects a decode makes
    return build


def _cold_floor(body: bytes, loads_per_task: float, settings: Settings) -> Row:
    """``orjson.loads`` plus creating a cold listing's objects, per task, with the UUID
    strings parsed as cheaply as Python can (no checks, no cache): what no decoder in
    Python can go below (objects alone, without the parse, in ``data``)."""
    per = micro(
        {"objects": _floor_builder(body, False), "parsed": _floor_builder(body, True)},
        number=settings.pick(3, 6),
        repeat=settings.pick(3, 7),
    )
    floor = loads_per_task + per["parsed"] / TASKS
    return Row(
        bench="list_tasks 1k cold",
        figure="floor: loads + objects + UUID parse",
        sdk=fmt_time(floor),
        baseline=f"{fmt_time(loads_per_task)} (loads)",
        ratio=floor / loads_per_task,
        unit="x orjson.loads",
        data={
            "floor_s": floor,
            "orjson_s": loads_per_task,
            "objects_s": per["objects"] / TASKS,
            "parsed_s": per["parsed"] / TASKS,
        },
    )


def _row(bench: str, per: dict[str, float], items: int, target: float | None) -> Row:
    sdk, floor = per["sdk"] / items, per["orjson"] / items
    ref, pyd = per.get("msgspec"), per.get("pydantic")
    ref_text = "msgspec n/a" if ref is None else f"msgspec {fmt_time(ref / items)}"
    ref_text += "; pydantic n/a" if pyd is None else f"; pydantic {fmt_time(pyd / items)}"
    row = Row(
        bench=bench,
        figure="decode per item (no HTTP)",
        sdk=fmt_time(sdk),
        baseline=f"{fmt_time(floor)} (loads); {ref_text}",
        ratio=sdk / floor,
        unit="x orjson.loads",
        data={
            "sdk_s": sdk,
            "orjson_s": floor,
            "msgspec_s": None if ref is None else ref / items,
            "pydantic_s": None if pyd is None else pyd / items,
        },
    )
    if target is not None:
        row.target = f"<= {target:.1f}x"
        row.passed = row.ratio is not None and row.ratio <= target
    return row
