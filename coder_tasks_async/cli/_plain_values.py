"""Option values converted without pydantic: strings, numbers, choices, lists of them.

typer (0.2x) converts every parameter value, even an absent one, through a pydantic
``TypeAdapter`` it builds on first use: on ``coder-tasks list`` that imported pydantic
and built a dozen adapters, about 150 ms of a 440 ms run (1.9x ``import aiohttp``;
without it 1.25x).  The CLI's options are plain: ``str``, ``int``/``float`` with a
minimum, a ``StrEnum`` of choices, lists of strings and bools.  :func:`convert`
converts exactly those itself, the way typer does (the same values, the same
refusals as ``BadParameter``), and hands anything else (paths, a missing required
value, an annotation it does not know) to typer unchanged.

The command class gives its own parameters this conversion (:func:`plain_values`);
typer's classes and functions are left as they are.  ``tests/cli/test_plain_values.py``
checks every parameter of every command against typer's own conversion.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable
from typing import Any, Union, get_args, get_origin

import typer
import typer.core

__all__ = ["PlainArgument", "PlainOption", "convert", "plain_values", "process"]

#: "Let typer convert this one."
NOT_PLAIN: Any = object()


def _annotation(param: Any) -> tuple[Any, Any]:
    """The parameter's annotation without ``| None``, and typer's parameter info."""
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = rest[0] if len(rest) == 1 else None
    return annotation, getattr(descriptor, "parameter_info", None)


def _number(kind: type, value: Any, info: Any) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a valid {kind.__name__}.") from None
    low, high = getattr(info, "min", None), getattr(info, "max", None)
    if getattr(info, "clamp", False):
        return NOT_PLAIN
    if low is not None and number < low:
        raise ValueError(f"{value!r} is smaller than the minimum {low}.")
    if high is not None and number > high:
        raise ValueError(f"{value!r} is larger than the maximum {high}.")
    return number


def _choice(kind: type[enum.Enum], value: Any, info: Any) -> Any:
    if isinstance(value, kind):
        return value
    folded = not getattr(info, "case_sensitive", True)
    wanted = str(value).casefold() if folded else str(value)
    for member in kind:
        shown = str(member.value)
        if (shown.casefold() if folded else shown) == wanted:
            return member
    names = ", ".join(repr(str(m.value).casefold() if folded else str(m.value)) for m in kind)
    raise ValueError(f"{value!r} is not one of {names}.")


def _one(annotation: Any, value: Any, info: Any) -> Any:
    """One value converted to ``annotation``, or :data:`NOT_PLAIN`."""
    if annotation is str:
        return value if isinstance(value, str) else NOT_PLAIN
    if annotation is bool:
        return value if isinstance(value, bool) else NOT_PLAIN
    if annotation in (int, float) and not isinstance(value, bool):
        return _number(annotation, value, info)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _choice(annotation, value, info)
    return NOT_PLAIN


def convert(param: Any, value: Any) -> Any:
    """``value`` as typer would convert it for ``param``, or :data:`NOT_PLAIN`.

    Raises ``ValueError`` (with typer's wording) for a value typer would refuse.
    """
    annotation, info = _annotation(param)
    if annotation is None or getattr(info, "parser", None) is not None:
        return NOT_PLAIN
    many = bool(param.multiple) or param.nargs == -1
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation) or (None,)
    elif many:
        return NOT_PLAIN
    if value is None or (many and value in ((), [])):
        # Absent: typer's answer without building anything, unless it must complain.
        if param.required:
            return NOT_PLAIN
        return None if not many else () if value is None else []
    if many:
        items = [_one(annotation, item, info) for item in value]
        return NOT_PLAIN if NOT_PLAIN in items else items
    return _one(annotation, value, info)


def process(param: Any, ctx: Any, value: Any, fallback: Callable[[Any, Any], Any]) -> Any:
    """click's ``process_value``: :func:`convert`, else typer's own (``fallback``)."""
    try:
        converted = convert(param, value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), ctx=ctx, param=param) from None
    if converted is NOT_PLAIN:
        return fallback(ctx, value)
    callback = param.callback
    return callback(ctx, param, converted) if callback is not None else converted


class PlainOption(typer.core.TyperOption):
    """A typer option whose plain values are converted without pydantic."""

    # No instance layout of its own: typer's options become these in place.
    __slots__ = ()

    def process_value(self, ctx: Any, value: Any) -> Any:
        """The option's value, converted (click calls this for every parameter)."""
        return process(self, ctx, value, super().process_value)


class PlainArgument(typer.core.TyperArgument):
    """A typer argument whose plain values are converted without pydantic."""

    __slots__ = ()

    def process_value(self, ctx: Any, value: Any) -> Any:
        """The argument's value, converted (click calls this for every parameter)."""
        return process(self, ctx, value, super().process_value)


def plain_values(param: Any) -> Any:
    """``param`` (built by typer for one of our commands) with the plain conversion."""
    if type(param) is typer.core.TyperOption:
        param.__class__ = PlainOption
    elif type(param) is typer.core.TyperArgument:
        param.__class__ = PlainArgument
    return param
