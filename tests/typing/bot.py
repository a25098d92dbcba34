"""A bot that tails a task, answers the agent and resumes from a saved cursor."""

from __future__ import annotations

from uuid import UUID

import anyio

from coder_tasks_async import (
    CoderTasksClient,
    LogEvent,
    LogEventKind,
    PollPolicy,
    Task,
    TaskLogType,
    TaskState,
)


async def run_bot(coder: CoderTasksClient, task: Task, cursor_file: anyio.Path) -> int:
    saved = await cursor_file.read_text() if await cursor_file.exists() else None
    answered = 0
    async with coder.follow_logs(
        task, settled=True, cursor=saved, until=[TaskState.COMPLETE, TaskState.FAILED]
    ) as follower:
        async for event in follower:
            if event.kind is LogEventKind.RESET or event.entry is None:
                continue
            await cursor_file.write_text(follower.cursor.dumps())
            if event.entry.type is TaskLogType.OUTPUT and "?" in event.entry.content:
                await coder.send_input(task, "Yes, go ahead.", wait_ready=True)
                answered += 1
    return answered


async def tail_many(coder: CoderTasksClient, names: list[str]) -> dict[UUID, int]:
    counts: dict[UUID, int] = {}
    poll = PollPolicy(initial=0.5, maximum=5)
    async with coder.follow_many(names, poll=poll, until_terminal=True) as events:
        event: LogEvent
        async for event in events:
            counts[event.task_id] = counts.get(event.task_id, 0) + 1
    return counts
