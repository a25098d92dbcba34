"""Fan-out: start many tasks at once (at most 4 creates in flight), wait for all, clean up.

python examples/fan_out.py
"""

from __future__ import annotations

import anyio
from _connect import connect

from coder_tasks_async import CoderTasksClient, Task, TaskState

PROMPTS = [f"Add type hints to module_{i}.py" for i in range(10)]
DONE = [TaskState.IDLE, TaskState.COMPLETE, TaskState.FAILED]


async def main() -> None:
    async with connect() as (coder, template_version):
        # A cheap call first: a bad URL or token fails here, before the burst (it also
        # lets api="auto" detect the server's route tree once).
        await coder.list_tasks()
        tasks = await create_all(coder, template_version, PROMPTS)
        print(f"created {len(tasks)} tasks")

        finished: list[Task] = []

        async def wait_one(task: Task) -> None:
            finished.append(await coder.wait_for(task, until=DONE, timeout=900))

        async with anyio.create_task_group() as tg:
            for task in tasks:
                tg.start_soon(wait_one, task)
        for task in finished:
            print(
                f"{task.name}: {task.state} ({task.current_state and task.current_state.message})"
            )

        async with anyio.create_task_group() as tg:
            for task in tasks:
                tg.start_soon(coder.delete_task, task)


async def create_all(
    coder: CoderTasksClient, template_version: str, prompts: list[str]
) -> list[Task]:
    """Create one task per prompt, concurrently, bounded by a CapacityLimiter."""
    limiter = anyio.CapacityLimiter(4)
    created: list[Task] = []

    async def create(prompt: str) -> None:
        async with limiter:
            created.append(await coder.create_task(prompt, template_version_id=template_version))

    # If one create fails, the task group cancels the others and raises an ExceptionGroup.
    async with anyio.create_task_group() as tg:
        for prompt in prompts:
            tg.start_soon(create, prompt)
    return created


if __name__ == "__main__":
    anyio.run(main)
