"""The bot recipe end to end (examples/bot.py) at every pause-capable release of FakeCoder:
follow settled, answer, pause, resume, send, get killed mid-way and restart from the
saved cursor.  Each agent message reaches the bot exactly once."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from helpers import TESTS
from profiles import PAUSE_CAPABLE, fake_at

from coder_tasks_async import PollPolicy, TaskLogEntry
from coder_tasks_async.testing import FakeClock

sys.path.insert(0, str(TESTS.parent / "examples"))
from bot import run_bot

pytestmark = pytest.mark.anyio

FAST = PollPolicy(initial=0.5, maximum=2.0, jitter=0.0)


class Killed(Exception):
    """The bot process dies here."""


@pytest.mark.parametrize("version", PAUSE_CAPABLE)
async def test_each_agent_message_reaches_the_bot_once(
    version: str, fake_clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cursor = anyio.Path(tmp_path / "bot.cursor")
    heard: list[tuple[int, str]] = []

    def hear(entry: TaskLogEntry) -> None:
        heard.append((entry.id, entry.content))

    def hear_then_die(entry: TaskLogEntry) -> None:
        hear(entry)
        raise Killed

    with anyio.fail_after(120):  # a safety net against a hang, not a timing assertion
        async with fake_at(version, fake_clock) as (fake, coder):
            coder.poll = FAST  # type: ignore[misc]
            version_id = fake.template_version_id
            task = await coder.create_task("same text", template_version_id=version_id)
            first = fake.task(task.id)

            await run_bot(coder, task, cursor, ["same text"], hear)
            old = [(e["id"], e["content"]) for e in first.entries if e["type"] == "output"]
            assert heard == old  # screen, reply, reply to the bot's answer

            # Paused while idle, then resumed with the same request: a new conversation
            # whose messages equal the old ones.  The bot dies on its first message.
            await coder.pause_task(task)
            await coder.send_input(task, "same text", wait_ready=True, resume=True)
            with pytest.raises(Killed):
                await run_bot(coder, task, cursor, ["same text"], hear_then_die)
            await run_bot(coder, task, cursor, ["same text"], hear)
            new = [(e["id"], e["content"]) for e in first.entries if e["type"] == "output"]
            assert heard == old + new
            assert [c for _, c in new] == [c for _, c in old]  # the same text, heard again

            # Paused mid-reply: the frozen half reply is delivered marked, and not heard.
            await coder.send_input(task, "one more", wait_ready=True)
            await coder.pause_task(task)
            await run_bot(coder, task, cursor, [], hear)
            assert heard == old + new
            frozen = first.snapshot[-1] if first.snapshot else None
            assert frozen is not None and "Working" in frozen["content"]
    printed = capsys.readouterr().out
    assert f"output #{frozen['id']} was cut off by the pause: not answered" in printed
    assert printed.count("conversation restarted") == 1
