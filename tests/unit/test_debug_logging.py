"""``CODER_TASKS_DEBUG`` takes effect when a client is created, never on import."""

from __future__ import annotations

import os
import subprocess
import sys


def test_importing_the_sdk_leaves_logging_alone_until_a_client_exists() -> None:
    code = (
        "import logging\n"
        "import coder_tasks_async\n"
        "log = logging.getLogger('coder_tasks_async')\n"
        "print(len(log.handlers), log.level)\n"
        "coder_tasks_async.CoderTasksClient('http://127.0.0.1:9', token='t')\n"
        "print(len(log.handlers), log.level)\n"
    )
    env = {**os.environ, "CODER_TASKS_DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    on_import, after_client = done.stdout.split("\n")[:2]
    assert on_import == "0 0"
    assert after_client == "1 10"  # one stderr handler, level DEBUG
