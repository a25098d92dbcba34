"""Running a command body: its event loop, and the error-to-exit-code policy.

Every command body is an ``async`` function handed to :func:`run`, which turns
exceptions into one readable message (:mod:`._error_messages`) and a distinct exit
code: ``0`` success (also when the reader of stdout went away, as in ``| head -1``),
``1`` an API, transport or wait error, ``2`` a usage error (bad arguments, or a
``ValueError`` the SDK raised before sending anything), ``130`` interrupted.

The loop is plain ``asyncio.run``: the SDK runs on asyncio, and importing anyio
just to start the loop would cost every command its import time.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from ._error_messages import CliError, Subject, describe, exit_code
from ._terminal import print_error, print_notice

if TYPE_CHECKING:
    import logging

    from ._connection import Connection

__all__ = [
    "EXIT_API",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "TRACEBACK_ENV",
    "point_stdout_at_devnull",
    "quiet_broken_pipe",
    "run",
    "usage_error",
]

EXIT_API = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: Set to show the traceback of an unexpected failure instead of one line.
TRACEBACK_ENV = "CODER_TASKS_TRACEBACK"


def usage_error(message: str, hint: str | None = None) -> NoReturn:
    """Print ``message`` as a usage error and exit with code 2."""
    print_error(message, hint)
    raise typer.Exit(EXIT_USAGE)


def point_stdout_at_devnull() -> None:
    """So the interpreter's final flush of a closed pipe does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (an in-process test runner)
        pass


def quiet_broken_pipe() -> NoReturn:
    """The reader of stdout went away (``| head -1``): stop quietly with success, like ``gh``."""
    point_stdout_at_devnull()
    raise typer.Exit(0)


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, which task groups raise."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _stderr_handler() -> logging.Handler:
    """A handler that writes to whatever ``sys.stderr`` is now (a test runner swaps it)."""
    import logging

    class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
        @property
        def stream(self) -> Any:
            return sys.stderr

        @stream.setter
        def stream(self, _: Any) -> None:
            pass

    return _StderrHandler()


@contextlib.contextmanager
def _debug_log(verbose: bool) -> Iterator[None]:
    """``-v``: the SDK's request log on stderr, for this command only."""
    if not verbose:
        yield
        return
    import logging

    logger = logging.getLogger("coder_tasks_async")
    handler = _stderr_handler()
    handler.setFormatter(logging.Formatter("debug: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _print_detail(exc: BaseException) -> None:
    """Under ``-v``: what the server sent back, for the curious and for bug reports."""
    for attr in ("method", "url", "status", "detail", "snippet"):
        value = getattr(exc, attr, None)
        if value:
            print_notice(f"  {attr}: {value}", "dim")
    from coder_tasks_async import CoderError

    if not isinstance(exc, CoderError | CliError | ValueError | OSError):
        # Not an error the CLI expects: show where it came from (a bug to report).
        import traceback

        print_notice("".join(traceback.format_exception(exc)).rstrip())


def _report(leaves: list[BaseException], subject: Subject, verbose: bool) -> NoReturn:
    """Stop the way the failure asks for: quietly, interrupted, or with its message."""
    if any(isinstance(e, BrokenPipeError) for e in leaves):
        quiet_broken_pipe()
    if any(isinstance(e, KeyboardInterrupt) for e in leaves):
        print_notice("Interrupted.")
        raise typer.Exit(EXIT_INTERRUPTED)
    for leaf in leaves:
        if isinstance(leaf, typer.Exit | SystemExit):
            raise leaf
    for leaf in leaves:
        message, hint = describe(leaf, subject)
        print_error(message, hint)
        if verbose:
            _print_detail(leaf)
    raise typer.Exit(max(exit_code(e) for e in leaves))


def run(
    main: Callable[[], Awaitable[None]],
    *,
    conn: Connection | None = None,
    about: str | None = None,
) -> None:
    """Run ``main`` on asyncio and map its failure to a message and an exit code.

    ``about`` (like ``"task alice/fix-login"``) is what a not-found error names.
    """
    import asyncio

    verbose = conn.verbose if conn is not None else False

    async def body() -> None:
        await main()

    try:
        with _debug_log(verbose):
            asyncio.run(body())
            _log().debug("command done", extra={"subject": about})
    except typer.Exit:
        raise
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        # The type only: a message may quote what a server sent back.
        kinds = sorted({type(leaf).__name__ for leaf in _leaves(exc)})
        _log().debug("command failed: %s", ", ".join(kinds), extra={"subject": about})
        url = conn.resolved_url if conn is not None else None
        _report(_leaves(exc), Subject(about=about, url=url), verbose)


def _log() -> logging.Logger:
    """The CLI's logger (README, "Observability"); logging is imported only when a
    command runs, never for ``--help``."""
    import logging

    return logging.getLogger("coder_tasks_async.cli")
