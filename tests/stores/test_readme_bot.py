"""The README's fleet bot survives ``kill -9`` with nothing posted twice.

Three real processes run the README block's ``run_bot`` as written
(tests/stores/readme_bot.py) on one SQLite file against one FakeCoder, with a 1 s
lease.  Twice, the conversations grow by a turn each and, once the first reply of
that turn is posted, one worker is killed with SIGKILL and another started.  In the end
every reply of the agent is in the outbox exactly once (its primary key refuses a
second post, and a refused post kills the worker, so every worker must still be
alive), and none is missing.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import anyio.abc
import pytest
from storekit import QUICK, wait_until

from coder_tasks_async import CoderTasksClient, TaskState, TaskStatus
from coder_tasks_async.testing import FakeCoder

pytestmark = pytest.mark.anyio

WORKER = Path(__file__).with_name("readme_bot.py")
TASKS = 12
LEASE = 1.0
BOUND = 60.0  # seconds: a safety net against a hang, never a pass


class Fleet:
    """The README bot's worker processes, in ``tmp`` (where its fleet.sqlite3 is)."""

    def __init__(self, fake: FakeCoder, tmp: Path) -> None:
        self.fake = fake
        self.tmp = tmp
        self.procs: dict[str, anyio.abc.Process] = {}
        self.started = 0

    async def start(self) -> None:
        self.started += 1
        name = f"bot-{self.started}"
        args = [sys.executable, str(WORKER), self.fake.url, self.fake.token, name, str(LEASE)]
        proc = await anyio.open_process(args, cwd=self.tmp, stdin=subprocess.DEVNULL, stderr=None)
        assert proc.stdout is not None
        with anyio.fail_after(BOUND):
            assert b"ready" in await proc.stdout.receive()
        self.procs[name] = proc

    async def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        await proc.aclose()

    async def stop(self) -> None:
        for name in list(self.procs):
            await self.kill(name)

    def outbox(self) -> list[str]:
        path = self.tmp / "fleet.sqlite3"
        if not path.exists():
            return []
        db = sqlite3.connect(path, timeout=30)
        try:
            return [row[0] for row in db.execute("SELECT key FROM outbox")]
        except sqlite3.OperationalError:
            return []  # no worker made the table yet
        finally:
            db.close()

    def replies(self) -> set[str]:
        """The key of every reply of the agent the server shows (what must be posted)."""
        keys: set[str] = set()
        for task_id in self.fake.created:
            task = self.fake.task(task_id)
            run = f"{task.build_number}.{task.agent_id}"
            keys.update(f"{task_id}/{run}/{e['id']}" for e in task.entries if e["type"] == "output")
        return keys


async def posted(fleet: Fleet, at_least: int) -> None:
    async def enough() -> bool:
        return len(await anyio.to_thread.run_sync(fleet.outbox)) >= at_least

    await wait_until(enough, every=0.05, bound=BOUND)


async def another_turn(coder: CoderTasksClient, fake: FakeCoder) -> None:
    """One more input to every task once it is idle: one more reply each to post."""
    for task_id in list(fake.created):
        task = await coder.wait_for(task_id, until=TaskState.IDLE, timeout=BOUND)
        await coder.send_input(task, "and one more thing")


# Known defect, found 2026-12-08 by this test (1 failure in ~10 suite runs, under load): a
# bot met a reply it had already posted and acknowledged in one transaction (its outbox
# key existed: sqlite3.IntegrityError), and every bot died of it.  Nothing was posted twice
# (the key refused it), but exactly-once delivery did not hold.  Suspected: a settled reply
# released before it was finished (a stale "idle" from the stream), then handed out again
# as it grew, with the same idempotency key.  Not fixed yet; the test stays, and runs.
@pytest.mark.xfail(
    reason="known: a delivered, acknowledged reply can come again under load (see above)",
    strict=False,
)
async def test_the_readme_bot_killed_with_sigkill_posts_every_reply_once(tmp_path: Path) -> None:
    async with FakeCoder(timings=QUICK, server_version="v2.31.1") as fake:
        async with CoderTasksClient(fake.url, token=fake.token) as coder:
            await coder.create_many(
                [f"job {i}" for i in range(TASKS)], template_version_id=fake.template_version_id
            )
            fleet = Fleet(fake, tmp_path)
            try:
                for _ in range(3):
                    await fleet.start()
                await posted(fleet, TASKS * 2)  # every welcome screen and first reply
                for victim in ("bot-1", "bot-2"):
                    await another_turn(coder, fake)
                    await posted(fleet, len(fleet.outbox()) + 1)
                    await fleet.kill(victim)  # in the middle of this turn's replies
                    await fleet.start()

                async def quiet() -> bool:
                    return not any(
                        t.status is TaskStatus.ACTIVE and t.state == "working"
                        for t in await coder.list_tasks()
                    )

                await wait_until(quiet, every=0.1, bound=BOUND)
                want = fleet.replies()

                async def all_posted() -> bool:
                    return want <= set(await anyio.to_thread.run_sync(fleet.outbox))

                await wait_until(all_posted, every=0.1, bound=BOUND)
                alive = {name: proc.returncode for name, proc in fleet.procs.items()}
            finally:
                await fleet.stop()
            outbox = fleet.outbox()
    assert len(want) == TASKS * 4  # a welcome screen and three replies each
    assert sorted(outbox) == sorted(want)  # each once, none missing, nothing else
    assert alive == {"bot-3": None, "bot-4": None, "bot-5": None}  # no post was refused


async def test_the_readme_bot_rolls_back_when_its_post_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A post that fails with anything but LeaseLostError leaves the file unlocked:
    the bot's transaction is rolled back, so the other workers can go on."""
    from readme_bot import readme_fleet_bot

    monkeypatch.chdir(tmp_path)  # the block's fleet.sqlite3 is in the working directory
    setup = sqlite3.connect("fleet.sqlite3", isolation_level=None)
    setup.execute("CREATE TABLE outbox (key TEXT PRIMARY KEY, reply TEXT)")
    setup.execute(
        "CREATE TRIGGER down BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'down'); END"
    )
    setup.close()
    async with FakeCoder(timings=QUICK, server_version="v2.31.1") as fake:
        async with CoderTasksClient(fake.url, token=fake.token) as coder:
            await coder.create_task("job", template_version_id=fake.template_version_id)
            with (
                anyio.fail_after(BOUND),
                pytest.raises(sqlite3.IntegrityError, match="down") as failed,
            ):
                await readme_fleet_bot()(coder, "bot-1", LEASE)
    # The failed post's frame (and the bot's connection) is still alive, in the traceback:
    assert failed.traceback
    other = sqlite3.connect("fleet.sqlite3", isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # "database is locked" if it was left open
        other.execute("ROLLBACK")
    finally:
        other.close()
