"""The CLI's waits listen to the workspace watch stream unless ``--no-watch`` says not to."""

from __future__ import annotations

import pytest
from cli_support import POLL, Served, served

__all__ = ["served"]


@pytest.mark.parametrize(
    "command",
    [
        ["logs", "{}", "-f", "--idle-timeout", "0.3", *POLL],
        ["wait", "{}", "--until", "complete", "--timeout", "0.5", *POLL],
        ["status", "{}", "--watch", *POLL],
    ],
    ids=["logs", "wait", "status"],
)
def test_waits_listen_to_the_stream_and_no_watch_only_polls(
    served: Served, command: list[str]
) -> None:
    opened = served.fake.watch.opened
    for name, extra in (("listens", []), ("polls", ["--no-watch"])):
        # A fresh task each time: `status --watch` ends at once on a task already idle.
        served.make(name)
        before = dict(opened)
        run = served.cli(*[a.format(name) for a in command], *extra, "-v")
        assert run.exit_code in (0, 1), run.output  # `wait` times out (exit 1) by design
        if extra:
            assert "wake mode poll (wake='poll')" in run.stderr, run.stderr
            assert opened == before
        else:
            assert "wake mode ws" in run.stderr, run.stderr
            assert opened["ws"] > before["ws"]


def test_no_watch_needs_a_wait(served: Served) -> None:
    served.make("still")
    status = served.cli("status", "still", "--no-watch")
    assert status.exit_code == 2 and "--no-watch only makes sense with --watch" in status.stderr
    logs = served.cli("logs", "still", "--no-watch")
    assert logs.exit_code == 2 and "--no-watch" in logs.stderr
