"""Generated structure functions for the models: the fast path of the converter.

cattrs' generated functions collect keyword arguments into a dict and call the
frozen class's ``__init__``, which sets each slot through ``object.__setattr__``;
for a 24-field ``Task`` that is most of the cost of structuring it.  Here each
model gets a function that creates the instance and fills its slots directly
through their descriptors, with primitive, optional and enum fields checked
inline.  It validates exactly as strictly as the hooks it inlines (a wrong type
raises), and anything unexpected falls back to cattrs' detailed converter,
which then names the offending field.

Only used for frozen, slotted attrs classes without validators, converters or
``__attrs_post_init__``: :func:`supports` checks that.
"""

from __future__ import annotations

import enum
import linecache
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import attrs
import cattrs

__all__ = ["make_structure_fn", "supports"]

_MISSING = object()
_PRIMITIVES = (str, int, bool)


def supports(cls: type[Any]) -> bool:
    """Whether ``cls`` can be built without its ``__init__`` (nothing would be skipped)."""
    if not attrs.has(cls) or "__slots__" not in cls.__dict__:
        return False
    if hasattr(cls, "__attrs_post_init__"):
        return False
    return all(f.validator is None and f.converter is None for f in attrs.fields(cls))


def _optional_inner(type_: Any) -> Any:
    args = getattr(type_, "__args__", ())
    if len(args) == 2 and type(None) in args:
        return next(a for a in args if a is not type(None))
    return None


def make_structure_fn(
    cls: type[Any],
    converter: cattrs.Converter,
    type_error: Callable[..., Any],
    uuid_cache: Mapping[str, UUID] | None = None,
) -> Callable[[Any, Any], Any]:
    """Generate ``structure(o, _)`` for ``cls`` using ``converter``'s hooks for field types.

    ``type_error(value)`` is called (and must raise) when a primitive field has the
    wrong JSON type.  ``uuid_cache`` (string to UUID) is consulted inline before the
    UUID hook.
    """
    attrs.resolve_types(cls)
    ns: dict[str, Any] = {
        "__new": object.__new__,
        "__cls": cls,
        "__missing": _MISSING,
        "__bad": type_error,
    }
    if uuid_cache is not None:
        ns["uuids"] = uuid_cache
    lines = ["def structure(o, _=None):", "    obj = __new(__cls)", "    get = o.get"]
    for i, field in enumerate(attrs.fields(cls)):
        ns[f"set{i}"] = cls.__dict__[field.name].__set__
        name = field.name
        if field.default is attrs.NOTHING:
            lines.append(f"    v = o[{name!r}]")
            value = _expression(i, field.type, converter, ns)
        else:
            if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
                ns[f"factory{i}"] = field.default.factory
                fallback = f"factory{i}()"
            else:
                ns[f"default{i}"] = field.default
                fallback = f"default{i}"
            lines.append(f"    v = get({name!r}, __missing)")
            value = f"{fallback} if v is __missing else {_expression(i, field.type, converter, ns)}"
        lines.append(f"    set{i}(obj, {value})")
    lines.append("    return obj")
    source = "\n".join(lines) + "\n"
    filename = f"<coder_tasks_async structure {cls.__module__}.{cls.__qualname__}>"
    # Registered so tracebacks and debuggers show the generated lines, as attrs does.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), ns)
    function: Callable[[Any, Any], Any] = ns["structure"]
    return function


def _expression(i: int, type_: Any, converter: cattrs.Converter, ns: dict[str, Any]) -> str:
    """Python source turning ``v`` into the field's value."""
    if type_ in _PRIMITIVES:
        ns[f"type{i}"] = type_
        return f"(v if type(v) is type{i} else __bad(v, type{i}))"
    if type_ is datetime:
        ns["fromiso"], ns["utc"] = datetime.fromisoformat, UTC
        # As parse_datetime: RFC 3339 with any offset and up to 9 digits; naive means UTC.
        return (
            "((d if (d := fromiso(v)).tzinfo is not None else d.replace(tzinfo=utc)) "
            "if type(v) is str else __bad(v, str))"
        )
    inner = _optional_inner(type_)
    if inner is not None:
        return f"(None if v is None else {_expression(i, inner, converter, ns)})"
    ns[f"hook{i}"] = converter.get_structure_hook(type_)
    ns[f"arg{i}"] = type_
    if type_ is UUID and "uuids" in ns:
        # A recently seen id is one dict lookup; anything else goes through the hook.
        return f"(u if (u := uuids.get(v)) is not None else hook{i}(v, arg{i}))"
    if isinstance(type_, type) and issubclass(type_, enum.Enum):
        ns[f"members{i}"] = dict(type_._value2member_map_)
        # A known value is one dict lookup; anything else goes through the hook.
        return f"(m if (m := members{i}.get(v)) is not None else hook{i}(v, arg{i}))"
    return f"hook{i}(v, arg{i})"
