"""The ``coder-tasks`` command line: ``coder task``'s commands, the demo and a fake server.

Needs the ``cli`` extra (``pip install 'coder-tasks-async[cli]'``) for typer and rich.

Commands are registered on :data:`app` by importing their modules; :func:`main` is
the console-script entry point declared in ``pyproject.toml``.
"""

from __future__ import annotations

from . import _commands, _demo, _fake, _logs
from ._app import EXIT_API, EXIT_INTERRUPTED, EXIT_USAGE, app

__all__ = ["EXIT_API", "EXIT_INTERRUPTED", "EXIT_USAGE", "app", "main"]

# Imported for their side effect: each module adds its commands to `app`.
del _commands, _demo, _fake, _logs


def main() -> None:
    """Run the ``coder-tasks`` command line (exits the process with the command's code)."""
    app()
