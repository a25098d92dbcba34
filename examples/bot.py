"""A bot that tails a task's conversation and answers the agent, resumable after a restart.

It follows in settled mode (each message once, when final), answers each agent reply
with ``send_input(wait_ready=True)``, and saves ``follower.cursor.dumps()`` after every
message, so a restarted bot picks up exactly where it stopped.

    python examples/bot.py
"""

from __future__ import annotations

import tempfile

import anyio
from _connect import connect

from coder_tasks_async import CoderTasksClient, Task, TaskLogType


async def run_bot(
    coder: CoderTasksClient, task: Task, cursor_file: anyio.Path, replies: list[str]
) -> None:
    """Answer each agent reply with the next of ``replies``; return after the agent has
    answered the last one."""
    saved = await cursor_file.read_text() if await cursor_file.exists() else None
    waiting_for_agent = False
    async with coder.follow_logs(task, settled=True, cursor=saved) as follower:
        async for event in follower:
            entry = event.entry
            if entry is None:
                print("    (the conversation restarted)")
                continue
            print(f"    {entry.type} #{entry.id}: {entry.content.splitlines()[0]}")
            # Saved before acting on the message: after a crash we may miss one answer,
            # but never send the same one twice.
            await cursor_file.write_text(follower.cursor.dumps())
            if entry.type is TaskLogType.INPUT:
                waiting_for_agent = True
            elif waiting_for_agent:  # the agent's (final) reply to the latest input
                waiting_for_agent = False
                if not replies:
                    return
                reply = replies.pop(0)
                print(f"    bot answers: {reply}")
                await coder.send_input(task, reply, wait_ready=True)


async def main() -> None:
    async with connect() as (coder, template_version):
        task = await coder.create_task(
            "Fix the flaky login test", template_version_id=template_version
        )
        cursor_file = anyio.Path(tempfile.gettempdir()) / f"coder-bot-{task.id}.cursor"
        try:
            print("bot, first run:")
            await run_bot(coder, task, cursor_file, ["Also add a regression test."])

            # While the bot is down, someone else talks to the agent.
            await coder.send_input(task, "And update the CHANGELOG.", wait_ready=True)

            print("bot, restarted (resumes from its cursor, repeats nothing):")
            await run_bot(coder, task, cursor_file, [])
        finally:
            await cursor_file.unlink(missing_ok=True)
            await coder.delete_task(task)


if __name__ == "__main__":
    anyio.run(main)
