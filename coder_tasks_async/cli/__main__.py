"""``python -m coder_tasks_async.cli``: the same as the ``coder-tasks`` command."""

from __future__ import annotations

from . import main

if __name__ == "__main__":
    main()
