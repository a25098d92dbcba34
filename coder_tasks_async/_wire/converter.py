"""The one converter: JSON bytes in, models out, precise errors on misfit.

Two paths share the same hooks.  The fast one structures every response, with
generated per-model functions (:mod:`.codegen`) and no cattrs at all.  Only when
it fails does cattrs' detailed converter run on the same data, to name the exact
field path in the error: success pays nothing for good error messages.  Both are
built on first use, so ``import coder_tasks_async`` neither imports cattrs nor
generates code.

The hooks are tuned because structuring is most of the SDK's CPU per request:
UUIDs skip ``UUID.__init__``'s generic parsing, enums are a dict lookup, and
timestamps go straight to ``datetime.fromisoformat`` (which on 3.11 accepts
``Z``, any offset and 9 fractional digits).  Large bodies are decoded with the
cyclic garbage collector paused: the models hold no reference cycles, and
scanning thousands of fresh objects again and again cost a third of a listing.

What was decoded is remembered and handed out again (every value is immutable):
parsed UUIDs and timestamps by their string, ``get_task`` bodies by digest, listed
tasks by id and log entries by time, the last two only when every other field
matches as strictly as building would judge it (:mod:`.recall`); a list fetched again
is compared first with its last run, element by element (:class:`_Runs`).  Each memo is
emptied when full and sized to the largest listing or conversation decoded
(:func:`_fit_caches`); docs/architecture.md has the table.
"""

from __future__ import annotations

import binascii
import gc
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import UnionType
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin
from uuid import UUID, SafeUUID

import orjson

from . import codegen
from .errors import CoderDecodeError
from .models import (
    OpenEnum,
    ProvisionerJob,
    ProvisionerJobStatus,
    Task,
    TaskLogEntry,
    TaskLogs,
    TaskLogType,
    TasksList,
    TaskState,
    TaskStateEntry,
    TaskStatus,
    WorkspaceAgentHealth,
    WorkspaceAgentLifecycle,
    WorkspaceBuild,
    WorkspaceStatus,
    WorkspaceTransition,
)

if TYPE_CHECKING:
    import cattrs

__all__ = ["decode", "decode_task", "loads", "parse_datetime", "parse_uuid", "structure"]

T = TypeVar("T")

_SNIPPET = 200

#: A ``get_task`` body decoded (:func:`decode_task`): its size, last ``_TAIL`` bytes,
#: ``hash`` (``None``: not worked out), Task, and whether it repeated or was the
#: first seen of its task (``steady``: the next body is hashed without looking first).
_Seen = tuple[int, bytes, int | None, Task, bool]


class _FreshUUID(UUID):
    """A UUID being filled in: plain slot stores, then its class becomes ``UUID``.

    ``UUID.__setattr__`` refuses every assignment; going around it through the slot
    descriptors costs two method calls, twice what the stores and the class switch do
    (the same trick as the generated model functions, see :mod:`.codegen`).  Calling
    the class runs ``object.__init__`` only, cheaper than ``object.__new__(cls)``.
    """

    __slots__ = ()
    __setattr__ = object.__setattr__  # type: ignore[assignment]
    __init__ = object.__init__


_from_hex = binascii.unhexlify  # a third fewer instructions than bytes.fromhex
_from_bytes = int.from_bytes
_UNKNOWN = SafeUUID.unknown  # an Enum attribute lookup costs more than the rest of the parse


#: Recently parsed UUIDs.  Pollers see the same ids again and again (a task's own ids,
#: its owner, organization and template), so most parses become one dict lookup.
#: UUIDs are immutable, so sharing them is safe; the cache is simply emptied when full.
_UUIDS: dict[str, UUID] = {}
#: How many entries each cache of parsed strings holds before it is emptied: at least
#: this, and more once a larger listing or conversation has been decoded (:func:`_fit_caches`).
_CACHE_FLOOR = 16_384
_UUIDS_MAX = _CACHE_FLOOR


def parse_uuid(value: object, _: Any = None) -> UUID:
    """Parse a canonical UUID string (what Coder sends) several times faster than ``UUID(s)``."""
    if type(value) is not str:
        raise TypeError(f"expected a UUID string, got {type(value).__name__}")
    cached = _UUIDS.get(value)
    if cached is not None:
        return cached
    return _new_uuid_hook(value)


def _new_uuid_hook(value: Any, _: Any = None) -> UUID:
    """``parse_uuid`` for a string the cache has just missed (the generated code's hook).

    One function, no helper calls: a first listing parses 8,000 of these.
    """
    # value[8:24:5] is the four characters at 8, 13, 18 and 23: the dashes.
    if type(value) is str and len(value) == 36 and value[8:24:5] == "----":
        # unhexlify takes ASCII hex digits only (no signs, underscores, whitespace or
        # non-ASCII digits, which int() would accept), in pairs: 16 bytes out of the 32
        # other characters prove every one of them was a hex digit (more dashes: fewer).
        try:
            raw = _from_hex(value.replace("-", ""))
        except ValueError:
            raw = b""
        if len(raw) == 16:
            fresh: Any = _FreshUUID()
            fresh.int = _from_bytes(raw)  # big-endian by default
            fresh.is_safe = _UNKNOWN
            fresh.__class__ = UUID
            uuid: UUID = fresh
            if len(_UUIDS) >= _UUIDS_MAX:
                _UUIDS.clear()
            _UUIDS[value] = uuid
            return uuid
    if type(value) is not str:
        raise TypeError(f"expected a UUID string, got {type(value).__name__}")
    # Coder always writes the canonical form; the stdlib would also accept
    # braces, URNs and even a leading "+", so anything else is refused.
    raise ValueError(f"badly formed UUID string {value[:40]!r}")


#: Recently parsed timestamps, as for UUIDs: a task's ``created_at``, the entries of a
#: conversation fetched again and again, an idle agent's state time.  Aware datetimes
#: are immutable, so sharing them is safe; emptied when full.
_TIMES: dict[str, datetime] = {}
_TIMES_MAX = _CACHE_FLOOR


#: Recently decoded log entries by their raw ``time``.  A conversation is fetched again
#: and again as it grows, and all but its newest entries come back unchanged: an entry
#: whose id, type and content also match is handed out again (entries are immutable)
#: instead of being built anew.  Emptied when full.
_ENTRIES: dict[str, TaskLogEntry] = {}
#: The memos of models start small: every object they keep is one more for each full
#: collection of the cyclic GC to walk (a listed task keeps its state, health and UUIDs
#: alive too), so they hold what the largest body needed, not a fixed 16,384.
_MODEL_MEMO_FLOOR = 1_024
_ENTRIES_MAX = _MODEL_MEMO_FLOOR


def _remember_entry(time: str, entry: TaskLogEntry) -> None:
    if len(_ENTRIES) >= _ENTRIES_MAX:
        _ENTRIES.clear()
    _ENTRIES[time] = entry


#: Recently listed tasks by their raw ``id``.  ``follow_many`` and ``watch_many`` list
#: every task again each interval, and an idle one comes back unchanged: a task whose
#: every field matches is handed out again (tasks are immutable) instead of building a
#: new Task, state and health, which the garbage collector would then walk for as long
#: as the follower keeps them.  Emptied when full.
_LISTED: dict[str, Task] = {}
_LISTED_MAX = _MODEL_MEMO_FLOOR


def _remember_listed(task_id: str, task: Task) -> None:
    if len(_LISTED) >= _LISTED_MAX:
        _LISTED.clear()
    _LISTED[task_id] = task


class _Runs:
    """The lists a memo's model was last decoded in (:class:`codegen.Memo`'s runs).

    Each run is the raw memo-field values of a decoded list and its objects (a tuple: the
    list handed out may be changed by its holder), stored under its first raw value: a
    conversation or a listing fetched again begins as it did.  The runs hold at most as
    many objects in all as their ``memo`` holds at most (``limit()``): the same objects
    mostly, so a run costs two pointers per element.  All are dropped when that is exceeded.
    """

    def __init__(self, limit: Callable[[], int]) -> None:
        self._runs: dict[Any, tuple[list[Any], tuple[Any, ...]]] = {}
        self._held = 0
        self._limit = limit

    def last(self, first: Any) -> tuple[list[Any], Sequence[Any]]:
        """The run stored under ``first`` (the caller only reads it), else two empty ones."""
        run = self._runs.get(first)
        if run is None:
            return [], ()
        return run

    def remember(self, raws: list[Any], objects: list[Any]) -> None:
        if not raws:
            return
        old = self._runs.pop(raws[0], None)
        if old is not None:
            self._held -= len(old[0])
        if self._held + len(raws) > self._limit():
            self.clear()
        self._runs[raws[0]] = (raws, tuple(objects))
        self._held += len(raws)

    def clear(self) -> None:
        self._runs.clear()
        self._held = 0


_ENTRY_RUNS = _Runs(lambda: _ENTRIES_MAX)
_LISTED_RUNS = _Runs(lambda: _LISTED_MAX)


#: The most UUIDs and timestamps one task carries.
_IDS_PER_TASK = 8
_TIMES_PER_TASK = 3
#: No cache grows beyond this many entries.
_CACHE_CEILING = 1 << 20


def _fit_caches(decoded: object) -> None:
    """Let the caches hold twice what ``decoded`` needed.

    Emptied whenever full, a cache smaller than one listing's ids would be emptied
    during every listing and never answer: a 10,000-task ``follow_many`` decoded every
    listing cold (twice the CPU per task of a 1,000-task one).  Sized to the largest
    body seen, a cache holds keys of objects the program held at once anyway.
    """
    global _UUIDS_MAX, _TIMES_MAX, _ENTRIES_MAX, _LISTED_MAX
    if type(decoded) is TasksList:
        tasks = len(decoded.tasks)
        _UUIDS_MAX = min(max(_UUIDS_MAX, 2 * _IDS_PER_TASK * tasks), _CACHE_CEILING)
        _TIMES_MAX = min(max(_TIMES_MAX, 2 * _TIMES_PER_TASK * tasks), _CACHE_CEILING)
        _LISTED_MAX = min(max(_LISTED_MAX, 2 * tasks), _CACHE_CEILING)
    elif type(decoded) is TaskLogs:
        entries = len(decoded.logs)
        _TIMES_MAX = min(max(_TIMES_MAX, 2 * entries), _CACHE_CEILING)
        _ENTRIES_MAX = min(max(_ENTRIES_MAX, 2 * entries), _CACHE_CEILING)


def _new_time_hook(value: Any) -> datetime:
    """``parse_datetime`` for a string the cache has just missed (the generated code's hook)."""
    if type(value) is not str:
        raise TypeError(f"expected an RFC 3339 string, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if len(_TIMES) >= _TIMES_MAX:
        _TIMES.clear()
    _TIMES[value] = parsed
    return parsed


def parse_datetime(value: object, _: Any = None) -> datetime:
    """Parse an RFC 3339 timestamp into an aware ``datetime`` (naive input is taken as UTC)."""
    if type(value) is not str:
        raise TypeError(f"expected an RFC 3339 string, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _enum_hook(cls: type[OpenEnum]) -> Callable[[Any, Any], OpenEnum]:
    members: dict[object, OpenEnum] = dict(cls._value2member_map_)

    def structure_enum(value: Any, _: Any) -> OpenEnum:
        member = members.get(value)
        if member is not None:
            return member
        if type(value) is not str:
            raise TypeError(f"expected a string for {cls.__name__}, got {type(value).__name__}")
        return cls(value)  # unknown value: kept as an open-enum pseudo-member

    return structure_enum


def _str_hook(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _int_hook(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _bool_hook(value: Any, _: Any) -> bool:
    if type(value) is bool:
        return value
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


_ENUMS: tuple[type[OpenEnum], ...] = (
    TaskStatus,
    TaskState,
    TaskLogType,
    WorkspaceStatus,
    WorkspaceAgentLifecycle,
    WorkspaceTransition,
    ProvisionerJobStatus,
)
_MODELS: tuple[type[Any], ...] = (
    WorkspaceAgentHealth,
    TaskStateEntry,
    Task,
    TasksList,
    TaskLogEntry,
    TaskLogs,
    ProvisionerJob,
    WorkspaceBuild,
)


#: Models holding lists of other models: their list hooks must exist before them.
_CONTAINERS: dict[type[Any], tuple[type[Any], ...]] = {
    TasksList: (Task,),
    TaskLogs: (TaskLogEntry,),
}


def _is_optional(type_: Any) -> bool:
    return (
        get_origin(type_) in (Union, UnionType)
        and len(get_args(type_)) == 2
        and (type(None) in get_args(type_))
    )


def _optional_hook(
    hooks: codegen.HookSource,
) -> Callable[[Any], Callable[[Any, Any], Any]]:
    # cattrs re-dispatches ``X | None`` on every call; bind the inner hook once instead.
    def factory(type_: Any) -> Callable[[Any, Any], Any]:
        inner_type = next(a for a in type_.__args__ if a is not type(None))
        inner = hooks.get_structure_hook(inner_type)

        def structure_optional(value: Any, _: Any) -> Any:
            return None if value is None else inner(value, inner_type)

        return structure_optional

    return factory


def _type_error(value: Any, expected: type[Any]) -> Any:
    raise TypeError(f"expected {expected.__name__}, got {type(value).__name__}")


_LEAF_HOOKS: dict[Any, Callable[[Any, Any], Any]] = {
    datetime: parse_datetime,
    str: _str_hook,
    int: _int_hook,
    bool: _bool_hook,
}


class _FastHooks:
    """The fast path's hook per type, generated on first use without cattrs.

    Knows the leaf types, the open enums, ``X | None``, ``list[X]`` and the
    models :func:`codegen.supports`; anything else is left to cattrs.
    """

    def __init__(self) -> None:
        self._hooks: dict[Any, Callable[[Any, Any], Any]] = {}
        self._optional = _optional_hook(self)

    def get_structure_hook(self, type_: Any) -> Callable[[Any, Any], Any]:
        hook = self._hooks.get(type_)
        if hook is None:
            hook = self._hooks[type_] = self._make(type_)
        return hook

    def _make(self, type_: Any) -> Callable[[Any, Any], Any]:
        if type_ is UUID:  # generated code has looked in the cache already
            return _new_uuid_hook
        if type_ in _LEAF_HOOKS:
            return _LEAF_HOOKS[type_]
        if type_ in _ENUMS:
            return _enum_hook(type_)
        if _is_optional(type_):
            return self._optional(type_)
        if get_origin(type_) is list and len(get_args(type_)) == 1:
            element = get_args(type_)[0]
            if _generated(element):
                return codegen.make_structure_fn(element, self, _type_error, _lookups(), many=True)
            list_hook: Callable[[Any, Any], Any] = _fast_list(
                self.get_structure_hook(element), element
            )
            return list_hook
        if _generated(type_):
            # One object at a time (a changing task's get_task): what changes with every
            # body is parsed without the caches, what tasks share is compared first.
            single = _lookups()._replace(last=_SHARED, fresh=_FRESH_TIMES)
            return codegen.make_structure_fn(type_, self, _type_error, single)
        return _detailed().get_structure_hook(type_)


#: Fields many tasks share, which the single-object code compares with the last value it
#: decoded first: UUIDs (one organization, owner or template has many) with the last
#: string it parsed, before the cache; an agent's health with the last one it built.
_SHARED_IDS = ("organization_id", "owner_id", "template_id", "template_version_id")
_LAST_BUILT = {Task: ("workspace_agent_health",)}  # listings compare with it too
_SHARED = {Task: _SHARED_IDS + _LAST_BUILT[Task]}
#: Timestamps the single-object code parses without the cache: they change with every
#: body of a changing task, so a cache miss and insert would cost more than the parse
#: (~5% of a decode).  A task's ``created_at`` never changes: that one is cached.
_FRESH_TIMES = {Task: ("updated_at",), TaskStateEntry: ("timestamp",)}


def _generated(type_: Any) -> bool:
    return isinstance(type_, type) and codegen.supports(type_)


def _json_key(name: str) -> str:
    """The key object orjson hands out for ``name``.

    orjson keeps one string object per short key it has decoded and hands it out
    again, so looking a field up with that very object finds it by identity instead of
    comparing strings (orjson's dicts use CPython's general key lookup, which compares
    whenever the objects differ).  Should orjson's cache ever drop it, the lookup still
    works, by comparison.
    """
    decoded: dict[str, None] = orjson.loads(orjson.dumps({name: None}))
    return next(iter(decoded))


def _lookups() -> codegen.Lookups:
    return codegen.Lookups(
        uuids=_UUIDS,
        times=_TIMES,
        new_time=_new_time_hook,
        key=_json_key,
        upgrades={Task: ("workspace_name", _from_workspace_shape)},
        last=_LAST_BUILT,
        memos={
            TaskLogEntry: codegen.Memo(
                "time", _ENTRIES, _remember_entry, _ENTRY_RUNS.last, _ENTRY_RUNS.remember
            ),
            Task: codegen.Memo(
                "id", _LISTED, _remember_listed, _LISTED_RUNS.last, _LISTED_RUNS.remember
            ),
        },
    )


_FAST = _FastHooks()


def _build() -> cattrs.Converter:
    """The detailed converter: cattrs' own generated functions, which name the failing field."""
    import cattrs  # only once a body misfits: never at import

    converter = cattrs.Converter(detailed_validation=True)
    converter.register_structure_hook(UUID, parse_uuid)
    converter.register_structure_hook(datetime, parse_datetime)
    converter.register_structure_hook(str, _str_hook)
    converter.register_structure_hook(int, _int_hook)
    converter.register_structure_hook(bool, _bool_hook)
    # Predicate-based enum factories are bypassed by cattrs for Enum subclasses:
    # register each class explicitly.
    for cls in _ENUMS:
        converter.register_structure_hook(cls, _enum_hook(cls))
    converter.register_structure_hook_factory(_is_optional, _optional_hook(converter))
    for model in _MODELS:
        if model in _CONTAINERS:
            for element in _CONTAINERS[model]:
                list_type: Any = list[element]  # type: ignore[valid-type]
                # cattrs' own list hook reports the failing index
                list_hook = _strict_list(converter.get_structure_hook(list_type))
                converter.register_structure_hook_func(_is(list_type), list_hook)
        hook: Callable[[Any, Any], Any] = cattrs.gen.make_dict_structure_fn(model, converter)
        if model is Task:
            hook = _accept_workspace_shape(hook)
        converter.register_structure_hook(model, hook)
    return converter


def _from_workspace_shape(data: Any) -> Any:
    """A v2.26/v2.27 task in today's shape (docs/compatibility.md §2).

    Those releases built the task from its workspace: ``status`` is the workspace's
    status and there is no ``workspace_name`` (which every later release always
    sends).  Their ``status`` moves to ``workspace_status``; the task status comes
    from ``task_status`` when the server sent one, else it is ``unknown``.
    Anything else is returned as is, for the structuring to judge.
    """
    if type(data) is not dict or "status" not in data or "workspace_name" in data:
        return data
    data = dict(data)
    data["workspace_status"] = data.pop("status")
    data["status"] = data.pop("task_status", None) or TaskStatus.UNKNOWN.value
    return data


def _accept_workspace_shape(hook: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``hook`` that reads the v2.26/v2.27 task too (for the detailed converter)."""

    def structure_task(data: Any, type_: Any) -> Any:
        return hook(_from_workspace_shape(data), type_)

    return structure_task


_DETAILED: list[cattrs.Converter] = []


def _detailed() -> cattrs.Converter:
    """The detailed converter, built on the first misfit (importing cattrs costs ~20 ms)."""
    if not _DETAILED:
        _DETAILED.append(_build())
    return _DETAILED[0]


def _is(expected: Any) -> Callable[[Any], bool]:
    return lambda type_: bool(type_ == expected)


def _strict_list(inner: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    # cattrs would happily iterate a dict's keys or a string's characters.
    def structure_list(value: Any, type_: Any) -> Any:
        if type(value) is not list:
            raise TypeError(f"expected a JSON array, got {type(value).__name__}")
        return inner(value, type_)

    return structure_list


def _fast_list(element_hook: Callable[[Any, Any], Any], element: type[Any]) -> Any:
    # A tight loop over the element hook: thousands of log entries per poll.
    def structure_list(value: Any, _: Any) -> list[Any]:
        if type(value) is not list:
            raise TypeError(f"expected a JSON array, got {type(value).__name__}")
        return [element_hook(item, element) for item in value]

    return structure_list


#: Bodies at least this long are decoded with the cyclic GC paused.  A listing of
#: 1,000 tasks allocates ~14,000 tracked objects: left on, the collector would scan
#: the young ones ~20 times and the older generations again and again meanwhile.
_PAUSE_GC_BYTES = 32 * 1024


def loads(body: bytes) -> Any:
    """Decode JSON bytes; a malformed body becomes a :class:`CoderDecodeError`."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise CoderDecodeError(
            f"invalid JSON ({exc})", snippet=_snippet(body), invalid_json=True
        ) from None


class _Misfit(Exception):
    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason


def _structure(data: Any, cls: type[T]) -> T:
    hook = _FAST.get_structure_hook(cls)
    try:
        result: T = hook(data, cls)
        return result
    except Exception:
        pass
    if cls in _MODELS and type(data) is not dict:
        # cattrs' detailed converter would build a model of defaults from ``[]``.
        raise _Misfit("", f"expected a JSON object, got {type(data).__name__}")
    try:
        _detailed().structure(data, cls)
    except Exception as exc:
        where, why = _first_problem(exc)
        raise _Misfit(where.lstrip("."), why) from None
    # The fast converter failed where the detailed one did not: should not happen,
    # but never hand back a half-built object.
    raise _Misfit("", f"cannot structure {cls.__name__}")  # pragma: no cover


def structure(data: Any, cls: type[T], *, path: str = "") -> T:
    """Structure decoded JSON into ``cls``; misfits raise :class:`CoderDecodeError`."""
    try:
        return _structure(data, cls)
    except _Misfit as misfit:
        try:
            snippet = _snippet(orjson.dumps(data, default=repr))
        except (TypeError, RecursionError):  # nested deeper than orjson writes
            snippet = _snippet(repr(data)[: _SNIPPET * 4].encode()) if _shallow(data) else ""
        raise CoderDecodeError(
            misfit.reason, path=f"{path}.{misfit.path}".strip("."), snippet=snippet
        ) from None


def _shallow(data: Any) -> bool:
    try:
        repr(data)
    except RecursionError:
        return False
    return True


def decode(body: bytes, cls: type[T]) -> T:
    """``loads`` then ``structure``, with the raw body as the error snippet."""
    if len(body) < _PAUSE_GC_BYTES or not gc.isenabled():
        # Small, or inside a caller's pause (ours or theirs): leave the GC alone.
        return _decode(body, cls)
    gc.disable()
    try:
        return _decode(body, cls)
    finally:
        gc.enable()


def _decode(body: bytes, cls: type[T]) -> T:
    data = loads(body)
    try:
        result = _structure(data, cls)
    except _Misfit as misfit:
        raise CoderDecodeError(misfit.reason, path=misfit.path, snippet=_snippet(body)) from None
    if cls in _CONTAINERS:
        _fit_caches(result)
    return result


#: Recent ``get_task`` bodies and the Task each decoded to.  Pollers fetch the same
#: unchanged task every interval and Coder sends it byte for byte the same; a Task is
#: deeply immutable (frozen attrs, UUIDs, datetimes, enums), so handing out the same
#: object again is safe and skips parsing entirely.
#:
#: One entry per task, under the body's first ``_HEAD`` bytes (Coder writes the task's
#: ``id`` first, so that is ``{"id":"<uuid>"``): a :data:`_Seen` of the latest body.  A
#: body gets the entry's task only when its size and ``hash(body)`` match the entry's.
#: Python's bytes hash is SipHash keyed with a per-process random secret, so no server
#: can aim a collision at it (unless ``PYTHONHASHSEED`` pins the secret), and by chance
#: one is ~1e-16 likely.  No body is held: a follower's memory would double.
#:
#: The hash (~0.3 us for a Task, a twelfth of its decode) is worked out only for a body
#: that may repeat its entry's.  After a body that changed, the next one is hashed only
#: if its size and last ``_TAIL`` bytes (``updated_at`` and the current state, what
#: changes most) are the entry's: a task changing on every poll pays no hash.  Once it
#: settles, its second unchanged body is remembered with its hash and the third is a hit;
#: from then on (``steady``) bodies are hashed straight away, as is a new task's first.
#: Emptied when full; heads that collide only share one entry.
_TASKS: dict[bytes, _Seen] = {}
_TASKS_MAX = 2048
_HEAD = 43  # len('{"id":"') + 36
_TAIL = 32
#: Tasks from bodies larger than this (a long prompt) are not remembered: the memo
#: holds at most ``_TASKS_MAX`` tasks of that size whatever the tasks look like.
_TASK_BODY_MAX = 8192


def decode_task(body: bytes) -> Task:
    """:func:`decode` for a single :class:`Task`, remembering each task's latest body."""
    size = len(body)
    head = body[:43]  # _HEAD, as a constant: this runs on every get_task
    seen = _TASKS.get(head)
    digest: int | None
    tail: bytes | None = None
    if seen is None:
        digest, steady = hash(body), True
    elif seen[4]:
        digest, steady = hash(body), False
        if seen[2] == digest and seen[0] == size:
            return seen[3]
    elif seen[0] == size and (tail := body[-32:]) == seen[1]:  # _TAIL
        digest, steady = hash(body), True
        if seen[2] == digest:
            _TASKS[head] = (size, seen[1], digest, seen[3], True)
            return seen[3]
    else:
        digest, steady = None, False  # changed since the entry: it cannot be a hit
    # The common case in one frame (``decode`` would add three): a small body that fits.
    # Anything else, or any failure, goes the general way, which names the problem.
    try:
        task = _structure_task(_json(body), None) if size < _PAUSE_GC_BYTES else None
    except Exception:
        task = None
    if task is None:
        task = decode(body, Task)
    if size <= _TASK_BODY_MAX:
        if seen is None and len(_TASKS) >= _TASKS_MAX:
            _TASKS.clear()
        _TASKS[head] = (size, body[-_TAIL:] if tail is None else tail, digest, task, steady)
    return task


def _first_structure_task(data: Any, _: Any = None) -> Task:
    """Build the fast path's Task function, put it in :data:`_structure_task`, and use it."""
    global _structure_task
    _structure_task = _FAST.get_structure_hook(Task)
    task: Task = _structure_task(data, Task)
    return task


#: The fast path's structuring function for a Task (``decode_task``'s shortcut): one global
#: name to call, built on first use (two threads building it at once build the same).
_structure_task: Callable[[Any, Any], Task] = _first_structure_task
#: ``orjson.loads`` as one global (not a module attribute looked up on every get_task).
_json = orjson.loads


def _snippet(body: bytes) -> str:
    text = body[: _SNIPPET * 4].decode("utf-8", "replace")
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"


def _first_problem(exc: BaseException, path: str = "") -> tuple[str, str]:
    """Walk a cattrs exception group down to the first leaf: (field path, reason)."""
    if isinstance(exc, BaseExceptionGroup):  # cattrs' Class/IterableValidationError
        for sub in exc.exceptions:
            note = next(iter(getattr(sub, "__notes__", []) or []), None)
            step = _step_from_note(note)
            return _first_problem(sub, path + step)
    if isinstance(exc, KeyError):
        return path, "required field is missing"
    return path, f"{type(exc).__name__}: {exc}"


def _step_from_note(note: object) -> str:
    # cattrs attaches notes such as "Structuring class Task @ attribute created_at"
    # and "Structuring list[Task] @ index 3"; their typed form carries the name.
    name = getattr(note, "name", None)
    index = getattr(note, "index", None)
    if name is not None:
        return f".{name}"
    if index is not None:
        return f"[{index}]"
    return ""
