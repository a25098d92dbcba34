"""The ``coder-tasks`` command line: ``coder task``'s commands, the demo and a fake server.

Needs the ``cli`` extra (``pip install 'coder-tasks-async[cli]'``) for typer and rich.

Each command lives in the module named after it and registers itself on
:data:`app` when imported (every module here is imported at start, but for the
demo's body); :func:`main` is the console-script entry point declared in
``pyproject.toml``.  None of these modules imports the SDK client at import
time, so ``--help`` stays fast.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

from ._app import app
from ._completion import COMPLETE_VAR
from ._runner import EXIT_API, EXIT_INTERRUPTED, EXIT_USAGE, quiet_broken_pipe

__all__ = ["EXIT_API", "EXIT_INTERRUPTED", "EXIT_USAGE", "app", "main"]

#: Modules a command body imports when it runs (they load rich and the client).
_LOADED_BY_COMMANDS = frozenset({"_demo_flow", "_demo_progress"})


def _register_commands() -> None:
    """Import every module of this package: each command module adds its command(s) to
    :data:`app` when imported, so a new command is a new module and nothing else."""
    for module in pkgutil.iter_modules(__path__):
        name = module.name
        if not name.startswith("__") and name not in _LOADED_BY_COMMANDS:
            importlib.import_module(f"{__name__}.{name}")


_register_commands()


def main() -> None:
    """Run the ``coder-tasks`` command line (exits the process with the command's code)."""
    if COMPLETE_VAR in os.environ:
        # Typer's completion protocol (the one `completion` prints scripts for).
        from typer.completion import completion_init  # type: ignore[attr-defined]

        completion_init()
    try:
        app(prog_name="coder-tasks", complete_var=COMPLETE_VAR)
    except BrokenPipeError:  # printing help or an argument error into a closed pipe
        quiet_broken_pipe()
