"""Fan-out: start many tasks at once, follow them all in one stream, clean up.

python examples/fan_out.py
"""

from __future__ import annotations

import anyio
from _connect import connect

from coder_tasks_async import Success, Task

PROMPTS = [f"Add type hints to module_{i}.py" for i in range(10)]


async def main() -> None:
    async with connect() as (coder, template_version):
        # At most 8 creates in flight; one failure does not cancel the others.
        outcomes = await coder.create_many(
            PROMPTS, template_version_id=template_version, concurrency=8
        )
        tasks: list[Task] = []
        for outcome in outcomes:
            if isinstance(outcome, Success):
                tasks.append(outcome.result)
            else:
                print(f"could not create {outcome.item!r}: {outcome.error}")
        print(f"created {len(tasks)} tasks")

        # One list call per interval for all statuses; each entry once, when settled.
        async with coder.follow_many(tasks, settled=True, idle_timeout=2) as events:
            async for event in events:
                if event.entry is not None:
                    first_line = event.entry.content.splitlines()[0] if event.entry.content else ""
                    print(f"[{event.task_name}] {first_line[:70]}")

        deleted = await coder.delete_many(tasks)
        print(f"deleted {sum(o.ok for o in deleted)} tasks")


if __name__ == "__main__":
    anyio.run(main)
