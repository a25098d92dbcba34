"""The CLI's logger: the command's end, as a record with no token in it."""

from __future__ import annotations

import logging

import pytest
from cli_support import Served, served

__all__ = ["served"]  # the fixture, imported for pytest


def test_the_cli_logs_how_a_command_ended(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="coder_tasks_async")
    assert served.cli("list", "-q").exit_code == 0
    assert served.cli("status", "no-such-task").exit_code == 1
    said = [
        (r.getMessage(), r.subject) for r in caplog.records if r.name == "coder_tasks_async.cli"
    ]
    assert said[0][0] == "command done"
    assert said[-1] == ("command failed: CliError", "task no-such-task")
    token = served.fake.token
    assert not [r for r in caplog.records if token in r.getMessage() or token in repr(vars(r))]
