"""The typer application, options shared by every command, and the error-to-exit-code policy.

Every command body is an ``async`` function handed to :func:`run`, which owns the
event loop and turns exceptions into one readable message and a distinct exit code:

* ``0`` success (also when the reader of stdout went away, as in ``| head -1``),
  ``1`` an API, transport or wait error, ``2`` a usage error (bad arguments, or a
  ``ValueError`` the SDK raised before sending anything), ``130`` interrupted.

Nothing here imports the SDK client (and so aiohttp), attrs, rich or logging at module
level: ``--help`` and argument errors must stay fast, so command bodies import what
they need when they run (``tests/cli/test_help_footprint.py`` holds the line).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
import typer.core

from .. import __version__
from . import _output

if TYPE_CHECKING:
    import logging

    from coder_tasks_async import CoderTasksClient, PollPolicy

__all__ = [
    "EXIT_API",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "Conn",
    "NoWatchOption",
    "OutputFormat",
    "app",
    "poll_policy",
    "run",
    "usage_error",
]

EXIT_API = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

URL_ENV = "CODER_URL"
#: Set to show the traceback of an unexpected failure instead of one line.
TRACEBACK_ENV = "CODER_TASKS_TRACEBACK"
TOKEN_ENV = "CODER_SESSION_TOKEN"


def _no_type_label(self: object, ctx: object) -> None:
    return None


# Typer labels every argument with its Python type (``INPUT <str>``) in help; the
# metavar and the help text already say what to pass.
typer.core.TyperArgument.display_type_rich = _no_type_label  # type: ignore[method-assign]


class _Group(typer.core.TyperGroup):
    """Usage errors in the CLI's one style (``error: …`` + a hint), not a framed panel."""

    #: The order of ``--help``: the everyday commands first, as ``coder task`` lists them.
    ORDER = (
        "list", "create", "status", "logs", "send", "wait", "pause", "resume", "delete",
        "version", "completion", "demo", "fake-server",
    )  # fmt: skip

    def list_commands(self, ctx: Any) -> list[str]:
        """Command names in :attr:`ORDER` (others after them)."""
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(self.ORDER)}
        return sorted(names, key=lambda name: rank.get(name, len(rank)))

    def get_help_option(self, ctx: Any) -> Any:
        """Typer's ``--help`` flag, ``False`` (not ``None``) when absent.

        Typer coerces a ``None`` value through a pydantic validator, built (and pydantic
        imported, dearer than all the rest of ``--help``) just for that; a ``bool``
        skips coercion.  This matters for ``coder-tasks <command> --help``, where the
        group's own ``--help`` is absent.
        """
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        from typer._click import exceptions as click_errors

        try:
            rv = super().main(*args, **{**kwargs, "standalone_mode": False})
        except click_errors.NoArgsIsHelpError as exc:
            exc.show()
            rv = exc.exit_code
        except click_errors.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "coder-tasks"
            # Typer words enum refusals like pydantic ("Value error, …"): keep the fact only.
            message = exc.format_message().replace("Value error, ", "")
            _output.print_error(message, f"see `{where} --help`")
            rv = exc.exit_code
        except click_errors.ClickException as exc:
            _output.print_error(exc.format_message())
            rv = exc.exit_code
        except typer.Abort:
            _output.print_notice("Interrupted.")
            rv = EXIT_INTERRUPTED
        except BrokenPipeError:  # help or a table printed into `| head`
            _point_stdout_at_devnull()
            rv = 0
        except Exception as exc:
            # A bug of ours outside a command body; `run` handles everything inside.
            if os.environ.get(TRACEBACK_ENV):
                raise
            _output.print_error(
                f"unexpected failure: {' '.join(str(exc).split()) or 'no details'}",
                f"this is a bug in coder-tasks; set {TRACEBACK_ENV}=1 to see where",
            )
            rv = EXIT_API
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


app: typer.Typer = typer.Typer(
    name="coder-tasks",
    cls=_Group,
    # Plain help: no type placeholders, and no rich import just to print it.
    rich_markup_mode=None,
    help="Drive Coder AI tasks from the command line (mirrors `coder task`), and run the demo.",
    no_args_is_help=True,
    add_completion=False,
    # Errors are reported by `run`; a traceback would bury the server's message.
    pretty_exceptions_enable=False,
    options_metavar="[OPTIONS]",
    context_settings={"help_option_names": ["-h", "--help"]},
)


class OutputFormat(enum.StrEnum):
    """``-o`` values: a table for people, JSON for programs."""

    TABLE = "table"
    JSON = "json"


UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help=f"Deployment URL (default: ${URL_ENV}, else the Coder CLI's config dir).",
        show_default=False,
        metavar="URL",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        help=f"Session token (default: ${TOKEN_ENV}, else the Coder CLI's config dir).",
        show_default=False,
        metavar="TOKEN",
    ),
]
HeaderOption = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        help="Extra HTTP header for every request, KEY=VALUE (repeatable), as `coder --header`.",
        show_default=False,
        metavar="KEY=VALUE",
    ),
]
VerboseOption = Annotated[
    bool,
    typer.Option("-v", "--verbose", help="Log every request and full error bodies to stderr."),
]
OutputOption = Annotated[
    OutputFormat,
    typer.Option("-o", "--output", help="Output format.", case_sensitive=False, metavar="FORMAT"),
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


def owner_of(owner: str, user: str | None) -> str:
    """``--owner``, or the deprecated ``--user`` (with a warning on stderr)."""
    if user is None:
        return owner
    _output.print_warning("--user is deprecated; use --owner")
    return user if owner == "me" else owner


def poll_policy(interval: float | None) -> PollPolicy | None:
    """``--poll-interval`` as a ``PollPolicy`` (``None``: the SDK's default)."""
    if interval is None:
        return None
    from coder_tasks_async import PollPolicy

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
    """Drive Coder AI tasks from the command line (mirrors `coder task`), and run the demo.

    Example: coder-tasks list
    """


def check_url(url: str) -> str:
    """A deployment URL with a scheme; a bare host gets an ``https://`` suggestion."""
    text = url.strip()
    if "://" not in text:
        if not text or " " in text:
            usage_error(f"--url: {text!r} is not a URL (expected https://coder.example.com)")
        usage_error(f"--url: {text!r} has no scheme; did you mean https://{text} ?")
    return text


def _parse_headers(pairs: list[str] | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or any(c in pair for c in "\r\n\0"):
            usage_error(f"--header expects KEY=VALUE, got {pair!r}")
        headers[key.strip()] = value.strip()
    return headers


# A dataclass, not attrs: dataclasses is loaded by typer already, attrs is not.
@dataclasses.dataclass(slots=True)
class Conn:
    """How to reach the deployment: the connection flags every API command takes."""

    url: str | None = None
    token: str | None = dataclasses.field(default=None, repr=False)
    header: list[str] | None = dataclasses.field(default=None, repr=False)
    verbose: bool = False
    #: Listen to workspace watch streams while waiting (``--no-watch`` turns it off).
    watch: bool = True
    _headers: dict[str, str] = dataclasses.field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Checked before any request, so a typo is a usage error (exit 2), not a network one.
        if self.url is not None:
            self.url = check_url(self.url)
        self._headers = _parse_headers(self.header)

    def client(self) -> CoderTasksClient:
        """A client from the flags, filling what is missing like ``from_env()`` does.

        Raises ``ValueError`` (a usage error) naming every place that was looked at.
        """
        from coder_tasks_async import CoderTasksClient
        from coder_tasks_async._environment import settings_from_env

        env = dict(os.environ)
        # Overlaying the flags on the environment keeps a single resolution rule: a flag
        # beats the variable, which beats the config dir, for URL and token separately.
        if self.url:
            env[URL_ENV] = self.url
        if self.token:
            env[TOKEN_ENV] = self.token
        settings = settings_from_env(env)
        from . import _errors

        _errors.current_url = check_url(settings.url).rstrip("/")
        session = None
        if self._headers:
            import aiohttp

            # The client does not close a session it was given: `_HeaderClient` does.
            session = aiohttp.ClientSession(headers=self._headers)
        client = CoderTasksClient(
            check_url(settings.url),
            token=settings.token,
            user_agent=f"coder-tasks-cli/{__version__}",
            session=session,
            wake="auto" if self.watch else "poll",
        )
        if session is not None:
            _own_session(client, session)
        return client


def _own_session(client: CoderTasksClient, session: object) -> None:
    """Close ``session`` when ``client`` closes (the client leaves callers' sessions open)."""
    close = client.aclose

    async def aclose() -> None:
        try:
            await close()
        finally:
            await session.close()  # type: ignore[attr-defined]

    client.aclose = aclose  # type: ignore[method-assign]


def usage_error(message: str, hint: str | None = None) -> NoReturn:
    """Print ``message`` as a usage error and exit with code 2."""
    _output.print_error(message, hint)
    raise typer.Exit(EXIT_USAGE)


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, which anyio task groups raise."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _point_stdout_at_devnull() -> None:
    """So the interpreter's final flush of a closed pipe does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (an in-process test runner)
        pass


def quiet_broken_pipe() -> NoReturn:
    """The reader of stdout went away (``| head -1``): stop quietly with success, like ``gh``."""
    _point_stdout_at_devnull()
    raise typer.Exit(0)


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


def run(
    main: Callable[[], Awaitable[None]],
    *,
    subject: str | None = None,
    verbose: bool = False,
) -> None:
    """Run ``main`` on asyncio and map its failure to a message and an exit code.

    ``subject`` (like ``"task alice/fix-login"``) is what a not-found error names.
    """
    import anyio

    from ._errors import describe, exit_code

    try:
        with _debug_log(verbose):
            anyio.run(main, backend="asyncio")
    except typer.Exit:
        raise
    except BaseException as exc:
        leaves = _leaves(exc)
        if any(isinstance(e, BrokenPipeError) for e in leaves):
            quiet_broken_pipe()
        if any(isinstance(e, KeyboardInterrupt) for e in leaves):
            _output.print_notice("Interrupted.")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        exits = [e for e in leaves if isinstance(e, typer.Exit)]
        if exits:
            raise exits[0] from None
        if any(isinstance(e, SystemExit) for e in leaves):
            raise
        for leaf in leaves:
            message, hint = describe(leaf, subject=subject)
            _output.print_error(message, hint)
            if verbose:
                _output.print_detail(leaf)
        raise typer.Exit(max(exit_code(e) for e in leaves)) from None
