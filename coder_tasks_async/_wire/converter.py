"""JSON bytes in, models out, precise errors on misfit.

Behind the functions of this module are two cattrs converters sharing the same
hooks.  The fast one structures every response, with generated per-model
functions (:mod:`.codegen`).  Only when it fails does the detailed one run on the
same data, to name the exact field path in the error: success pays nothing for
good error messages.

The hooks are tuned because structuring is most of the SDK's CPU per request:
UUIDs skip ``UUID.__init__``'s generic parsing, enums are a dict lookup, and
timestamps go straight to ``datetime.fromisoformat`` (which on 3.11 accepts
``Z``, any offset and 9 fractional digits).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin
from uuid import UUID, SafeUUID

import cattrs
import orjson

from . import codegen
from .errors import CoderDecodeError
from .models import (
    OpenEnum,
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
)

__all__ = ["decode", "decode_task", "loads", "parse_datetime", "parse_uuid", "structure"]

T = TypeVar("T")

_SNIPPET = 200
_new_uuid = object.__new__
_set = object.__setattr__
_UNKNOWN = SafeUUID.unknown  # an Enum attribute lookup costs more than the rest of the parse


#: Recently parsed UUIDs.  Pollers see the same ids again and again (a task's own ids,
#: its owner, organization and template), so most parses become one dict lookup.
#: UUIDs are immutable, so sharing them is safe; the cache is simply emptied when full.
_UUIDS: dict[str, UUID] = {}
_UUIDS_MAX = 16_384


def parse_uuid(value: object, _: Any = None) -> UUID:
    """Parse a canonical UUID string (what Coder sends) several times faster than ``UUID(s)``."""
    if type(value) is not str:
        raise TypeError(f"expected a UUID string, got {type(value).__name__}")
    cached = _UUIDS.get(value)
    if cached is not None:
        return cached
    if len(_UUIDS) >= _UUIDS_MAX:
        _UUIDS.clear()
    uuid = _UUIDS[value] = _parse_uuid(value)
    return uuid


def _parse_uuid(value: str) -> UUID:
    if len(value) == 36 and value[8] == value[13] == value[18] == value[23] == "-":
        digits = value.replace("-", "")
        # isascii + isalnum rule out the signs, underscores, spaces and non-ASCII
        # digits int() would accept; int() then rejects letters beyond f.
        if len(digits) == 32 and digits.isascii() and digits.isalnum():
            try:
                number = int(digits, 16)
            except ValueError:
                pass
            else:
                uuid = _new_uuid(UUID)
                _set(uuid, "int", number)
                _set(uuid, "is_safe", _UNKNOWN)
                return uuid
    # Coder always writes the canonical form; the stdlib would also accept
    # braces, URNs and even a leading "+", so anything else is refused.
    raise ValueError(f"badly formed UUID string {value[:40]!r}")


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
)
_MODELS: tuple[type[Any], ...] = (
    WorkspaceAgentHealth,
    TaskStateEntry,
    Task,
    TasksList,
    TaskLogEntry,
    TaskLogs,
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


def _optional_hook(converter: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    # cattrs re-dispatches ``X | None`` on every call; bind the inner hook once instead.
    def factory(type_: Any) -> Callable[[Any, Any], Any]:
        inner_type = next(a for a in type_.__args__ if a is not type(None))
        inner = converter.get_structure_hook(inner_type)

        def structure_optional(value: Any, _: Any) -> Any:
            return None if value is None else inner(value, inner_type)

        return structure_optional

    return factory


def _type_error(value: Any, expected: type[Any]) -> Any:
    raise TypeError(f"expected {expected.__name__}, got {type(value).__name__}")


def _build(*, detailed: bool) -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=detailed)
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
                if detailed:  # cattrs' own list hook reports the failing index
                    list_hook = _strict_list(converter.get_structure_hook(list_type))
                else:
                    list_hook = _fast_list(converter.get_structure_hook(element), element)
                converter.register_structure_hook_func(_is(list_type), list_hook)
        hook: Callable[[Any, Any], Any]
        if detailed or not codegen.supports(model):
            hook = cattrs.gen.make_dict_structure_fn(model, converter)
        else:
            hook = codegen.make_structure_fn(model, converter, _type_error, _UUIDS)
        converter.register_structure_hook(model, hook)
    return converter


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


_FAST = _build(detailed=False)
_DETAILED = _build(detailed=True)
#: The fast converter's hook per model, looked up once (cattrs' dispatch costs ~0.7 us).
_FAST_HOOKS: dict[type[Any], Callable[[Any, Any], Any]] = {
    model: _FAST.get_structure_hook(model) for model in _MODELS
}


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
    hook = _FAST_HOOKS.get(cls) or _FAST.get_structure_hook(cls)
    try:
        result: T = hook(data, cls)
        return result
    except Exception:
        pass
    if cls in _FAST_HOOKS and type(data) is not dict:
        # cattrs' detailed converter would build a model of defaults from ``[]``.
        raise _Misfit("", f"expected a JSON object, got {type(data).__name__}")
    try:
        _DETAILED.structure(data, cls)
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
        snippet = _snippet(orjson.dumps(data, default=repr))
        raise CoderDecodeError(
            misfit.reason, path=f"{path}.{misfit.path}".strip("."), snippet=snippet
        ) from None


def decode(body: bytes, cls: type[T]) -> T:
    """``loads`` then ``structure``, with the raw body as the error snippet."""
    data = loads(body)
    try:
        return _structure(data, cls)
    except _Misfit as misfit:
        raise CoderDecodeError(misfit.reason, path=misfit.path, snippet=_snippet(body)) from None


#: Recent ``get_task`` bodies and the Task each decoded to.  Pollers fetch the same
#: unchanged task every interval and Coder sends it byte for byte the same; a Task is
#: deeply immutable (frozen attrs, UUIDs, datetimes, enums), so handing out the same
#: object again is safe and skips parsing entirely.  Emptied when full.
_TASKS: dict[bytes, Task] = {}
_TASKS_MAX = 2048
#: Bodies larger than this (a long prompt) are not remembered: memory stays under
#: ``_TASKS_MAX * _TASK_BODY_MAX`` (16 MiB) whatever the tasks look like.
_TASK_BODY_MAX = 8192


def decode_task(body: bytes) -> Task:
    """:func:`decode` for a single :class:`Task`, remembering recent bodies."""
    task = _TASKS.get(body)
    if task is None:
        task = decode(body, Task)
        if len(body) <= _TASK_BODY_MAX:
            if len(_TASKS) >= _TASKS_MAX:
                _TASKS.clear()
            _TASKS[body] = task
    return task


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
