"""Options several task commands share, declared once, and the checks of their values.

Only typer and the CLI's own helpers are imported at module level; the SDK is
imported inside functions, so ``--help`` and argument errors never load aiohttp.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from ._completion import OUTPUT_FORMATS, STATES, STATUSES, complete_task, values
from ._runner import usage_error
from ._tables import ColumnSet
from ._terminal import print_warning

if TYPE_CHECKING:
    from coder_tasks_async import PollPolicy

__all__ = [
    "TEMPLATE_VERSION_ENV",
    "NoWatchOption",
    "OutputFormat",
    "OutputOption",
    "OwnerOption",
    "PollOption",
    "QuietOption",
    "StdinOption",
    "TaskArg",
    "UserAlias",
    "Watching",
    "WideOption",
    "column_option",
    "input_argument",
    "input_from",
    "owner_of",
    "parse_columns",
    "parse_status",
    "parse_until",
    "poll_policy",
    "watching_options",
]

TEMPLATE_VERSION_ENV = "CODER_TASK_TEMPLATE_VERSION"
#: Server spellings of states (v2.26-era servers, the app-status enum) and the state meant.
STATE_SPELLINGS = {"completed": "complete", "failure": "failed"}


class OutputFormat(enum.StrEnum):
    """``-o`` values: a table for people, JSON for programs."""

    TABLE = "table"
    JSON = "json"


TaskArg = Annotated[
    str,
    typer.Argument(
        help="Task: UUID, name, or owner/name.",
        show_default=False,
        metavar="TASK",
        autocompletion=complete_task,
    ),
]
OutputOption = Annotated[
    OutputFormat,
    typer.Option(
        "-o",
        "--output",
        help="Output format: table or json.",
        case_sensitive=False,
        metavar="table|json",
        autocompletion=values(OUTPUT_FORMATS),
    ),
]
QuietOption = Annotated[bool, typer.Option("-q", "--quiet", help="Print only task ids.")]
StdinOption = Annotated[bool, typer.Option("--stdin", help="Read the input from stdin.")]


def input_argument(what: str) -> object:
    """The optional INPUT argument of ``create`` and ``send`` (``-`` reads stdin)."""
    return typer.Argument(
        help=f"{what} (`-`: read it from stdin).", show_default=False, metavar="INPUT"
    )


WideOption = Annotated[
    bool,
    typer.Option(
        "-w", "--wide", help="Never cut the message column (already the case when piped)."
    ),
]
PollOption = Annotated[
    float | None,
    typer.Option(
        "--poll-interval",
        help="Seconds between polls while the task changes (backs off while it does not). "
        "Default: 1.",
        min=0.01,
        show_default=False,
        metavar="SECONDS",
    ),
]
NoWatchOption = Annotated[
    bool,
    typer.Option(
        "--no-watch",
        help="Only poll: do not listen to the task's workspace watch stream, whose "
        "events otherwise wake the poll at once.",
    ),
]
OwnerOption = Annotated[
    str,
    typer.Option("--owner", help="Owner used to resolve a bare task name.", metavar="USER"),
]
#: ``--user`` was this option's first name; it still works, with a warning.
UserAlias = Annotated[str | None, typer.Option("--user", hidden=True)]


@dataclasses.dataclass(frozen=True)
class Watching:
    """Whose task a command finds and how it watches it: ``--owner`` (or the deprecated
    ``--user``), ``--poll-interval`` and ``--no-watch``, as :func:`watching_options`
    hands them over."""

    who: str
    poll_interval: float | None
    no_watch: bool


_KW = inspect.Parameter.KEYWORD_ONLY
#: The options of :class:`Watching`, in help order (their one declaration).
WATCHING_OPTIONS = (
    inspect.Parameter("owner", _KW, default="me", annotation=OwnerOption),
    inspect.Parameter("user", _KW, default=None, annotation=UserAlias),
    inspect.Parameter("poll_interval", _KW, default=None, annotation=PollOption),
    inspect.Parameter("no_watch", _KW, default=False, annotation=NoWatchOption),
)
F = TypeVar("F", bound=Callable[..., Any])


def watching_options(func: F) -> F:
    """Give a command that finds a task and watches it ``--owner``, ``--poll-interval``
    and ``--no-watch``; it receives them as ``watching: Watching``, and they stand in
    ``--help`` where that parameter stands in its signature."""

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        owner, user = kwargs.pop("owner"), kwargs.pop("user")
        poll_interval, no_watch = kwargs.pop("poll_interval"), kwargs.pop("no_watch")
        return func(**kwargs, watching=Watching(owner_of(owner, user), poll_interval, no_watch))

    signature = inspect.signature(func, eval_str=True)
    params: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        params += WATCHING_OPTIONS if param.name == "watching" else (param,)
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return cast(F, wrapper)


def column_option(columns: ColumnSet) -> object:
    """``-c/--column`` for a table of ``columns``, its help listing them (as ``coder``'s)."""
    return typer.Option(
        "-c",
        "--column",
        help=f"Columns to show, comma-separated or repeated: {', '.join(columns.names())} "
        f"(default: {','.join(columns.default)}).",
        show_default=False,
        metavar="COLUMNS",
        autocompletion=values(columns.names()),
    )


def parse_columns(columns: ColumnSet, spec: Sequence[str] | None) -> list[str] | None:
    """``-c`` values as column names (``None``: the default set); a usage error otherwise."""
    if not spec:
        return None
    try:
        return columns.parse(spec)
    except ValueError as exc:
        usage_error(f"-c/--column: {exc}")


def owner_of(owner: str, user: str | None) -> str:
    """``--owner``, or the deprecated ``--user`` (with a warning on stderr)."""
    if user is None:
        return owner
    print_warning("--user is deprecated; use --owner")
    return user if owner == "me" else owner


def input_from(text: str | None, stdin: bool) -> str:
    """The input from the argument, or stdin (``--stdin``, or ``-`` as the argument)."""
    if text == "-" and not stdin:
        text, stdin = None, True
    if stdin:
        if text is not None:
            usage_error("give the input as an argument or with --stdin, not both")
        return sys.stdin.read().strip()
    if text is None:
        usage_error("missing input: pass it as an argument, `-` or --stdin to read stdin")
    return text


def parse_until(flag: str, spec: str) -> list[str]:
    """``--until Active,IDLE`` as lower-case values; a usage error lists the valid ones."""
    wanted = []
    for part in spec.split(","):
        value = part.strip().lower()
        if not value:
            continue
        value = STATE_SPELLINGS.get(value, value)
        if value not in STATUSES and value not in STATES:
            usage_error(
                f"{flag}: unknown value {part.strip()!r}",
                f"statuses: {', '.join(STATUSES)}; states: {', '.join(STATES)}",
            )
        wanted.append(value)
    if not wanted:
        usage_error(f"{flag} needs at least one status or state")
    return wanted


def parse_status(value: str | None) -> str | None:
    """``--status`` in any case; a usage error lists the statuses."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered not in STATUSES:
        usage_error(f"--status: unknown status {value!r}", f"statuses: {', '.join(STATUSES)}")
    return lowered


def poll_policy(interval: float | None) -> PollPolicy | None:
    """``--poll-interval`` as a ``PollPolicy`` (``None``: the SDK's default)."""
    if interval is None:
        return None
    from coder_tasks_async import PollPolicy

    return PollPolicy(initial=interval, maximum=max(10.0, interval))


StatusOption = Annotated[
    str | None,
    typer.Option(
        "--status",
        help=f"Only tasks in this status: {', '.join(STATUSES)} (any case).",
        metavar="STATUS",
        autocompletion=values(STATUSES),
    ),
]
