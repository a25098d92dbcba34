"""A fan-out that reads its outcomes the way people write it."""

from __future__ import annotations

from uuid import UUID

from coder_tasks_async import (
    CoderTasksClient,
    Failure,
    Outcome,
    Success,
    Task,
    TaskRef,
    map_bounded,
)


def report(done: int, total: int, outcome: Outcome[str, Task]) -> None:
    label = outcome.item  # the prompt: a str, not the union of every request shape
    print(f"{done}/{total} {label[:20]} {'ok' if outcome.ok else 'failed'}")


async def create_and_check(coder: CoderTasksClient, prompts: list[str], tv: UUID) -> list[Task]:
    outcomes = await coder.create_many(prompts, template_version_id=tv, progress=report)
    first: str = outcomes[0].item
    print("first prompt:", first)
    created: list[Task] = []
    for outcome in outcomes:
        match outcome:
            case Success(result=task):
                created.append(task)  # Task, not Task | None
            case Failure(item=prompt, error=exc):
                print(f"{prompt[:20]!r} failed: {exc}")
    names = [o.result.name for o in outcomes if isinstance(o, Success)]
    errors: list[Exception] = [o.error for o in outcomes if o.ok is False]
    print(names, errors)
    return created


async def refresh(coder: CoderTasksClient, refs: list[TaskRef]) -> dict[str, Task]:
    fresh: dict[str, Task] = {}
    for outcome in await coder.get_many(refs, owner="me", rate_limit=True):
        task: Task = outcome.unwrap()
        fresh[task.name] = task
    return fresh


async def send_everywhere(coder: CoderTasksClient, tasks: list[Task]) -> int:
    async def send(task: Task) -> None:
        await coder.send_input(task, "Also run the tests", wait_ready=True)

    outcomes = await map_bounded(send, tasks, concurrency=4)
    return sum(1 for o in outcomes if not o.ok)
