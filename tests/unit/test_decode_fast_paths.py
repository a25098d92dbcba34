"""The decode path's speed-ups keep their promises: strict UUIDs, the GC always back on,
no reference cycles, cattrs only on the first misfit.  (Speed itself is measured in
``benchmarks/``, never asserted here.)"""

from __future__ import annotations

import gc
import json
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any
from uuid import UUID

import orjson
import pytest

from coder_tasks_async import CoderDecodeError, Task, TaskLogs, TasksList
from coder_tasks_async._wire import converter
from coder_tasks_async._wire.converter import decode, parse_uuid

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "v2.28"
GOOD = "89fb1806-dc3f-4287-aa16-2b8dc835698d"


def _task() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "task.json").read_text())
    return data


def _listing(count: int, *, seed: int = 0) -> bytes:
    """A listing over the GC-pause threshold whose every id is new for this seed."""
    tasks = []
    for i in range(count):
        task = _task()
        task["id"] = str(UUID(int=(seed << 64) | i))
        tasks.append(task)
    body = orjson.dumps({"tasks": tasks, "count": count})
    assert len(body) >= converter._PAUSE_GC_BYTES
    return body


# -- UUIDs ------------------------------------------------------------------------------


def _at(index: int, text: str) -> str:
    return GOOD[:index] + text + GOOD[index + len(text) :]


@pytest.mark.parametrize(
    "raw",
    [
        "{" + GOOD + "}",  # braces
        "urn:uuid:" + GOOD,  # URN
        GOOD.replace("-", ""),  # no dashes
        "+" + GOOD[1:],  # a sign int() would take
        "-" + GOOD[1:],
        _at(4, "_"),  # an underscore int() would take
        _at(0, " "),  # whitespace bytes.fromhex would skip ...
        _at(0, "  "),  # ... even when the rest still makes whole bytes
        _at(34, "  "),
        _at(2, "\t\n"),
        _at(9, "\x0b\x0c"),
        _at(0, "\u0668"),  # ARABIC-INDIC DIGIT EIGHT: int() reads it as 8
        _at(0, "\uff18"),  # FULLWIDTH DIGIT EIGHT
        _at(0, "g"),
        _at(2, "-"),  # a dash out of place
        GOOD[:8] + "+" + GOOD[9:],  # a separator that is not a dash
        GOOD + " ",
        GOOD[:-1],
        "",
    ],
)
def test_uuid_parse_refuses_anything_but_the_canonical_form(raw: str) -> None:
    with pytest.raises(ValueError, match="badly formed UUID"):
        parse_uuid(raw)
    assert raw not in converter._UUIDS


@pytest.mark.parametrize("raw", [None, 5, b"89fb1806", ["x"]])
def test_uuid_parse_refuses_other_types(raw: Any) -> None:
    with pytest.raises(TypeError, match="expected a UUID string"):
        parse_uuid(raw)


def test_fresh_uuids_equal_the_stdlib_ones_in_every_way() -> None:
    for n in (0, 1, 2**128 - 1, 0x89FB1806DC3F4287AA162B8DC835698D, 2**127 + 12345):
        expected = UUID(int=n)
        for text in (str(expected), str(expected).upper()):
            converter._UUIDS.pop(text, None)  # force the parse, not the cache
            got = parse_uuid(text)
            assert type(got) is UUID
            assert got == expected and got.int == n
            assert hash(got) == hash(expected)
            assert str(got) == str(expected)
            assert got.is_safe is expected.is_safe
            assert got.version == expected.version and got.variant == expected.variant
            assert orjson.loads(orjson.dumps(str(got))) == str(expected)
            assert pickle.loads(pickle.dumps(got)) == expected
            with pytest.raises(TypeError, match="immutable"):
                got.int = 5  # type: ignore[misc]


@pytest.mark.parametrize("raw", ["{" + GOOD + "}", _at(0, "  "), _at(0, "\u0668")])
def test_a_bad_id_in_a_cold_listing_is_named(raw: str) -> None:
    tasks = [_task() for _ in range(3)]
    tasks[2]["owner_id"] = raw
    with pytest.raises(CoderDecodeError) as info:
        decode(orjson.dumps({"tasks": tasks, "count": 3}), TasksList)
    assert info.value.path == "tasks[2].owner_id"


# -- the cyclic GC ------------------------------------------------------------------------


@pytest.fixture
def gc_collections_inside_decode() -> Iterator[list[str]]:
    """Names of converter functions on the stack each time the GC starts a collection."""
    seen: list[str] = []

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase != "start":
            return
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_globals.get("__name__") == converter.__name__:
                seen.append(frame.f_code.co_name)
                return
            frame = frame.f_back

    old = gc.get_threshold()
    gc.callbacks.append(watch)
    gc.set_threshold(10)  # would collect hundreds of times in one listing
    try:
        yield seen
    finally:
        gc.callbacks.remove(watch)
        gc.set_threshold(*old)
        assert gc.isenabled()


def test_large_bodies_decode_with_the_gc_paused(gc_collections_inside_decode: list[str]) -> None:
    listing = decode(_listing(60, seed=1), TasksList)
    assert len(listing.tasks) == 60
    assert gc_collections_inside_decode == []
    assert gc.isenabled()


def test_small_bodies_leave_the_gc_alone(gc_collections_inside_decode: list[str]) -> None:
    decode(orjson.dumps({"tasks": [_task()], "count": 1}), TasksList)  # under the threshold
    assert gc.isenabled()
    gc_collections_inside_decode.clear()
    # The watcher does see collections in small decodes: the test above can fail.
    # (Tasks new to the decoder each time: a task listed before is handed out again
    # from the memo of listed tasks, allocating next to nothing.)
    for n in range(50):
        tasks = [{**_task(), "id": str(UUID(int=(n << 8) | i))} for i in range(3)]
        decode(orjson.dumps({"tasks": tasks, "count": 3}), TasksList)
    assert gc_collections_inside_decode != []


@pytest.mark.parametrize(
    "spoil",
    [
        lambda body: body.replace(b'"active"', b"7", 1),  # a misfit: the detailed path runs
        lambda body: body[:-5],  # invalid JSON
        lambda body: body.replace(b'"count"', b'"tasks":{},"x"', 1),  # tasks not a list
    ],
)
def test_the_gc_is_back_on_after_a_failing_decode(spoil: Any) -> None:
    with pytest.raises(CoderDecodeError):
        decode(spoil(_listing(60, seed=2)), TasksList)
    assert gc.isenabled()


def test_the_gc_is_back_on_when_a_base_exception_interrupts_a_decode() -> None:
    # KeyboardInterrupt (or a cancellation delivered the same way) mid-structuring.
    def interrupt(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code.co_name == "_structure":
            raise KeyboardInterrupt
        return None

    body = _listing(60, seed=3)
    sys.settrace(interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            decode(body, TasksList)
    finally:
        sys.settrace(None)
    assert gc.isenabled()


def test_a_callers_pause_is_left_as_the_caller_set_it() -> None:
    gc.disable()
    try:
        decode(_listing(60, seed=4), TasksList)
        assert not gc.isenabled()  # not switched back on behind the caller's back
        with pytest.raises(CoderDecodeError):
            decode(b"[" + _listing(60, seed=5), TasksList)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_decoded_models_hold_no_reference_cycles() -> None:
    logs = orjson.dumps(
        {
            "logs": [
                {"id": i, "content": "x" * i, "type": "output", "time": "2025-10-27T14:03:38Z"}
                for i in range(500)
            ],
            "snapshot": True,
            "snapshot_at": "2025-10-27T14:03:38Z",
        }
    )
    bodies = [(_listing(60, seed=6), TasksList), (logs, TaskLogs)]
    for body, cls in bodies:  # first decodes build the hooks: not garbage
        decode(body, cls)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for body, cls in bodies * 3:
            result = decode(body, cls)
            del result
        task = decode(_listing(60, seed=7), TasksList).tasks[0]
        assert isinstance(task, Task)
        del task
        unreachable = gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert garbage == []
    assert unreachable == 0


# -- import cost ---------------------------------------------------------------------------


def test_cattrs_is_imported_only_on_the_first_misfit() -> None:
    script = textwrap.dedent(
        """
        import sys
        import coder_tasks_async
        from coder_tasks_async import CoderDecodeError, Task
        from coder_tasks_async._wire.converter import decode
        assert "cattrs" not in sys.modules, "imported with the package"
        body = open(sys.argv[1], "rb").read()
        decode(body, Task)
        assert "cattrs" not in sys.modules, "imported for a good body"
        try:
            decode(body.replace(b'"active"', b"7"), Task)
        except CoderDecodeError as exc:
            assert exc.path == "status", exc.path
        assert "cattrs" in sys.modules
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(FIXTURES / "task.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
