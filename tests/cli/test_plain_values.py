"""The CLI's own conversion of option values gives what typer's would, for every parameter.

``_plain_values`` converts plain values (strings, numbers with bounds, choices, lists
of strings) without typer's pydantic step; each parameter of each command, given
good and bad values, must come out the same as through typer's own
``process_value`` (the same value, or a ``BadParameter`` from both).
"""

from __future__ import annotations

import enum
from typing import Any

import pytest
import typer
import typer.core
import typer.main

from coder_tasks_async.cli import app
from coder_tasks_async.cli._plain_values import NOT_PLAIN, PlainArgument, PlainOption, convert

_COMMAND = typer.main.get_command(app)

SAMPLES: dict[Any, list[Any]] = {
    str: ["x", "fix-login", "ユーザー", "", None],
    int: ["5", "0", "-1", "abc", "2.5", None],
    float: ["0.5", "0", "-1", "1e3", "abc", "0.001", None],
    bool: [True, False, None],
}


#: Registered with typer's own command class (it is also `python -m coder_tasks_async.testing`).
_TYPER_ONLY = {"fake-server"}


def _params() -> list[tuple[str, Any]]:
    found = []
    for name, command in sorted(_COMMAND.commands.items()):  # type: ignore[attr-defined]
        if name in _TYPER_ONLY:
            continue
        ctx = typer.Context(command)
        for param in [*command.params, command.get_help_option(ctx)]:
            if param is not None:
                found.append((f"{name} {param.name}", param))
    return found


def _samples(param: Any) -> list[Any]:
    from coder_tasks_async.cli._plain_values import _annotation

    annotation, _ = _annotation(param)
    many = param.multiple or param.nargs == -1
    if many:
        return [("a", "b=c"), ("x",), (), None]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [m.value for m in annotation] + [str(m.value).upper() for m in annotation] + ["nope"]
    return SAMPLES.get(annotation, [])


def _typer_way(param: Any, ctx: Any, value: Any) -> Any:
    base = typer.core.TyperOption if isinstance(param, PlainOption) else typer.core.TyperArgument
    try:
        return base.process_value(param, ctx, value)
    except typer.BadParameter:
        return "refused"
    except Exception as exc:  # a missing required value
        return type(exc).__name__


def _our_way(param: Any, ctx: Any, value: Any) -> Any:
    try:
        return param.process_value(ctx, value)
    except typer.BadParameter:
        return "refused"
    except Exception as exc:
        return type(exc).__name__


@pytest.mark.parametrize(("where", "param"), _params(), ids=[w for w, _ in _params()])
def test_same_values_as_typer(where: str, param: Any) -> None:
    assert isinstance(param, PlainOption | PlainArgument), where
    ctx = typer.Context(_COMMAND)
    for value in _samples(param):
        assert _our_way(param, ctx, value) == _typer_way(param, ctx, value), (where, value)


def test_the_everyday_parameters_are_all_plain() -> None:
    # What `list`, `status`, `logs`, `wait` and `create` take never needs typer's step.
    plain_kinds = {"list", "status", "logs", "wait", "create", "send", "pause", "version"}
    for where, param in _params():
        if where.split()[0] not in plain_kinds or where.endswith("cursor_file"):
            continue
        for value in _samples(param)[:1]:
            if value is None and param.required:
                continue
            assert convert(param, value) is not NOT_PLAIN, (where, value)
