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
instance.  Primitive, optional and enum fields are checked inline, nested models are
inlined, and fields are looked up with the JSON decoder's own key objects
(:class:`Lookups`).  A list of models gets its own function with the model's code
inlined in the loop, and may first hand out a remembered object (:mod:`.recall`):
the one at the same place in the list last decoded that began alike, else the one
its memo holds (:class:`Memo`).
It validates exactly as strictly as the hooks it inlines (a wrong type raises), and
anything unexpected falls back to cattrs' detailed converter, which then names the
offending field.

Only used for frozen, slotted attrs classes without validators, converters or
``__attrs_post_init__``: :func:`supports` checks that.
"""

from __future__ import annotations

import enum
import linecache
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any, NamedTuple, Protocol
from uuid import UUID

import attrs

from .recall import PRIMITIVES, condition, optional_inner

__all__ = ["HookSource", "Lookups", "Memo", "make_structure_fn", "supports"]


class HookSource(Protocol):
    """Where field types' hooks come from: a ``cattrs.Converter`` or the SDK's own table."""

    def get_structure_hook(self, type_: Any, /) -> Callable[[Any, Any], Any]:
        """The function structuring a value of ``type_`` (called as ``hook(value, type_)``)."""
        ...


_MISSING = object()


def supports(cls: type[Any]) -> bool:
    """Whether ``cls`` can be built without its ``__init__`` (nothing would be skipped)."""
    if not attrs.has(cls) or "__slots__" not in cls.__dict__:
        return False
    if hasattr(cls, "__attrs_post_init__") or cls.__new__ is not object.__new__:
        return False
    return all(f.validator is None and f.converter is None for f in attrs.fields(cls))


class Memo(NamedTuple):
    """How a list of one model reuses objects it built before (see :class:`Lookups`).

    ``memo`` maps the raw value of ``field`` to the object built from it, and
    ``remember(raw, object)`` stores a new one.  ``last_run(first)`` returns the raw
    values of ``field`` (a list) and the objects of the list last decoded that began with
    the raw value ``first`` (two empty sequences if none), which the caller only reads;
    ``remember_run(raws, objects)`` stores a decoded list's.  A list fetched again (a
    conversation, a listing) is compared element by element with its last run first: no
    hash and no dict probe per element, which is most of what a reused element costs.
    """

    field: str
    memo: Mapping[Any, Any]
    remember: Callable[[Any, Any], None]
    last_run: Callable[[Any], tuple[list[Any], Sequence[Any]]]
    remember_run: Callable[[list[Any], list[Any]], None]


class Lookups(NamedTuple):
    """What the generated code consults inline before calling a field's hook.

    ``uuids``: canonical UUID string to ``UUID``.  ``times``: RFC 3339 string to aware
    ``datetime``, with ``new_time(value)`` parsing (and remembering) a string it lacks,
    and raising on anything else.  ``key(name)``: the object the JSON decoder uses for
    the key ``name``; a lookup with the very same object is found by identity instead
    of a string comparison (orjson hands out one cached object per short key).
    ``upgrades``: model to ``(key, function)``: when ``key`` is missing from the
    input, ``function(o)`` rewrites an older shape first (one inline ``in`` test).
    ``memos``: model to :class:`Memo`: a list of that model reuses the object at the
    same place in its last run, or else the one the ``memo`` holds, under the raw value of
    its ``field`` when every other field of the input equals the object's, as strictly as
    building would judge it (:mod:`.recall`); each new object goes to ``remember``.
    ``last``: model to names of fields most objects share, never per-object ones (where
    the comparison and the update would mostly be wasted).  A UUID field first compares
    its raw string with the last one it parsed (one ``==``, where ``uuids`` costs a hash
    and two probes): a task's organization, owner and template.  An inlined model's field
    first compares its dict with the last object it built, field for field as strictly as
    building (:mod:`.recall`), and hands that object out again: an agent's health, the
    same for most tasks (a builder, a class switch and a deallocation saved).
    ``fresh``: model to names of timestamp fields parsed without ``times``: ones that
    change with every body (a task's ``updated_at``), where a cache miss and insert cost
    more than the parse; the others (``created_at``) mostly hit.
    """

    uuids: Mapping[str, UUID] | None = None
    times: Mapping[str, datetime] | None = None
    new_time: Callable[[Any], datetime] | None = None
    key: Callable[[str], str] | None = None
    upgrades: Mapping[type[Any], tuple[str, Callable[[Any], Any]]] = {}
    memos: Mapping[type[Any], Memo] = {}
    last: Mapping[type[Any], tuple[str, ...]] = {}
    fresh: Mapping[type[Any], tuple[str, ...]] = {}


_NO_LOOKUPS = Lookups()


def make_structure_fn(
    cls: type[Any],
    converter: HookSource,
    type_error: Callable[..., Any],
    lookups: Lookups = _NO_LOOKUPS,
    *,
    many: bool = False,
) -> Callable[[Any, Any], Any]:
    """Generate ``structure(o, _)`` for ``cls`` using ``converter``'s hooks for field types.

    ``type_error(value, type)`` is called (and must raise) when a primitive field has
    the wrong JSON type.  Nested models that :func:`supports` accepts are inlined (their
    generated code, not ``converter``'s hook); ``lookups`` says what else is inlined.
    ``many``: generate ``structure_list(value, _)`` for ``list[cls]`` instead, the
    model's code inlined in the loop (thousands of log entries per poll: a call per
    element would cost a fifth of its structuring).
    """
    writer = _Writer(converter, type_error, lookups)
    ns = writer.ns
    if not many:
        body = writer.model(cls, "o", "obj")
        lines = ["def structure(o, _=None):", *_indent(body, 1), "    return obj"]
        return _compile(cls, "structure", lines, ns)
    ns["__list_error"] = _not_a_list
    start = [
        "def structure_list(value, _=None):",
        "    if type(value) is not list: __list_error(value)",
    ]
    start += ["    out = []", "    append = out.append"]
    if cls not in lookups.memos:
        body = writer.model(cls, "o", "obj")
        lines = [*start, "    for o in value:", *_indent(body, 2), "        append(obj)"]
        return _compile(cls, "structure_list", [*lines, "    return out"], ns, local=True)
    same_as_run, reuse, remember, first = writer.memo(cls, "o", "obj")
    run = [f"if (m := o[{first}]) == t and {same_as_run}:", "    keep(t)", "    append(r)"]
    run.append("    continue")
    # Three loops.  The first finds how long the list begins as its last run did (a
    # conversation or listing fetched again: mostly all of it), appending nothing; that
    # part is copied from the run in one go, and if it is all of the list and all of the
    # run, nothing else is done.  The second goes over the rest of the part the run
    # covers, trying the run's element first, the third over the rest (all of a listing
    # never seen), which skips it.
    in_run = writer.model(cls, "o", "obj", reuse=[*run, *reuse])
    beyond = writer.model(cls, "o", "obj", reuse=reuse)
    ns["islice"] = islice
    lines = [
        "def structure_list(value, _=None):",
        "    if type(value) is not list: __list_error(value)",
        f"    run_raws, run_objs = last_run(value[0][{first}] if value else None)",
        # No counter: the list iterator says how many elements it has not handed out
        # yet (a ``+= 1`` per element was a tenth of this loop's instructions).
        "    items = iter(value)",
        "    for o, t, r in zip(items, run_raws, run_objs):",
        *_indent(writer.upgrade(cls, "o"), 2),
        f"        if not (o[{first}] == t and {same_as_run}):",
        "            same = len(value) - items.__length_hint__() - 1  # o was taken",
        "            break",
        "    else:",
        "        same = min(len(value), len(run_raws))",
        "    out = list(run_objs[:same])",
        "    if same == len(value) == len(run_raws): return out  # the run as it was",
        "    append = out.append",
        "    raws = run_raws[:same]",
        "    keep = raws.append",
        "    reused = bool(run_raws)",
        "    for o, t, r in zip(islice(value, same, None), islice(run_raws, same, None), "
        "islice(run_objs, same, None)):",
        *_indent([*in_run, *remember], 2),
        "        keep(m)",
        "        append(obj)",
        "    for o in islice(value, len(run_raws), None):",
        *_indent([*beyond, *remember], 2),
        "        keep(m)",
        "        append(obj)",
        # A list none of whose elements was seen before (a listing never seen again)
        # is not kept: its objects would outlive the memo's emptying for nothing.
        "    if reused: remember_run(raws, out)",
        "    return out",
    ]
    return _compile(cls, "structure_list", lines, ns, local=True)


def _not_a_list(value: Any) -> None:
    raise TypeError(f"expected a JSON array, got {type(value).__name__}")


def _indent(lines: list[str], levels: int) -> list[str]:
    return ["    " * levels + line for line in lines]


#: Nested models deeper than this are structured by their hook, not inlined.
_INLINE_DEPTH = 2


class _Writer:
    """Writes the lines turning a dict into a model, and the namespace they run in.

    Names in the namespace end in the field's path: ``type3`` is the check of the
    top model's field 3, ``type1_24`` of field 1 of the model inlined for field 24.
    """

    def __init__(self, converter: HookSource, type_error: Callable[..., Any], lookups: Lookups):
        self.converter = converter
        self.lookups = lookups
        self.ns: dict[str, Any] = {"__missing": _MISSING, "__bad": type_error}
        if lookups.uuids is not None:
            self.ns["uuids"] = lookups.uuids
        if lookups.times is not None and lookups.new_time is not None:
            self.ns["times"], self.ns["new_time"] = lookups.times, lookups.new_time

    def model(
        self,
        cls: type[Any],
        o: str,
        obj: str,
        suffix: str = "",
        depth: int = 0,
        reuse: Sequence[str] = (),
    ) -> list[str]:
        """Lines turning the dict named ``o`` into a ``cls`` named ``obj`` (``reuse``:
        lines that may hand out a remembered one instead, once the shape is current)."""
        attrs.resolve_types(cls)
        ns = self.ns
        ns[f"__builder{suffix}"], ns[f"__cls{suffix}"] = _builder(cls), cls
        lines = [*self.upgrade(cls, o, suffix), *reuse]
        # Calling the builder class runs object.__init__ only: cheaper than object.__new__(cls).
        lines.append(f"{obj} = __builder{suffix}()")
        fields = attrs.fields(cls)
        last, fresh = self.lookups.last.get(cls, ()), self.lookups.fresh.get(cls, ())
        for i, field in enumerate(fields):
            where = (field, f"{i}{suffix}", o, obj, suffix, depth)
            lines += self.field(*where, last=field.name in last, cached=field.name not in fresh)
        lines.append(f"{obj}.__class__ = __cls{suffix}")
        return lines

    def upgrade(self, cls: type[Any], o: str, suffix: str = "") -> list[str]:
        """The line rewriting an older shape of ``cls`` in ``o`` (none if it has none)."""
        upgrade = self.lookups.upgrades.get(cls)
        if upgrade is None:
            return []
        self.ns[f"__upgrade{suffix}"] = upgrade[1]
        shape = self.key(upgrade[0], f"_shape{suffix}")
        return [f"if {shape} not in {o}: {o} = __upgrade{suffix}({o})"]

    def field(
        self,
        field: attrs.Attribute[Any],
        path: str,
        o: str,
        obj: str,
        suffix: str,
        depth: int,
        *,
        last: bool = False,
        cached: bool = True,
    ) -> list[str]:
        """Lines reading ``field`` from ``o`` into ``v<suffix>`` and storing it on ``obj``
        (``last``: compared with the last value first; ``cached``: a timestamp goes
        through ``times``; see :class:`Lookups`)."""
        ns, name, v = self.ns, field.name, f"v{suffix}"
        key = self.key(name, path)
        if field.default is attrs.NOTHING:
            read = f"{v} = {o}[{key}]"
        elif _passes_as_is(field.default, field.type):
            # The default goes through the field's checks unchanged: no ``missing`` test.
            ns[f"default{path}"] = field.default
            # ``o.get(...)`` each time, not a ``get = o.get`` bound once per object: the
            # method call goes straight to dict.get, and no bound method is built and freed
            # (1,200 fewer instructions per Task, measured under callgrind).
            read = f"{v} = {o}.get({key}, default{path})"
        else:
            default: Any = field.default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                ns[f"factory{path}"] = default.factory
                fallback = f"factory{path}()"
            else:
                ns[f"default{path}"] = default
                fallback = f"default{path}"
            value = self.expression(path, field.type, v)
            return [
                f"{v} = {o}.get({key}, __missing)",
                f"{obj}.{name} = {fallback} if {v} is __missing else {value}",
            ]
        nested = self._inlined(field, depth)
        if nested is None and last and "uuids" in ns:
            # One (raw, UUID) tuple, swapped whole: a thread never sees half an update.  Only
            # a UUID the cache knew becomes the last one: a new one is seldom shared, and
            # swapping it in would cost every miss an update (a listing of new owners).
            ns[f"last{path}"] = (_MISSING, None)
            return [
                read,
                f"if (last_ := last{path})[0] == {v}: {obj}.{name} = last_[1]",
                f"elif {v} in uuids:",
                f"    last{path} = last_ = ({v}, uuids[{v}])",
                f"    {obj}.{name} = last_[1]",
                f"else: {obj}.{name} = {self.expression(path, field.type, v)}",
            ]
        if nested is None:
            return [read, f"{obj}.{name} = {self.expression(path, field.type, v, cached)}"]
        # A nested model: its own lines, on the dict in ``v``, into ``obj_<path>``.
        inner = [*self.model(nested, v, f"obj_{path}", f"_{path}", depth + 1)]
        inner.append(f"{obj}.{name} = obj_{path}")
        branches = []
        if nested is not field.type:  # ``Model | None``
            branches.append(f"if {v} is None: {obj}.{name} = None")
        if last:
            # The last object built, if the dict equals it (one object, swapped whole).
            ns[f"last{path}"] = None
            same = condition(self, nested, v, "last_", f"_{path}", supports=supports)
            test = f"(last_ := last{path}) is not None and {same}"
            branches.append(f"{'elif' if branches else 'if'} {test}: {obj}.{name} = last_")
            inner.append(f"last{path} = obj_{path}")
        if not branches:
            return [read, *inner]
        return [read, *branches, "else:", *_indent(inner, 1)]

    def memo(self, cls: type[Any], o: str, obj: str) -> tuple[str, list[str], list[str], str]:
        """The test that the dict ``o`` equals the last run's object ``r`` (but for the
        memo's field), lines reusing the one the memo holds, which ``continue`` the loop,
        lines remembering a new ``obj``, and the name of the key of the memo's field."""
        memo = self.lookups.memos[cls]
        ns = self.ns
        ns["recall"], ns["remember"] = memo.memo.get, memo.remember
        ns["last_run"], ns["remember_run"] = memo.last_run, memo.remember_run
        index = next(i for i, f in enumerate(attrs.fields(cls)) if f.name == memo.field)
        key = self.key(memo.field, f"{index}")
        # The raw value equal to the run's: the object at the same place was built from
        # an equal one (or reused for one), exactly what the memo's lookup establishes.
        same_as_run = condition(self, cls, o, "r", skip=memo.field, supports=supports)
        same = condition(self, cls, o, "e", skip=memo.field, supports=supports)
        reuse = [
            f"m = {o}[{key}]",
            "e = recall(m)",
            f"if e is not None and {same}:",
            "    keep(m)",
            "    append(e)",
            "    reused = True",
            "    continue",
        ]
        return same_as_run, reuse, [f"remember(m, {obj})"], key

    def key(self, name: str, path: str) -> str:
        """The name bound to the dict key ``name``: the decoder's own key object, if known."""
        self.ns[f"key{path}"] = name if self.lookups.key is None else self.lookups.key(name)
        return f"key{path}"

    def _inlined(self, field: attrs.Attribute[Any], depth: int) -> type[Any] | None:
        """The nested model of ``field`` to inline (required, or ``X | None`` = None)."""
        if depth >= _INLINE_DEPTH:
            return None
        if field.default is attrs.NOTHING:
            candidate = field.type
        elif field.default is None:
            candidate = optional_inner(field.type)
        else:
            return None
        return candidate if isinstance(candidate, type) and supports(candidate) else None

    def expression(self, path: str, type_: Any, v: str, cached: bool = True) -> str:
        """Python source turning ``v`` into the field's value (``cached``: a timestamp
        goes through ``times``, if given)."""
        ns = self.ns
        if type_ in PRIMITIVES:
            ns[f"type{path}"] = type_
            return f"({v} if type({v}) is type{path} else __bad({v}, type{path}))"
        if type_ is datetime:
            if "times" in ns and cached:
                # One probe, as for UUIDs below (a datetime is never falsy).
                return f"(times.get({v}) or new_time({v}))"
            ns["fromiso"], ns["utc"] = datetime.fromisoformat, UTC
            # As parse_datetime: RFC 3339 with any offset and up to 9 digits; naive means UTC.
            return (
                f"((d if (d := fromiso({v})).tzinfo is not None else d.replace(tzinfo=utc)) "
                f"if type({v}) is str else __bad({v}, str))"
            )
        inner = optional_inner(type_)
        if inner is not None:
            return f"(None if {v} is None else {self.expression(path, inner, v, cached)})"
        ns[f"hook{path}"] = self.converter.get_structure_hook(type_)
        ns[f"arg{path}"] = type_
        # A known value is found with one ``.get`` (one probe; on 3.11 the method call
        # costs less than ``in`` then ``[]``: ~650 fewer instructions per Task, callgrind);
        # anything else goes through the hook.  UUIDs and enum members are never falsy
        # (a member whose value were "" would only take the hook's way, to the same member).
        if type_ is UUID and "uuids" in ns:
            return f"(uuids.get({v}) or hook{path}({v}, arg{path}))"
        if isinstance(type_, type) and issubclass(type_, enum.Enum):
            ns[f"members{path}"] = dict(type_._value2member_map_)
            return f"(members{path}.get({v}) or hook{path}({v}, arg{path}))"
        return f"hook{path}({v}, arg{path})"


#: Builtins the list functions use per element, bound as locals with the namespace.
_LOCAL_BUILTINS = {"type": type, "zip": zip, "len": len, "list": list, "bool": bool}


def _compile(
    cls: type[Any], name: str, lines: list[str], ns: dict[str, Any], *, local: bool = False
) -> Callable[[Any, Any], Any]:
    """Compile ``lines`` (a ``def``) in ``ns``.  ``local``: bind the namespace's names
    (and a few builtins) as keyword-only defaults, so the code reads them as fast locals:
    a list function reads its keys, types and tables once per element, and a global's
    lookup costs three times a local's (~6% of a 10,000-entry conversation's decode).
    Not for the ``last`` values the code swaps (globals it assigns), nor for the
    one-object functions: filling ~80 keyword defaults per call costs more than it saves."""
    assigned = sorted(n for n in ns if n.startswith("last") and n[4:].replace("_", "").isdigit())
    if local:
        bound = {**_LOCAL_BUILTINS, **ns}
        ns.update(bound)
        names = ", ".join(
            f"{n}={n}" for n in bound if n.isidentifier() and n != name and n not in assigned
        )
        lines = [lines[0].replace("):", f", *, {names}):", 1), *lines[1:]]
    if assigned:  # the ``last`` values the code swaps, after the ``def`` line
        lines = [lines[0], f"    global {', '.join(assigned)}", *lines[1:]]
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
        return optional_inner(type_) is not None
    return type_ in PRIMITIVES and type(default) is type_
