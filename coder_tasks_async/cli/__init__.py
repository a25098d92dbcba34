"""The ``coder-tasks`` command line: ``coder task``'s commands, the demo and a fake server.

Needs the ``cli`` extra (``pip install 'coder-tasks-async[cli]'``) for typer and rich.

Commands are registered on :data:`app` by importing their modules; :func:`main` is
the console-script entry point declared in ``pyproject.toml``.  None of these
modules imports the SDK client at import time, so ``--help`` stays fast.
"""

from __future__ import annotations

import os

from . import _commands, _create, _demo, _fake, _logs, _meta
from ._app import EXIT_API, EXIT_INTERRUPTED, EXIT_USAGE, app, quiet_broken_pipe
from ._meta import COMPLETE_VAR

__all__ = ["EXIT_API", "EXIT_INTERRUPTED", "EXIT_USAGE", "app", "main"]

# Imported for their side effect: each module adds its commands to `app`.
del _commands, _create, _demo, _fake, _logs, _meta


def main() -> None:
    """Run the ``coder-tasks`` command line (exits the process with the command's code)."""
    if COMPLETE_VAR in os.environ:
        # Typer's completion protocol (the one `completion` prints scripts for).
        from typer._completion_classes import completion_init

        completion_init()
    try:
        app(prog_name="coder-tasks")
    except BrokenPipeError:  # printing help or an argument error into a closed pipe
        quiet_broken_pipe()
