"""``wait`` and ``logs -f`` started while a task is being paused say so on stderr.

Between a pause and the end of its stop build Coder shows the task ``unknown`` (a stop
build whose job has not ended).  A real ``coder-tasks`` process runs against a FakeCoder
on a frozen clock whose stop build the test holds, so the command starts exactly in that
window and stays there until the test finishes the build.  (Issue 21: ``wait --until
active`` then waited silently until its timeout; only an already paused task got a word.)
"""

from __future__ import annotations

import threading

from cli_support import Frozen, Running, frozen

from coder_tasks_async import CoderTasksClient, Task
from coder_tasks_async.testing import RecordedRequest

__all__ = ["frozen"]

POLL = ["--poll-interval", "0.05"]


def being_paused(frozen: Frozen, name: str) -> Task:
    """An active task whose pause has begun and whose stop build is held."""
    task = frozen.create(name, f"Fix {name}")
    frozen.advance(7)  # active, its first reply written

    async def pause(coder: CoderTasksClient) -> Task:
        await coder.pause_task(task.id)
        frozen.fake.hold_build(task.id)  # in the fake's thread, before its clock moves
        return await coder.get_task(task.id)

    paused: Task = frozen.sdk(pause)
    assert (str(paused.status), str(paused.workspace_status)) == ("unknown", "pending")
    return paused


def test_wait_until_active_says_the_task_is_being_paused(frozen: Frozen) -> None:
    task = being_paused(frozen, "napper")
    run = Running(["wait", "napper", "--until", "active", *POLL], frozen.subprocess_env())
    try:
        run.err_until("task alice/napper is being paused (its stop build runs)")
        assert "coder-tasks resume alice/napper" in run.err
        assert run.proc.poll() is None  # still waiting: a notice, not an error
        frozen.call(frozen.fake.finish_build, task.id)
        frozen.sdk(lambda coder: coder.resume_task(task.id))
        frozen.advance(2.5)  # the new run is up
        code, _, err = run.finish()
    finally:
        run.close()
    assert code == 0, err
    assert err.count("is being paused") == 1 and "Traceback" not in err


def test_logs_follow_says_the_task_is_being_paused(frozen: Frozen) -> None:
    task = being_paused(frozen, "dozer")
    args = ["logs", "dozer", "-f", "-o", "json", "--no-watch", *POLL]
    run = Running(args, frozen.subprocess_env())
    try:
        run.err_until("task alice/dozer is being paused (its stop build runs)")
        assert run.proc.poll() is None
        frozen.call(frozen.fake.finish_build, task.id)
        run.json_until(lambda event: event["kind"] == "paused", "the pause")
        code, _, err = run.interrupt()
    finally:
        run.close()
    assert code == 130, err
    assert err.count("is being paused") == 1 and "Traceback" not in err


def test_a_wait_for_the_pause_itself_says_nothing(frozen: Frozen) -> None:
    task = being_paused(frozen, "sleepy")
    reads = threading.Semaphore(0)

    def observe(request: RecordedRequest) -> None:
        if request.route == "get":
            reads.release()

    frozen.call(frozen.fake.request_observers.append, observe)
    run = Running(["wait", "sleepy", "--until", "paused", *POLL], frozen.subprocess_env())
    try:
        # Its second read of the task: the first answer (``unknown``, the stop build held)
        # has been judged, so a notice would be out by now; then the build may end.
        for _ in range(2):
            assert reads.acquire(timeout=30), "the command never read the task"
        frozen.call(frozen.fake.finish_build, task.id)
        code, _, err = run.finish()
    finally:
        run.close()
    assert code == 0, err
    assert "being paused" not in err
