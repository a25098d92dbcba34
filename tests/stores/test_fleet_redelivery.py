"""With a plain ack, a worker killed between recording an entry and acknowledging it
gets that entry delivered again, exactly once, by the worker that takes over.

The chaos test (test_fleet_chaos.py) bounds plain re-deliveries but its kills rarely
land in that window; here the worker (tests/stores/fleet_worker.py, plain acks for
tasks with an odd id) kills itself with SIGKILL right after recording one chosen
entry (``FLEET_WORKER_DIE_AT``).  A second worker, started once the first is dead,
takes the tasks over when their leases run out, from the saved cursors: the chosen
entry comes again, once; every other one was acknowledged and comes only once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from uuid import UUID

import anyio
import orjson
import pytest
from storekit import PACE, QUICK, wait_until

from coder_tasks_async import CoderTasksClient, TaskState
from coder_tasks_async.testing import FakeCoder

pytestmark = pytest.mark.anyio

WORKER = Path(__file__).with_name("fleet_worker.py")
BOUND = 60.0  # seconds: a safety net against a hang, never a pass


def plain(task_id: UUID) -> bool:
    """The worker acknowledges a task with an odd id plainly (fleet_worker.transactional)."""
    return task_id.int % 2 == 1


async def plain_tasks(coder: CoderTasksClient, fake: FakeCoder, n: int) -> list[UUID]:
    """``n`` idle tasks the worker acknowledges plainly, and no other task."""
    found: list[UUID] = []
    for _ in range(64 * n):  # ids are random: each one is plain at even odds
        task = await coder.create_task("job", template_version_id=fake.template_version_id)
        if plain(task.id):
            found.append(task.id)
        else:
            await coder.delete_task(task)
        if len(found) == n:
            break
    for task_id in found:
        await coder.wait_for(task_id, until=TaskState.IDLE, timeout=BOUND)
    return found


def keys_of(fake: FakeCoder, task_id: UUID) -> list[str]:
    """The idempotency key of each entry of a task, in order."""
    task = fake.task(task_id)
    run = f"{task.build_number}.{task.agent_id}"
    return [f"{task_id}/{run}/{e['id']}" for e in task.entries]


def delivered(tmp: Path) -> Counter[str]:
    """How many times each entry was recorded, by any worker."""
    return Counter(
        orjson.loads(line)[0]
        for log in tmp.glob("*.jsonl")
        for line in log.read_bytes().splitlines()
    )


async def test_an_entry_recorded_but_not_acknowledged_is_delivered_again_exactly_once(
    tmp_path: Path,
) -> None:
    where = f"sqlite:{tmp_path / 'fleet.sqlite3'}"
    async with FakeCoder(timings=QUICK, server_version="v2.31.1") as fake:
        async with CoderTasksClient(fake.url, token=fake.token, poll=PACE) as coder:
            tasks = await plain_tasks(coder, fake, 2)
            want = [key for task_id in tasks for key in keys_of(fake, task_id)]
            assert len(want) == 6  # a welcome screen, the prompt and the reply each
            dies_at = keys_of(fake, tasks[0])[1]  # after entry 0 was acknowledged

            async def run(name: str, env: dict[str, str]) -> int | None:
                args = [sys.executable, str(WORKER), fake.url, fake.token, where, name]
                args.append(str(tmp_path / f"{name}.jsonl"))
                async with await anyio.open_process(
                    args, stdin=subprocess.DEVNULL, stderr=None, env={**os.environ, **env}
                ) as proc:
                    assert proc.stdout is not None
                    with anyio.fail_after(BOUND):
                        assert b"ready" in await proc.stdout.receive()
                    if env:  # it dies at `dies_at` on its own
                        with anyio.fail_after(BOUND):
                            return await proc.wait()
                    try:

                        async def all_delivered() -> bool:
                            return set(want) <= set(delivered(tmp_path))

                        await wait_until(all_delivered, every=0.1, bound=BOUND)
                    finally:
                        proc.send_signal(signal.SIGKILL)
                        await proc.wait()
                    return None

            assert await run("worker-1", {"FLEET_WORKER_DIE_AT": dies_at}) == -signal.SIGKILL
            assert delivered(tmp_path)[dies_at] == 1  # recorded before it died
            await run("worker-2", {})
    counts = delivered(tmp_path)
    assert set(counts) == set(want)
    assert counts[dies_at] == 2  # delivered again, once
    assert all(counts[key] == 1 for key in want if key != dies_at), counts
