"""The CLI's waits listen to the workspace watch stream unless ``--no-watch`` says not to."""

from __future__ import annotations

import pytest
from cli_support import POLL, Served, served

from coder_tasks_async import Task
from coder_tasks_async.testing import RecordedRequest

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
        # A fresh task each time.  `status --watch` ends at once on a task that has
        # settled, and the fake's agent settles within a fraction of a second: its task
        # stays pending (start build queued) until the command shows that it waits, by
        # opening the stream or by polling again; whatever the machine's load.
        held = command[0] == "status"
        task = served.make(name, held=held)
        reads: list[str] = []

        def release(
            request: RecordedRequest,
            task: Task = task,
            reads: list[str] = reads,
            polls: bool = bool(extra),
        ) -> None:
            # Runs on the fake's thread as it answers each request.
            if "released" in reads:
                return
            if str(task.id) in request.path:
                reads.append(request.route)
            # (A command that should listen but only polls is let go after a few polls,
            # one that should only poll but listens at once: each fails an assertion below
            # rather than waiting forever.)
            if request.route == "watch_ws" or len(reads) == (2 if polls else 5):
                served.fake.finish_build(task.id)
                reads.append("released")

        if held:
            served.call(served.fake.request_observers.append, release)
        before = dict(opened)
        run = served.cli(*[a.format(name) for a in command], *extra, "-v")
        if held:
            served.call(served.fake.request_observers.remove, release)
            assert "released" in reads, reads
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
