"""The typer application: command order and aliases, help without type labels, usage errors.

Commands register themselves with :func:`command`.  Nothing here imports the SDK
client (and so aiohttp), attrs, rich or logging: ``--help`` and argument errors must
stay fast, so command bodies import what they need when they run
(``tests/cli/test_help_footprint.py`` holds the line).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
import typer.core

from .. import __version__
from ._connection import lift_global_options
from ._plain_values import plain_values
from ._runner import EXIT_API, EXIT_INTERRUPTED, TRACEBACK_ENV, point_stdout_at_devnull
from ._terminal import print_error, print_notice

__all__ = ["ALIASES", "app", "command"]

#: ``coder task``'s aliases, so its scripts run unchanged.
ALIASES = {"ls": "list", "rm": "delete", "stat": "status"}
#: The order of ``--help``: the everyday commands first, as ``coder task`` lists them.
ORDER = (
    "list", "create", "status", "logs", "send", "wait", "pause", "resume", "delete",
    "version", "completion", "demo", "fake-server",
)  # fmt: skip
#: Typer's label of an argument's Python type in help (``TASK <str>``).
_TYPE_LABEL = re.compile(r" <[^<>]*>$")


class _Command(typer.core.TyperCommand):
    """A command whose plain option values skip pydantic, and whose help lists arguments
    by their metavar only.

    Typer converts every value through pydantic (see ``_plain_values``), and labels
    every argument with its Python type (``TASK <str>``) where the metavar and the
    help text already say what to pass.
    """

    def __init__(self, *args: Any, params: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, params=[plain_values(p) for p in params or ()], **kwargs)

    def get_help_option(self, ctx: Any) -> Any:
        """Typer's ``--help`` flag, converted plainly too (it is absent on nearly every run)."""
        return plain_values(super().get_help_option(ctx))

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """Typer's Arguments and Options sections, without type labels on arguments."""
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((_TYPE_LABEL.sub("", record[0]), record[1]))
            else:
                options.append(record)
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


class _Group(typer.core.TyperGroup):
    """Commands in :data:`ORDER`, ``coder``'s aliases, and usage errors in the CLI's style."""

    def list_commands(self, ctx: Any) -> list[str]:
        """Command names in :data:`ORDER` (others after them)."""
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(ORDER)}
        return sorted(names, key=lambda name: rank.get(name, len(rank)))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Click's parsing, after moving global options from before the command to after it."""
        return super().parse_args(ctx, lift_global_options(args))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command ``cmd_name`` names, or the one it is an alias of."""
        return super().get_command(ctx, ALIASES.get(cmd_name, cmd_name))

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
        """Click's main, with its errors printed as ``error: …`` plus a hint."""
        try:
            rv = super().main(*args, **{**kwargs, "standalone_mode": False})
        except typer.Abort:
            print_notice("Interrupted.")
            rv = EXIT_INTERRUPTED
        except BrokenPipeError:  # help or a table printed into `| head`
            point_stdout_at_devnull()
            rv = 0
        except Exception as exc:
            rv = _click_error(exc)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


def _click_error(exc: Exception) -> int:
    """Print one of click's errors (or a bug of ours outside a command body); its exit code.

    Click's exception classes are told apart by what they offer, not imported: typer
    ships its own copy of click, as a private module.
    """
    if type(exc).__name__ == "NoArgsIsHelpError":
        exc.show()  # type: ignore[attr-defined]
        return int(exc.exit_code)  # type: ignore[attr-defined]
    message = getattr(exc, "format_message", None)
    code = getattr(exc, "exit_code", None)
    if callable(message) and isinstance(code, int):
        if hasattr(exc, "ctx"):  # a usage error: point at the command's help
            ctx = exc.ctx
            where = ctx.command_path if ctx is not None else "coder-tasks"
            # Typer words enum refusals like pydantic ("Value error, …"): keep the fact only.
            print_error(message().replace("Value error, ", ""), f"see `{where} --help`")
        else:
            print_error(message())
        return code
    if os.environ.get(TRACEBACK_ENV):
        raise exc
    print_error(
        f"unexpected failure: {' '.join(str(exc).split()) or 'no details'}",
        f"this is a bug in coder-tasks; set {TRACEBACK_ENV}=1 to see where",
    )
    return EXIT_API


app: typer.Typer = typer.Typer(
    name="coder-tasks",
    cls=_Group,
    # Plain help: no type placeholders, and no rich import just to print it.
    rich_markup_mode=None,
    help="Drive Coder AI tasks from the command line (mirrors `coder task`), and run the demo.",
    no_args_is_help=True,
    add_completion=False,
    # Errors are reported by the runner; a traceback would bury the server's message.
    pretty_exceptions_enable=False,
    options_metavar="[OPTIONS]",
    context_settings={"help_option_names": ["-h", "--help"]},
)

F = TypeVar("F", bound=Callable[..., Any])


def command(name: str | None = None) -> Callable[[F], F]:
    """Register a command on :data:`app` (help without argument type labels)."""
    return app.command(name, cls=_Command)


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

    Global options (--url, --token, --header, --header-command, -v, --retry-for: see
    any command's --help) work before the command too: coder-tasks --url URL -v list.

    Example: coder-tasks list
    """
