"""Waiting for a task to reach a status or a state, with a timeout.

python examples/wait_for_status.py
"""

from __future__ import annotations

import anyio
from _connect import connect

from coder_tasks_async import PollPolicy, TaskState, TaskStatus, WaitTimeoutError


async def main() -> None:
    async with connect() as (coder, template_version):
        task = await coder.create_task(
            "Upgrade the CI image to Python 3.12", template_version_id=template_version
        )
        # Poll every 0.5 s while things change, backing off to 5 s while they don't.
        poll = PollPolicy(initial=0.5, maximum=5.0)

        # A status: the workspace is up and the agent is running.
        task = await coder.wait_for(task, until=TaskStatus.ACTIVE, timeout=600, poll=poll)
        print(f"{task.name} is {task.status}")

        # Running out of time raises WaitTimeoutError (also a TimeoutError) with the last task.
        try:
            await coder.wait_for(task, until=TaskState.COMPLETE, timeout=0.5, poll=poll)
        except WaitTimeoutError as exc:
            print(f"not complete after 0.5 s; state is {exc.task.state if exc.task else None}")

        # Any of several states, or a predicate of your own.
        task = await coder.wait_for(
            task, until=[TaskState.IDLE, TaskState.COMPLETE], timeout=900, poll=poll
        )
        print(f"agent finished its turn: {task.current_state and task.current_state.message}")
        task = await coder.wait_for(task, until=lambda t: t.workspace_agent_health is not None)
        print(f"agent health: {task.workspace_agent_health}")

        await coder.delete_task(task)


if __name__ == "__main__":
    anyio.run(main)
