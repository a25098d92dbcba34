"""``python -m coder_tasks_async.testing``: the fake server, standalone, in real time."""

from __future__ import annotations

import sys

from ._standalone import main

if __name__ == "__main__":
    sys.exit(main())
