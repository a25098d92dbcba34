"""Generated tests that a model decoded before equals the dict in hand, field for field.

A list decoded again and again (a conversation as it grows, the listing ``follow_many``
reads every interval) mostly holds what it held last time.  The list functions of
:mod:`.codegen` remember each object they build under one raw field (an entry's
``time``, a task's ``id``) and, when a dict comes with a remembered value, hand out
the remembered object instead of building a new one if every other field matches.
Building costs a new object per model and per nested model (which the cyclic garbage
collector then has to walk as long as they live); the test costs reads and compares.

The test is exactly as strict as building: a value matches only if building it would
have given an equal value without an error.  Strings compare equal to strings only, an
open enum member to its string only, a ``None`` to ``None`` only; integers and booleans
must also have the exact JSON type (``1 == 1.0 == True`` in Python); UUIDs and
timestamps match when the parse cache maps the raw string to the very object held;
nested models match field by field.  Anything else (a list field, say) is not
supported, and :func:`condition` refuses it when the function is generated.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import attrs

__all__ = ["PRIMITIVES", "Names", "condition", "optional_inner"]

#: JSON types a field may hold as they are, checked by exact type.
PRIMITIVES = (str, int, bool)


class Names(Protocol):
    """What the tests need from the code writer: its namespace and key names."""

    ns: dict[str, Any]

    def key(self, name: str, path: str) -> str:
        """The name bound to the dict key ``name`` for the field at ``path``."""
        ...


def condition(
    names: Names,
    cls: type[Any],
    o: str,
    have: str,
    suffix: str = "",
    skip: str | None = None,
    supports: Callable[[type[Any]], bool] = attrs.has,
) -> str:
    """A Python expression, true when the model named ``have`` equals the dict named
    ``o`` field for field (``skip``: a field already known equal)."""
    attrs.resolve_types(cls)
    parts = []
    for i, field in enumerate(attrs.fields(cls)):
        if field.name == skip:
            continue
        path = f"{i}{suffix}"
        key = names.key(field.name, path)
        if field.default is attrs.NOTHING:
            read = f"{o}[{key}]"
        elif field.default is None or type(field.default) in PRIMITIVES:
            names.ns[f"default{path}"] = field.default
            read = f"{o}.get({key}, default{path})"
        else:
            raise ValueError(f"{cls.__name__}.{field.name}: no test for a factory default")
        parts.append(_same(names, field.type, read, f"{have}.{field.name}", path, supports))
    return " and ".join(parts)


def optional_inner(type_: Any) -> Any:
    """``X`` for ``X | None``, else ``None``."""
    args = getattr(type_, "__args__", ())
    if len(args) == 2 and type(None) in args:
        return next(a for a in args if a is not type(None))
    return None


def _same(
    names: Names,
    type_: Any,
    read: str,
    have: str,
    path: str,
    supports: Callable[[type[Any]], bool],
) -> str:
    inner = optional_inner(type_)
    if inner is not None:
        present = _same(names, inner, read, have, path, supports)
        return f"({read} is None if {have} is None else {present})"
    x, ns = f"x{path}", names.ns
    if type_ is str or (isinstance(type_, type) and issubclass(type_, enum.StrEnum)):
        return f"{have} == {read}"  # equal to a string only
    if type_ in PRIMITIVES:
        ns[f"type{path}"] = type_
        return f"({have} == ({x} := {read}) and type({x}) is type{path})"
    if type_ is UUID and "uuids" in ns:
        ns["uuid_of"] = ns["uuids"].get
        return f"uuid_of({read}) is {have}"
    if type_ is datetime and "times" in ns:
        ns["time_of"] = ns["times"].get
        return f"time_of({read}) is {have}"
    if isinstance(type_, type) and supports(type_):
        nested = condition(names, type_, x, have, f"_{path}", supports=supports)
        return f"(type({x} := {read}) is dict and {nested})"
    raise ValueError(f"no test for a field of type {type_!r}")
