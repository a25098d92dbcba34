"""The request path as most applications run it: with OpenTelemetry never imported.

The transport records spans only once the application imports OpenTelemetry (see
``Telemetry.active``).  In a whole-suite run ``test_telemetry.py`` imports it at
collection, so every other test's requests take the traced path, and the plain one
(``_attempt`` called directly) would go untested.  The request-path test files run
again here, in a process of their own where OpenTelemetry is never imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

#: The test files that drive the request path: retries, hostile answers, slots, hooks.
FILES = [
    "test_reliability.py",
    "test_hardening.py",
    "test_hostile_server.py",
    "test_request_slots.py",
    "test_response_hooks.py",
    "test_logging.py",
]

#: Run the files, then fail if anything imported OpenTelemetry on the way.
PROGRAM = """
import sys, pytest
rc = pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]])
leaked = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
if leaked:
    print("OpenTelemetry imported:", leaked)
    sys.exit(3)
sys.exit(int(rc))
"""


def test_the_untraced_request_path_passes_the_request_path_tests() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *(str(HERE / f) for f in FILES)],
        cwd=HERE.parent.parent,
        env={k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"},  # all of them
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout, done.stdout[-2000:]
