"""Quick start: create a task, follow its conversation until the agent is idle, clean up.

python examples/quickstart.py
"""

from __future__ import annotations

import anyio
from _connect import connect

from coder_tasks_async import Task, TaskState


def agent_done(task: Task) -> bool:
    return task.state in (TaskState.IDLE, TaskState.COMPLETE, TaskState.FAILED)


async def main() -> None:
    async with connect() as (coder, template_version):
        task = await coder.create_task(
            "Fix the flaky login test", template_version_id=template_version
        )
        print(f"created {task.ref}: {task.status}")

        # settled=True: each message once, when it can no longer change.
        async with coder.follow_logs(task, settled=True, until=agent_done) as follower:
            async for event in follower:
                if event.entry is not None:
                    print(f"--- {event.entry.type} #{event.entry.id}\n{event.entry.content}")

        for t in await coder.list_tasks():
            print(f"{t.name}: {t.status}, {t.state}")
        await coder.delete_task(task)


if __name__ == "__main__":
    anyio.run(main)
