"""A bot that tails a task's conversation and answers the agent, resumable after a restart.

It follows in settled mode (each message once, when final), answers each finished agent
reply with ``send_input(wait_ready=True)``, and saves ``follower.cursor.dumps()`` after
every event, so a restarted bot picks up exactly where it stopped: each agent message
reaches it once, across pauses, resumes and its own crashes.  A reply cut off by a
pause (``event.interrupted``) is not a finished reply: the bot does not answer it.

    python examples/bot.py
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable

import anyio
from _connect import connect

from coder_tasks_async import (
    CoderTasksClient,
    EntryEvent,
    PausedEvent,
    ResetEvent,
    Task,
    TaskLogEntry,
    TaskLogType,
    TaskStatus,
)

#: Seconds each run of the bot may take before it gives up with ``TimeoutError``.
BOUND = 60.0


async def save(cursor_file: anyio.Path, text: str) -> None:
    """Write, then rename over the old file: a crash never leaves half a cursor."""
    partial = cursor_file.with_name(cursor_file.name + ".partial")
    await partial.write_text(text)
    await partial.replace(cursor_file)


async def run_bot(
    coder: CoderTasksClient,
    task: Task,
    cursor_file: anyio.Path,
    replies: list[str],
    heard: Callable[[TaskLogEntry], None] = lambda entry: None,
) -> None:
    """Answer each agent reply with the next of ``replies``; return after the agent has
    answered the last one, or when the task is paused.  ``heard`` sees each agent message."""
    saved = await cursor_file.read_text() if await cursor_file.exists() else None
    waiting_for_agent = False
    paused: Callable[[Task], bool] = lambda t: t.status is TaskStatus.PAUSED  # noqa: E731
    async with coder.follow_logs(task, settled=True, cursor=saved, until=paused) as follower:
        async for event in follower:
            # Saved before acting on the event: after a crash we may miss one answer,
            # but never send the same one twice.
            await save(cursor_file, follower.cursor.dumps())
            match event:
                case ResetEvent():
                    print("    (the conversation restarted: a new run of the agent)")
                    waiting_for_agent = False
                case PausedEvent():
                    print("    (the task is paused: what follows is its stored snapshot)")
                case EntryEvent(interrupted=True, entry=entry):
                    print(f"    {entry.type} #{entry.id} was cut off by the pause: not answered")
                case EntryEvent(entry=entry):
                    print(f"    {entry.type} #{entry.id}: {entry.content.splitlines()[0]}")
                    if entry.type is TaskLogType.INPUT:
                        waiting_for_agent = True
                        continue
                    heard(entry)
                    if waiting_for_agent:  # the agent's (final) reply to the latest input
                        waiting_for_agent = False
                        if not replies:
                            return
                        reply = replies.pop(0)
                        print(f"    bot answers: {reply}")
                        await coder.send_input(task, reply, wait_ready=True)


async def main() -> None:
    async with connect(server_version="v2.31.1") as (coder, template_version):
        task = await coder.create_task(
            "Fix the flaky login test", template_version_id=template_version
        )
        # A cursor file belongs to one bot: two bots sharing one would each skip what
        # the other was handed.  A real bot keeps it somewhere durable of its own; this
        # demo uses a private directory (a FakeCoder's ids repeat from run to run, so a
        # name made of the task id alone would be shared by demos running at once).
        with tempfile.TemporaryDirectory(prefix="coder-bot-") as private:
            cursor_file = anyio.Path(private) / f"{task.id}.cursor"
            try:
                print("bot, first run:")
                with anyio.fail_after(BOUND):  # a bot that waits forever helps nobody
                    await run_bot(coder, task, cursor_file, ["Also add a regression test."])

                # While the bot is down, someone pauses the task, then resumes it with
                # a new request: a new run of the agent, a new conversation.
                await coder.pause_task(task)
                await coder.send_input(
                    task, "And update the CHANGELOG.", wait_ready=True, resume=True
                )

                print("bot, restarted (resumes from its cursor, repeats nothing):")
                with anyio.fail_after(BOUND):
                    await run_bot(coder, task, cursor_file, [])
            finally:
                await coder.delete_task(task)


if __name__ == "__main__":
    anyio.run(main)
