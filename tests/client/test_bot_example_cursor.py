"""examples/bot.py keeps its cursor to itself.

The example used to save its cursor as ``<tempdir>/coder-bot-<task id>.cursor``.  A
FakeCoder's ids repeat from run to run (they come from a seeded generator), so demos
running at once shared one file: each resumed from a cursor the other had written,
skipped the new conversation's first entries, and then waited forever for an input
entry it had been told it already had (or read a half-written file and crashed).
The tracker was right every time; it was given another follower's cursor.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from test_examples import ROOT, clean_env, run

from coder_tasks_async import CoderTasksClient
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio


async def first_task_id(clock: FakeClock) -> str:
    """The id the example's own fake gives its first task (ids are seeded, hence equal)."""
    async with FakeCoder(clock=clock, server_version="v2.31.1") as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=clock) as coder:
            task = await coder.create_task(
                "Fix the flaky login test", template_version_id=fake.template_version_id
            )
            return str(task.id)


async def test_fake_ids_repeat_across_servers(fake_clock: FakeClock) -> None:
    # The premise of the test below: two demos at once see the same task id.
    assert await first_task_id(fake_clock) == await first_task_id(fake_clock)


async def test_the_bot_example_never_touches_another_bots_cursor(
    fake_clock: FakeClock, tmp_path: Path
) -> None:
    # Another bot on the same (fake) task, caught halfway through saving its cursor.
    theirs = anyio.Path(tmp_path) / f"coder-bot-{await first_task_id(fake_clock)}.cursor"
    await theirs.write_text("")
    env = clean_env(TMPDIR=str(tmp_path))
    rc, output = await run([sys.executable, str(ROOT / "examples" / "bot.py")], env)
    assert rc == 0, output
    assert "not a log cursor" not in output
    # The new conversation whole, after the restart: nothing taken from the other bot.
    assert "conversation restarted" in output.split("bot, restarted")[1], output
    assert "input #1: And update the CHANGELOG." in output, output
    assert await theirs.exists() and await theirs.read_text() == ""  # not read, not deleted
    assert [p async for p in anyio.Path(tmp_path).iterdir()] == [theirs]  # its own: gone


async def test_a_hanging_example_is_killed_and_reported() -> None:
    # What the bound in test_examples.run turns a hang into: a failure that shows the output.
    forever = "import threading; print('started', flush=True); threading.Event().wait()"
    with pytest.raises(pytest.fail.Exception, match=r"(?s)hung: killed after 1\.0 s.*started"):
        await run([sys.executable, "-c", forever], clean_env(), bound=1.0)
