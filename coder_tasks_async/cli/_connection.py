"""The global options, declared once: how to reach the deployment and how loudly.

:data:`GLOBAL_OPTIONS` is the one declaration of ``--url``, ``--token``,
``--header``, ``--header-command``, ``-v`` and ``--retry-for``.
:func:`connection_options` gives them to every command that talks to a server
(``coder-tasks list --url U``), and :func:`lift_global_options` moves them from
before the command to just after it (``coder-tasks --url U list``), so they work
anywhere on the line as ``coder``'s global flags do.  The root command itself has
no such options: it would have to parse them on every run, help included, and
typer's coercion of them costs more than the rest of ``--help``.

A flag given after the command beats the same flag before it; either beats the
environment (``CODER_URL``,
``CODER_SESSION_TOKEN``, ``CODER_HEADER``, ``CODER_HEADER_COMMAND``,
``CODER_VERBOSE``, ``CODER_TASKS_RETRY_FOR``), which beats the Coder CLI's config dir.

Nothing here imports the SDK at module level: building a client happens in
:meth:`Connection.open`, inside the command's event loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import os
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from .. import __version__
from ._error_messages import CliError

if TYPE_CHECKING:
    from coder_tasks_async import CoderTasksClient

__all__ = [
    "GLOBAL_OPTIONS",
    "HEADER_COMMAND_ENV",
    "HEADER_ENV",
    "RETRY_FOR_ENV",
    "Connection",
    "check_url",
    "connection_options",
    "lift_global_options",
]

URL_ENV = "CODER_URL"
TOKEN_ENV = "CODER_SESSION_TOKEN"
HEADER_ENV = "CODER_HEADER"
HEADER_COMMAND_ENV = "CODER_HEADER_COMMAND"
VERBOSE_ENV = "CODER_VERBOSE"
RETRY_FOR_ENV = "CODER_TASKS_RETRY_FOR"
#: How long a waiting command keeps trying a server that stopped answering.
DEFAULT_RETRY_FOR = 30.0
#: How long ``--header-command`` may run.
HEADER_COMMAND_TIMEOUT = 30.0

_KW = inspect.Parameter.KEYWORD_ONLY


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, _KW, default=default, annotation=annotation)


def _ignored_flag(name: str, flag: str, why: str) -> inspect.Parameter:
    """A ``coder`` global flag that asks to leave out what this CLI never does: taken
    (so that ``coder`` scripts run unchanged), hidden from help, and ignored."""
    return _option(name, Annotated[bool, typer.Option(flag, help=why, hidden=True)], False)


#: ``coder``'s global flags (v2.33.0-rc.1, cli/root.go) that only silence warnings this
#: CLI never prints.  ``--force-tty`` is not here: colour and cutting do depend on a tty.
IGNORED_OPTIONS: tuple[inspect.Parameter, ...] = (
    _ignored_flag(
        "no_version_warning", "--no-version-warning", "Ignored: no version warning is printed."
    ),
    _ignored_flag(
        "no_feature_warning", "--no-feature-warning", "Ignored: no licence warning is printed."
    ),
)

#: The global options, in help order (the one place they are declared).
GLOBAL_OPTIONS: tuple[inspect.Parameter, ...] = (
    _option(
        "url",
        Annotated[
            str | None,
            typer.Option(
                "--url",
                help=f"Deployment URL (default: ${URL_ENV}, else the Coder CLI's config dir).",
                metavar="URL",
                show_default=False,
            ),
        ],
        None,
    ),
    _option(
        "token",
        Annotated[
            str | None,
            typer.Option(
                "--token",
                help=f"Session token (default: ${TOKEN_ENV}, else the Coder CLI's config dir).",
                metavar="TOKEN",
                show_default=False,
            ),
        ],
        None,
    ),
    _option(
        "header",
        Annotated[
            list[str] | None,
            typer.Option(
                "--header",
                help=f"Extra HTTP header for every request, KEY=VALUE (repeatable; "
                f"default: ${HEADER_ENV}, comma-separated).",
                metavar="KEY=VALUE",
                show_default=False,
            ),
        ],
        None,
    ),
    _option(
        "header_command",
        Annotated[
            str | None,
            typer.Option(
                "--header-command",
                help="Command that prints more headers, one KEY=VALUE a line "
                f"(default: ${HEADER_COMMAND_ENV}).",
                metavar="COMMAND",
                show_default=False,
            ),
        ],
        None,
    ),
    _option(
        "verbose",
        Annotated[
            bool,
            typer.Option(
                "-v",
                "--verbose",
                help=f"Log every request and full error bodies to stderr (or ${VERBOSE_ENV}).",
            ),
        ],
        False,
    ),
    _option(
        "retry_for",
        Annotated[
            float | None,
            typer.Option(
                "--retry-for",
                help="When the server stops answering during a wait, keep trying this many "
                f"seconds, then fail (0: forever; default: ${RETRY_FOR_ENV}, else "
                f"{DEFAULT_RETRY_FOR:g}).",
                min=0,
                metavar="SECONDS",
                show_default=False,
            ),
        ],
        None,
    ),
    *IGNORED_OPTIONS,
)
_NAMES = tuple(p.name for p in GLOBAL_OPTIONS)


def check_url(url: str) -> str:
    """A deployment URL with a scheme; a bare host gets an ``https://`` suggestion."""
    text = url.strip()
    if "://" not in text:
        if not text or " " in text:
            raise CliError(
                f"--url: {text!r} is not a URL (expected https://coder.example.com)", code=2
            )
        raise CliError(f"--url: {text!r} has no scheme; did you mean https://{text} ?", code=2)
    return text


def _true(text: str | None) -> bool:
    """Go's ``strconv.ParseBool`` truth, which ``coder`` applies to boolean variables."""
    return (text or "").strip() in ("1", "t", "T", "true", "TRUE", "True")


def _header_lines(flags: list[str], command: str | None, url: str) -> list[str]:
    """``--header`` (else ``$CODER_HEADER``), then what ``--header-command`` prints."""
    lines = list(flags)
    if not lines and os.environ.get(HEADER_ENV):
        import csv

        # coder reads this variable as CSV, so a value may hold a quoted comma.
        lines = [item for row in csv.reader([os.environ[HEADER_ENV]]) for item in row]
    if command:
        lines += _run_header_command(command, url)
    return lines


def _run_header_command(command: str, url: str) -> list[str]:
    """Run ``--header-command`` as ``coder`` does: ``sh -c``, ``CODER_URL`` set, stderr dropped."""
    import subprocess

    try:
        done = subprocess.run(
            ["sh", "-c", command],
            env={**os.environ, URL_ENV: url},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=HEADER_COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CliError(
            f"--header-command did not finish within {HEADER_COMMAND_TIMEOUT:g}s"
        ) from None
    if done.returncode != 0:
        raise CliError(
            f"--header-command failed with exit status {done.returncode}",
            "run it yourself to see why; it must print KEY=VALUE lines",
        )
    text = done.stdout.decode("utf-8", "replace")
    return [line for line in text.splitlines() if line.strip()]


def _parse_headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or any(c in line for c in "\r\n\0"):
            raise CliError(f"--header expects KEY=VALUE, got {line!r}", code=2)
        headers[key.strip()] = value.strip()
    return headers


@dataclasses.dataclass(slots=True)
class Connection:
    """The global options of one invocation, merged; opens the client.

    A dataclass, not attrs: dataclasses is loaded by typer already, attrs is not.
    """

    url: str | None = None
    token: str | None = dataclasses.field(default=None, repr=False)
    header: list[str] = dataclasses.field(default_factory=list, repr=False)
    header_command: str | None = dataclasses.field(default=None, repr=False)
    verbose: bool = False
    retry_for: float | None = None
    #: Listen to workspace watch streams while waiting (``--no-watch`` turns it off).
    watch: bool = True
    #: The deployment URL, known once :meth:`open` has resolved it.
    resolved_url: str | None = None

    def __post_init__(self) -> None:
        # Checked before any request, so a typo is a usage error (exit 2).
        if self.url is not None:
            self.url = check_url(self.url)
        self.verbose = self.verbose or _true(os.environ.get(VERBOSE_ENV))
        if self.header_command is None:
            self.header_command = os.environ.get(HEADER_COMMAND_ENV) or None
        _parse_headers(self.header)

    @property
    def patience(self) -> float | None:
        """``--retry-for`` in seconds, ``None`` for forever."""
        value = self.retry_for
        if value is None:
            text = os.environ.get(RETRY_FOR_ENV, "").strip()
            try:
                value = float(text) if text else DEFAULT_RETRY_FOR
            except ValueError:
                raise CliError(
                    f"${RETRY_FOR_ENV}: {text!r} is not a number of seconds", code=2
                ) from None
        if value < 0:
            raise CliError("--retry-for must not be negative", code=2)
        return value or None

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[CoderTasksClient]:
        """A client from the flags, filling what is missing like ``from_env()`` does.

        Raises ``ValueError`` (a usage error) naming every place that was looked at.
        """
        from coder_tasks_async import CoderTasksClient

        def make(session: Any = None) -> CoderTasksClient:
            # One resolution rule: a flag beats the variable, which beats the config dir.
            return CoderTasksClient.from_env(
                url=self.url,
                token=self.token,
                user_agent=f"coder-tasks-cli/{__version__}",
                session=session,
                wake="auto" if self.watch else "poll",
            )

        client = make()
        self.resolved_url = check_url(client.url).rstrip("/")
        async with contextlib.AsyncExitStack() as stack:
            lines = _header_lines(self.header, self.header_command, self.resolved_url)
            if lines:
                import aiohttp

                await client.aclose()
                # The client leaves a session it was given open: the stack closes it.
                session = await stack.enter_async_context(
                    aiohttp.ClientSession(
                        headers=_parse_headers(lines),
                        cookie_jar=aiohttp.DummyCookieJar(),
                        trust_env=True,
                    )
                )
                client = make(session)
            yield await stack.enter_async_context(client)


F = TypeVar("F", bound=Callable[..., Any])

#: Each global option's spellings, and whether it takes a value.
_SPELLINGS: dict[str, bool] = {
    spelling: p.annotation.__origin__ is not bool
    for p in GLOBAL_OPTIONS
    # In `Annotated`, typer keeps an option's first spelling where a default would go.
    for spelling in (
        p.annotation.__metadata__[0].default,
        *p.annotation.__metadata__[0].param_decls,
    )
}


def lift_global_options(args: list[str]) -> list[str]:
    """``--url U -v list -q`` as ``list --url U -v -q``: global options before the
    command name move to just after it (where every command declares them).

    Only the leading options are looked at, up to the first word that is not one
    (the command name); anything else is left as it was for click to judge.
    """
    lifted: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        name = word.split("=", 1)[0]
        if name not in _SPELLINGS:
            break
        takes_value = _SPELLINGS[name] and "=" not in word
        lifted += args[index : index + (2 if takes_value else 1)]
        index += 2 if takes_value else 1
    if not lifted or index >= len(args):
        return args
    return [args[index], *lifted, *args[index + 1 :]]


def connection_options(func: F) -> F:
    """Give a command the global options; it receives them as ``conn: Connection``."""

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        own = {p.name: kwargs.pop(p.name) for p in GLOBAL_OPTIONS}
        for ignored in IGNORED_OPTIONS:
            del own[ignored.name]
        own["header"] = own["header"] or []
        try:
            conn = Connection(**own)
        except CliError as exc:
            from ._runner import usage_error

            usage_error(exc.message, exc.hint)
        return func(**kwargs, conn=conn)

    signature = inspect.signature(func, eval_str=True)
    params = [p for p in signature.parameters.values() if p.name != "conn"]
    params += GLOBAL_OPTIONS
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return cast(F, wrapper)
