"""``python -m coder_tasks_async.testing``: the fake server, standalone, in real time.

The same command as ``coder-tasks fake-server`` (same options, same help); it needs
the ``cli`` extra for typer and rich.
"""

from __future__ import annotations

import sys


def _run() -> None:
    try:
        from coder_tasks_async.cli._fake import standalone
    except ImportError as exc:  # typer or rich missing
        sys.exit(f"error: {exc.name} is missing: pip install 'coder-tasks-async[cli]'")
    standalone()


if __name__ == "__main__":
    _run()
