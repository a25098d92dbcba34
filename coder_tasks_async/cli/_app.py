"""The typer application, options shared by every command, and the error-to-exit-code policy.

Every command body is an ``async`` function handed to :func:`run`, which owns the
event loop and turns exceptions into one readable message and a distinct exit code:

* ``0`` success, ``1`` an API, transport or wait error, ``2`` a usage error (bad
  arguments, or a ``ValueError`` the SDK raised before sending anything),
  ``130`` interrupted with Ctrl-C.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Annotated, NoReturn

import anyio
import typer

from .. import CoderError, CoderTasksClient, PollPolicy, __version__
from . import _output

__all__ = [
    "EXIT_API",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "OutputFormat",
    "OutputOption",
    "PollOption",
    "TokenOption",
    "UrlOption",
    "app",
    "connect",
    "poll_policy",
    "run",
    "usage_error",
]

EXIT_API = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

app: typer.Typer = typer.Typer(
    name="coder-tasks",
    help="Drive Coder AI tasks from the command line (mirrors `coder task`), and run the demo.",
    no_args_is_help=True,
    add_completion=False,
    # Errors are reported by `run`; a rich traceback would bury the server's message.
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class OutputFormat(enum.StrEnum):
    """``-o`` values: a rich table for people, JSON for programs."""

    TABLE = "table"
    JSON = "json"


UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Deployment URL (default: $CODER_URL, else the Coder CLI's config dir).",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="Session token (default: $CODER_SESSION_TOKEN, else the Coder CLI's config dir).",
        show_default=False,
    ),
]
OutputOption = Annotated[
    OutputFormat,
    typer.Option("-o", "--output", help="Output format.", case_sensitive=False),
]

PollOption = Annotated[
    float | None,
    typer.Option(
        "--poll-interval",
        help="Seconds between polls while the task changes (backs off while it does not). "
        "Default: 1.",
        min=0.01,
        show_default=False,
    ),
]


def poll_policy(interval: float | None) -> PollPolicy | None:
    """``--poll-interval`` as a policy (``None``: the SDK's default)."""
    if interval is None:
        return None
    return PollPolicy(initial=interval, maximum=max(10.0, interval))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"coder-tasks {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Drive Coder AI tasks from the command line (mirrors `coder task`), and run the demo."""


def connect(url: str | None, token: str | None) -> CoderTasksClient:
    """A client from ``--url``/``--token``, filling what is missing like ``from_env()`` does.

    Raises ``ValueError`` (a usage error) naming every place that was looked at.
    """
    # One resolution rule, the SDK's: a flag beats the variable, which beats the
    # config dir, for URL and token separately.
    return CoderTasksClient.from_env(
        url=url, token=token, user_agent=f"coder-tasks-cli/{__version__}"
    )


def usage_error(message: str) -> NoReturn:
    """Print ``message`` as a usage error and exit with code 2."""
    _output.print_error(f"error: {message}")
    raise typer.Exit(EXIT_USAGE)


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, which anyio task groups raise."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def run(main: Callable[[], Awaitable[None]]) -> None:
    """Run ``main`` on asyncio and map its failure to a message and an exit code."""
    try:
        anyio.run(main, backend="asyncio")
    except KeyboardInterrupt:
        _output.print_error("Interrupted.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (CoderError, ValueError, BaseExceptionGroup) as exc:
        leaves = _leaves(exc)
        if any(isinstance(e, KeyboardInterrupt) for e in leaves):
            _output.print_error("Interrupted.")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        if not all(isinstance(e, CoderError | ValueError) for e in leaves):
            raise  # a bug: let the traceback show
        for leaf in leaves:
            _output.print_exception(leaf)
        code = EXIT_API if any(isinstance(e, CoderError) for e in leaves) else EXIT_USAGE
        raise typer.Exit(code) from None
