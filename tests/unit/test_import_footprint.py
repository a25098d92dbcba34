"""What importing the client costs: the layers a program does not use stay unimported.

``from coder_tasks_async import CoderTasksClient`` must not load the polling or
fan-out layers, anyio or cattrs (issue 15: import time).  Each loads on first use.
"""

from __future__ import annotations

import subprocess
import sys

_LAZY = (
    "coder_tasks_async._polling",
    "coder_tasks_async._fanout.map_bounded",
    "coder_tasks_async._fanout.ratelimit",
    "anyio",
    "cattrs",
    "coder_tasks_async._stores",
    "sqlite3",
    "asyncpg",
)


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_importing_the_client_loads_no_polling_fanout_anyio_or_cattrs() -> None:
    loaded = _modules_after("from coder_tasks_async import CoderTasksClient")
    assert "coder_tasks_async._client" in loaded
    for prefix in _LAZY:
        assert not any(m == prefix or m.startswith(prefix + ".") for m in loaded), prefix


def test_the_layers_load_when_a_method_needs_them() -> None:
    code = (
        "from coder_tasks_async import CoderTasksClient\n"
        "client = CoderTasksClient('http://127.0.0.1:9', token='t')\n"
        "follower = client.follow_logs('00000000-0000-0000-0000-000000000001')\n"
        "assert type(follower).__name__ == 'LogFollower'\n"
    )
    loaded = _modules_after(code)
    assert "coder_tasks_async._polling.follow" in loaded
    assert "coder_tasks_async._polling.conditions" in loaded


def test_the_stores_load_their_database_module_only_when_used() -> None:
    loaded = _modules_after("import coder_tasks_async\ncoder_tasks_async.CursorStore")
    assert "sqlite3" not in loaded and "asyncpg" not in loaded
    loaded = _modules_after("from coder_tasks_async import SQLiteCursorStore")
    assert "sqlite3" in loaded and "asyncpg" not in loaded
    loaded = _modules_after("from coder_tasks_async import PostgresCursorStore")
    assert "asyncpg" not in loaded  # imported when the first connection is made
