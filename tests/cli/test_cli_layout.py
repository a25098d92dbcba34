"""Tables, output streams, closed pipes, help text and start-up cost of ``coder-tasks``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cli_support import CLI, LONG, POLL, Served, served

__all__ = ["served"]  # the fixture, imported for pytest


def test_terminal_width_cuts_only_the_message() -> None:
    from coder_tasks_async.cli._tables import render_table

    headers = ["NAME", "STATUS", "STATE", "MESSAGE"]
    rows = [["task-tender-lovelace-long", "initializing", "working", "x" * 100]]
    for width in (80, 60):
        header, line = render_table(headers, rows, width=width)
        assert line.startswith("task-tender-lovelace-long  initializing  working  ")
        assert header.split() == headers
        assert len(line) <= width and line.endswith("…")
    # Too narrow even for the fixed columns: those stay whole, the line runs over.
    _, line = render_table(headers, rows, width=30)
    assert "task-tender-lovelace-long  initializing  working" in line


def test_column_selection_and_bad_column(served: Served) -> None:
    task = served.make("picked")
    chosen = served.cli("list", "-c", "name,STATE", "--column", "id")
    assert chosen.exit_code == 0, chosen.output
    assert chosen.stdout.splitlines()[0].split() == ["NAME", "STATE", "ID"]
    assert chosen.stdout.splitlines()[1].split()[0] == "picked"
    assert str(task.id) in chosen.stdout
    bad = served.cli("list", "-c", "name,colour")
    assert bad.exit_code == 2
    assert "unknown column 'colour'" in bad.stderr and "state changed" in bad.stderr


def test_status_and_wait_tables_are_not_cut(served: Served) -> None:
    task = served.make("emoji-task-long-name")
    result = served.cli("status", task.name, "-c", "name,status", COLUMNS="40")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split()[0] == task.name


def test_results_on_stdout_notices_on_stderr(served: Served) -> None:
    tv = str(served.fake.template_version_id)
    created = served.cli("create", "Fix it", "--template-version", tv, "--name", "streams")
    assert created.exit_code == 0, created.output
    assert created.stdout == f"Created task alice/streams ({served.fake.task('streams').id}).\n"
    assert "coder-tasks logs alice/streams -f" in created.stderr
    sent = served.cli("send", "streams", "More please", "--wait-ready", *POLL)
    assert sent.exit_code == 0, sent.output
    assert sent.stdout == "Sent input to alice/streams.\n"
    assert "Waiting for alice/streams" in sent.stderr


def test_closed_pipe_ends_quietly_with_zero(served: Served) -> None:
    for i in range(40):
        served.make(f"piped-{i}")
    commands = [
        ["list", "-q"],
        ["list", "-o", "json"],
        ["logs", "piped-0", "-f", "--until", "idle"],
        ["logs", "piped-0", "-f", "-o", "json", "--until", "idle"],
    ]
    procs = [
        subprocess.Popen(
            [*CLI, *args],
            env=served.subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for args in commands
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline()
        proc.stdout.close()  # like `| head -1` exiting
    for args, proc in zip(commands, procs, strict=True):
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        proc.stderr.close()
        assert proc.wait(20) == 0, (args, err)
        assert "Traceback" not in err and "Exception ignored" not in err, err


def test_help_texts(served: Served) -> None:
    commands = ["list", "create", "status", "send", "pause", "resume", "delete", "wait",
                "logs", "demo", "fake-server", "version", "completion"]  # fmt: skip
    for command in commands:
        text = served.cli(command, "--help", COLUMNS="200").stdout
        assert "Example:" in text, command
        for leak in ("<bool>", "<list[str]>", "{task}", "<str>", "<float>"):
            assert leak not in text, (command, leak)
    create = served.cli("create", "--help", COLUMNS="200").stdout
    assert "CODER_TASK_TEMPLATE_VERSION" in create
    demo = served.cli("demo", "--help", COLUMNS="200").stdout
    assert "$CODER_URL is not used" in demo
    wait = served.cli("wait", "--help", COLUMNS="200").stdout
    assert "600" in wait and "0: wait forever" in wait


def test_help_does_not_import_the_client() -> None:
    # One interpreter runs several invocations (each ends in SystemExit), then reports.
    code = (
        "import sys\n"
        "from coder_tasks_async.cli import main\n"
        "for args in (['--help'], ['list', '--help'], ['list', '--bogus'], ['wait', 'x']):\n"
        "    sys.argv = ['coder-tasks', *args]\n"
        "    try:\n        main()\n    except SystemExit:\n        pass\n"
        "print('LOADED', 'aiohttp' in sys.modules, 'coder_tasks_async._client' in sys.modules,"
        " file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert "LOADED False False" in proc.stderr, proc.stderr
    assert "Missing option '--until'" in proc.stderr  # the last invocation did run


@pytest.mark.parametrize("columns", ["80", "60"])
def test_piped_table_keeps_every_column_whole(served: Served, columns: str) -> None:
    task = served.make("task-tender-lovelace-long-name", LONG)
    # Settled first, so the table and the JSON below show the same message.
    assert served.cli("wait", task.name, "--until", "idle", *POLL).exit_code == 0
    message = json.loads(served.cli("status", task.name, "-o", "json").stdout)["current_state"]
    result = served.cli("list", "-a", "-c", "owner,name,status,state,message", COLUMNS=columns)
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()[:2]
    assert header.split() == ["OWNER", "NAME", "NAME", "STATUS", "STATE", "MESSAGE"]
    assert row.split()[:4] == ["alice", task.name, "active", "idle"]
    assert row.endswith(message["message"])  # piped: nothing is cut
    assert len(row) > int(columns)  # even where a terminal this wide would cut it
