"""What ``coder-tasks`` looks like at a real terminal: colour rules and widths in cells.

Each command runs in a pseudo-terminal 80 columns wide, as a person would see it.
Issue 23: ``NO_COLOR=1`` still coloured ``error:``, ``hint:``, progress and log
headers; an empty ``NO_COLOR=`` turned colour off; ``TERM=dumb`` kept it; a
Japanese prompt made a 70-column row 101 cells wide.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios

import pytest
from cli_support import CLI, POLL, Served, served
from rich.cells import cell_len

__all__ = ["served"]

JAPANESE = (
    "ログインページの不安定なテストを直して、エラーメッセージを日本語で分かりやすくしてください"
)
_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")


def in_terminal(served: Served, script: str, columns: int = 80, **env: str | None) -> str:
    """Run ``script`` (sh, with ``$CT`` the command) in a pseudo-terminal; all it printed."""
    variables = {k: v for k, v in served.subprocess_env().items() if k not in ("COLUMNS",)}
    variables.update({"TERM": "xterm-256color", "CT": " ".join(CLI)})
    variables.pop("NO_COLOR", None)
    for key, value in env.items():
        if value is None:
            variables.pop(key, None)
        else:
            variables[key] = value
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(["sh", "-c", script], stdin=slave, stdout=slave, stderr=slave,
                            env=variables)  # fmt: skip
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        proc.wait(60)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.fixture
def idle_task(served: Served) -> str:
    task = served.make("nihongo", JAPANESE)
    assert served.cli("wait", task.name, "--until", "idle", *POLL).exit_code == 0
    return task.name


EVERYTHING = (
    "$CT list; $CT status no-such-task; $CT logs nihongo --tail 1; "
    "$CT create 'Say hi' --wait -o json --poll-interval 0.05"
)


def test_colour_at_a_terminal_and_never_with_no_color(served: Served, idle_task: str) -> None:
    coloured = in_terminal(served, EVERYTHING)
    assert "\x1b[1mNAME" in coloured  # the table header
    assert "\x1b[1;31merror:\x1b[0m" in coloured and "\x1b[2mhint:" in coloured
    assert "\x1b[2m── #" in coloured  # log headers
    assert "\x1b[2mWaiting for alice/" in coloured  # progress
    plain = in_terminal(served, EVERYTHING, NO_COLOR="1")
    assert "\x1b[" not in plain, plain

    for words in ("error: task no-such-task not found", "hint: list yours", "── #2 output",
                  "Waiting for alice/", "NAME  "):  # fmt: skip
        assert words in plain and words in _ESCAPES.sub("", coloured), words


@pytest.mark.parametrize(
    ("env", "colour"),
    [({"NO_COLOR": ""}, True), ({"TERM": "dumb"}, False), ({"NO_COLOR": "0"}, False)],
    ids=["empty NO_COLOR", "TERM=dumb", "NO_COLOR=0"],
)
def test_no_color_rules(served: Served, idle_task: str, env: dict[str, str], colour: bool) -> None:
    # https://no-color.org: present *and not empty* turns colour off, whatever its value.
    shown = in_terminal(served, "$CT list; $CT status no-such-task", **env)
    assert ("\x1b[" in shown) is colour, shown


def test_rows_fit_80_cells_with_a_japanese_prompt(served: Served, idle_task: str) -> None:
    shown = in_terminal(served, "$CT list; $CT status nihongo; $CT list -c name,initial-prompt")
    lines = [_ESCAPES.sub("", line) for line in shown.splitlines() if line.strip()]
    assert len(lines) == 6, shown
    for line in lines[:4]:
        assert cell_len(line) <= 80, (cell_len(line), line)
    assert lines[1].startswith("nihongo") and lines[1].endswith("…")
    assert "Done: ログイン" in lines[1] and "Done: ログイン" in lines[3]
    # Only the message column is cut: another column is never, even past 80 cells.
    assert lines[5].endswith("ください") and cell_len(lines[5]) > 80
    # Piped, nothing is cut at all.
    piped = served.cli("list", "-c", "message,initial-prompt", COLUMNS="80").stdout
    assert piped.splitlines()[1].endswith("ください")
