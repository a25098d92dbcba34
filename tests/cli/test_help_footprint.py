"""What ``coder-tasks --help`` loads: typer and the CLI's own modules, nothing heavier.

Issue 15 (cold starts): help and ``--version`` must stay cheaper than importing
aiohttp, so they may not load the SDK client, its HTTP stack, attrs/cattrs, anyio,
rich (help is plain click formatting; rich loads on the first real output) or
pydantic.  The
check reads ``sys.modules`` of a fresh interpreter; it measures no time.
"""

from __future__ import annotations

import subprocess
import sys

from cli_support import Served, served

from coder_tasks_async.cli._connection import Connection

__all__ = ["served"]

#: Top-level packages none of the help paths may import.  pydantic: typer validates
#: option values with it, but ``--help`` (and the group's absent ``--help`` flag under
#: ``coder-tasks <command> --help``) has no value to validate.
_HEAVY = (
    "aiohttp", "yarl", "multidict", "attr", "attrs", "cattrs", "anyio", "rich", "orjson",
    "pydantic", "pydantic_core",
)  # fmt: skip
#: The SDK modules help may load: the package root (lazy names) and its version, and the
#: fake's list of releases (plain data: ``fake-server --help`` names them).
_SDK_ALLOWED = {
    "coder_tasks_async",
    "coder_tasks_async._version",
    "coder_tasks_async.testing",
    "coder_tasks_async.testing._releases",
}
#: CLI modules that exist for a command body and pull in rich or the client.
_CLI_BODIES = {"coder_tasks_async.cli._demo_flow", "coder_tasks_async.cli._demo_progress"}

# One interpreter runs every help invocation (each ends in SystemExit), so what any of
# them imports stays in sys.modules for the report at the end.
_PROBE = """
import sys
import typer.main
from coder_tasks_async.cli import app, main

commands = sorted(typer.main.get_command(app).commands)
# No arguments prints the help too, with click's usage exit code.
invocations = [([], 2), (["--help"], 0), (["-h"], 0), (["--version"], 0)]
invocations += [([name, "--help"], 0) for name in commands]
for args, code in invocations:
    sys.argv = ["coder-tasks", *args]
    try:
        main()
    except SystemExit as exc:
        assert (exc.code or 0) == code, (args, exc.code)
print("COMMANDS", *commands, file=sys.stderr)
print("MODULES", *sorted(sys.modules), file=sys.stderr)
"""


def _run_probe() -> tuple[str, list[str], set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    report = {line.split()[0]: line.split()[1:] for line in done.stderr.splitlines() if line}
    return done.stdout, report["COMMANDS"], set(report["MODULES"])


def test_help_of_every_command_loads_no_client_attrs_anyio_or_rich() -> None:
    stdout, commands, loaded = _run_probe()
    # The probe did print every help page (so an empty module list cannot pass).
    assert {"list", "create", "logs", "wait", "demo", "fake-server"} <= set(commands)
    for name in commands:
        assert f"Usage: coder-tasks {name} [OPTIONS]" in stdout, name
    assert "Usage: coder-tasks [OPTIONS] COMMAND [ARGS]..." in stdout
    assert "coder_tasks_async.cli._list" in loaded

    heavy = sorted(m for m in loaded if m.split(".")[0] in _HEAVY)
    assert heavy == [], f"--help imported {heavy}"
    sdk = {m for m in loaded if m.split(".")[0] == "coder_tasks_async"}
    unexpected = sorted(
        m
        for m in sdk - _SDK_ALLOWED
        if not m.startswith("coder_tasks_async.cli") or m in _CLI_BODIES
    )
    assert unexpected == [], f"--help imported {unexpected}"


def test_help_loads_neither_secrets_nor_logging() -> None:
    # Standard-library modules typer itself does not need: `fake-server`'s token
    # generator and `-v`'s log handler import them when they run.
    _, _, loaded = _run_probe()
    assert "secrets" not in loaded
    assert "hmac" not in loaded
    assert "logging" not in loaded


def test_conn_repr_shows_no_token_or_headers() -> None:
    conn = Connection(
        "https://coder.example.com", "tok-1234567890-secret", ["Authorization=Bearer xyz"]
    )
    text = repr(conn)
    assert "coder.example.com" in text
    assert "tok-1234567890-secret" not in text
    assert "xyz" not in text


def test_list_and_version_load_no_rich_anyio_or_cattrs(served: Served) -> None:
    # Issue 23: `coder-tasks list` took 0.47 s.  Besides the SDK and typer, an everyday
    # command loads nothing it does not use: rich (colour is a few escape codes here),
    # anyio (plain asyncio.run), cattrs (only when a body misfits).  Measured in
    # benchmarks/_cli.py; here only what is imported is checked.
    probe = (
        "import sys\n"
        "from coder_tasks_async.cli import main\n"
        "for args in (['list'], ['version']):\n"
        "    sys.argv = ['coder-tasks', *args]\n"
        "    try:\n        main()\n    except SystemExit as exc:\n        assert not exc.code\n"
        "print('LOADED', *sorted({m.split('.')[0] for m in sys.modules}), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], env=served.subprocess_env(),
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded = set(done.stderr.split("LOADED", 1)[1].split())
    assert "aiohttp" in loaded and "Server: " in done.stdout  # it did talk to the server
    assert loaded.isdisjoint({"rich", "anyio", "cattrs"}), loaded & {"rich", "anyio", "cattrs"}
