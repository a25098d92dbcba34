"""The ``coder-tasks`` command line: ``coder task``'s commands, the demo and a fake server.

Needs the ``cli`` extra (``pip install 'coder-tasks-async[cli]'``) for typer and rich.

Each command lives in the module named after it and registers itself on
:data:`app` when imported; :func:`main` is the console-script entry point declared
in ``pyproject.toml``.  None of these modules imports the SDK client at import
time, so ``--help`` stays fast.
"""

from __future__ import annotations

import os

from . import (
    _completion,
    _create,
    _delete,
    _demo,
    _fake,
    _list,
    _logs,
    _pause_resume,
    _send,
    _status,
    _version,
    _wait,
)
from ._app import app
from ._completion import COMPLETE_VAR
from ._runner import EXIT_API, EXIT_INTERRUPTED, EXIT_USAGE, quiet_broken_pipe

__all__ = ["EXIT_API", "EXIT_INTERRUPTED", "EXIT_USAGE", "app", "main"]

# Imported for their side effect: each module adds its command to `app`.
del _completion, _create, _delete, _demo, _fake, _list, _logs, _pause_resume, _send
del _status, _version, _wait


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
