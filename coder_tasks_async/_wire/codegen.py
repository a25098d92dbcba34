"""Generated structure functions for the models: the fast path of the converter.

cattrs' generated functions collect keyword arguments into a dict and call the
frozen class's ``__init__``, which sets each slot through ``object.__setattr__``;
for a 24-field ``Task`` that is most of the cost of structuring it.  Here each
model gets a function that fills a *builder* instead: a subclass with no slots of
its own and plain ``object.__setattr__``, so each field is one specialised
``STORE_ATTR`` into the slot (a slot descriptor's ``__set__`` call costs several times
more).  The builder is created by calling it (its ``__init__`` is ``object``'s), which
is cheaper than ``object.__new__``.  Once filled, the object's ``__class__`` becomes
the model: same layout, nothing copied, and from then on it is as frozen as any other
instance.  Primitive, optional and enum fields are checked inline.  A list of models
gets its own function with the model's code inlined in the loop.  It validates exactly
as strictly as the hooks it inlines (a wrong type raises), and anything
unexpected falls back to cattrs' detailed converter, which then names the
offending field.

Only used for frozen, slotted attrs classes without validators, converters or
``__attrs_post_init__``: :func:`supports` checks that.
"""

from __future__ import annotations

import enum
import linecache
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import attrs

__all__ = ["HookSource", "make_structure_fn", "supports"]


class HookSource(Protocol):
    """Where field types' hooks come from: a ``cattrs.Converter`` or the SDK's own table."""

    def get_structure_hook(self, type_: Any, /) -> Callable[[Any, Any], Any]:
        """The function structuring a value of ``type_`` (called as ``hook(value, type_)``)."""
        ...


_MISSING = object()
_PRIMITIVES = (str, int, bool)


def supports(cls: type[Any]) -> bool:
    """Whether ``cls`` can be built without its ``__init__`` (nothing would be skipped)."""
    if not attrs.has(cls) or "__slots__" not in cls.__dict__:
        return False
    if hasattr(cls, "__attrs_post_init__") or cls.__new__ is not object.__new__:
        return False
    return all(f.validator is None and f.converter is None for f in attrs.fields(cls))


def _optional_inner(type_: Any) -> Any:
    args = getattr(type_, "__args__", ())
    if len(args) == 2 and type(None) in args:
        return next(a for a in args if a is not type(None))
    return None


def make_structure_fn(
    cls: type[Any],
    converter: HookSource,
    type_error: Callable[..., Any],
    uuid_cache: Mapping[str, UUID] | None = None,
    upgrade: tuple[str, Callable[[Any], Any]] | None = None,
    *,
    many: bool = False,
) -> Callable[[Any, Any], Any]:
    """Generate ``structure(o, _)`` for ``cls`` using ``converter``'s hooks for field types.

    ``type_error(value)`` is called (and must raise) when a primitive field has the
    wrong JSON type.  ``uuid_cache`` (string to UUID) is consulted inline before the
    UUID hook.  ``upgrade = (key, function)``: when ``key`` is missing from the
    input, ``function(o)`` rewrites an older shape first (one inline ``in`` test
    for the current shape).  ``many``: generate ``structure_list(value, _)`` for
    ``list[cls]`` instead, the model's code inlined in the loop (thousands of log
    entries per poll: a call per element would cost a fifth of its structuring).
    """
    ns, body = _body(cls, converter, type_error, uuid_cache, upgrade)
    if not many:
        lines = ["def structure(o, _=None):", *_indent(body, 1), "    return obj"]
        return _compile(cls, "structure", lines, ns)
    ns["__list_error"] = _not_a_list
    lines = [
        "def structure_list(value, _=None):",
        "    if type(value) is not list: __list_error(value)",
        "    out = []",
        "    append = out.append",
        "    for o in value:",
        *_indent(body, 2),
        "        append(obj)",
        "    return out",
    ]
    return _compile(cls, "structure_list", lines, ns)


def _not_a_list(value: Any) -> None:
    raise TypeError(f"expected a JSON array, got {type(value).__name__}")


def _indent(lines: list[str], levels: int) -> list[str]:
    return ["    " * levels + line for line in lines]


def _body(
    cls: type[Any],
    converter: HookSource,
    type_error: Callable[..., Any],
    uuid_cache: Mapping[str, UUID] | None,
    upgrade: tuple[str, Callable[[Any], Any]] | None,
) -> tuple[dict[str, Any], list[str]]:
    """The namespace and the unindented lines turning the dict ``o`` into ``obj``."""
    attrs.resolve_types(cls)
    ns: dict[str, Any] = {
        "__builder": _builder(cls),
        "__cls": cls,
        "__missing": _MISSING,
        "__bad": type_error,
    }
    if uuid_cache is not None:
        ns["uuids"] = uuid_cache
    lines = []
    if upgrade is not None:
        ns["__upgrade"] = upgrade[1]
        lines.append(f"if {upgrade[0]!r} not in o: o = __upgrade(o)")
    # Calling the builder class runs object.__init__ only: cheaper than object.__new__(cls).
    lines.append("obj = __builder()")
    fields = attrs.fields(cls)
    if any(field.default is not attrs.NOTHING for field in fields):
        lines.append("get = o.get")
    for i, field in enumerate(fields):
        name = field.name
        if field.default is attrs.NOTHING:
            lines.append(f"v = o[{name!r}]")
            value = _expression(i, field.type, converter, ns)
        elif _passes_as_is(field.default, field.type):
            # The default goes through the field's checks unchanged: no ``missing`` test.
            ns[f"default{i}"] = field.default
            lines.append(f"v = get({name!r}, default{i})")
            value = _expression(i, field.type, converter, ns)
        else:
            if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
                ns[f"factory{i}"] = field.default.factory
                fallback = f"factory{i}()"
            else:
                ns[f"default{i}"] = field.default
                fallback = f"default{i}"
            lines.append(f"v = get({name!r}, __missing)")
            value = f"{fallback} if v is __missing else {_expression(i, field.type, converter, ns)}"
        lines.append(f"obj.{name} = {value}")
    lines.append("obj.__class__ = __cls")
    return ns, lines


def _compile(
    cls: type[Any], name: str, lines: list[str], ns: dict[str, Any]
) -> Callable[[Any, Any], Any]:
    source = "\n".join(lines) + "\n"
    filename = f"<coder_tasks_async {name} {cls.__module__}.{cls.__qualname__}>"
    # Registered so tracebacks and debuggers show the generated lines, as attrs does.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), ns)
    function: Callable[[Any, Any], Any] = ns[name]
    return function


def _builder(cls: type[Any]) -> type[Any]:
    """A subclass of ``cls`` whose instances take plain attribute assignment.

    Both of attrs' frozen hooks are replaced: with only ``__setattr__`` reset, the
    inherited ``__delattr__`` would still route every assignment through Python.
    """
    builder = type(
        f"_Building{cls.__name__}",
        (cls,),
        {
            "__slots__": (),
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
            # ``__builder()`` then skips the model's own ``__init__``.
            "__init__": object.__init__,
            "__module__": __name__,
            "__doc__": f"A {cls.__name__} being filled in (never handed out).",
        },
    )
    probe: Any = object.__new__(builder)
    probe.__class__ = cls  # fails here, not per object, if the layouts ever differ
    return builder


def _passes_as_is(default: Any, type_: Any) -> bool:
    """Whether the generated checks would hand ``default`` back unchanged."""
    if default is None:
        return _optional_inner(type_) is not None
    return type_ in _PRIMITIVES and type(default) is type_


def _expression(i: int, type_: Any, converter: HookSource, ns: dict[str, Any]) -> str:
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
    # A known value is found with the dict opcodes (``in``, then ``[]``), which cost
    # less than one ``.get`` method call; anything else goes through the hook.
    if type_ is UUID and "uuids" in ns:
        return f"(uuids[v] if v in uuids else hook{i}(v, arg{i}))"
    if isinstance(type_, type) and issubclass(type_, enum.Enum):
        ns[f"members{i}"] = dict(type_._value2member_map_)
        return f"(members{i}[v] if v in members{i} else hook{i}(v, arg{i}))"
    return f"hook{i}(v, arg{i})"
