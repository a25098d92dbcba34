"""What one followed task costs in memory: nothing is held per task that need not be.

A client may follow thousands of tasks at once (issue 15): every follower shares
one jitter generator, the task memo holds no response bodies, and the transport
keeps no state per path it was asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import uuid

import pytest
from helpers import FAST, TESTS, eventually

from coder_tasks_async import CoderTasksClient, PollPolicy
from coder_tasks_async._polling.backoff import SHARED_RANDOM, Backoff
from coder_tasks_async._wire import converter
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio

_JITTERY = PollPolicy(initial=1.0, factor=2.0, maximum=8.0, jitter=0.5)


def test_backoffs_share_one_generator_unless_given_their_own() -> None:
    first, second = Backoff(_JITTERY), Backoff(_JITTERY)
    assert first._rand is SHARED_RANDOM
    assert second._rand is SHARED_RANDOM
    own = random.Random(7)
    assert Backoff(_JITTERY, own)._rand is own
    # Still jittered: a shared generator does not make every poller wait alike.
    waits = {Backoff(_JITTERY).after_poll(changed=True) for _ in range(20)}
    assert len(waits) > 1
    assert all(0.5 <= w <= 1.5 for w in waits)


async def test_followers_of_one_client_share_its_generator(coder: CoderTasksClient) -> None:
    followers = [coder.follow_logs(uuid.uuid4()) for _ in range(3)]
    generators = {id(f._backoff._rand) for f in followers}
    assert generators == {id(SHARED_RANDOM)}


def test_the_task_memo_holds_no_bodies() -> None:
    body = (TESTS / "fixtures" / "latest" / "task.json").read_bytes()
    converter._TASKS.clear()
    first = converter.decode_task(body)
    assert converter.decode_task(bytes(bytearray(body))) is first  # equal bytes: remembered
    assert converter._TASKS
    # Per task only the body's first and last few bytes (which task; did it change?).
    for head, seen in converter._TASKS.items():
        held = [head, *(part for part in seen if isinstance(part, bytes | bytearray))]
        assert [len(part) for part in held] == [converter._HEAD, converter._TAIL]
        assert len(body) // 10 > converter._HEAD + converter._TAIL
    assert converter.decode_task(body.replace(b'"working"', b'"idle"')) is not first


async def test_the_transport_keeps_nothing_per_path(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    tasks = [
        await coder.create_task(f"hi {i}", template_version_id=fake_coder.template_version_id)
        for i in range(40)
    ]
    for task in tasks:
        await coder.get_task(task.id)
        await coder.get_task(task.name)
    transport = coder._calls.transport
    sizes = {name: len(v) for name, v in vars(transport).items() if isinstance(v, dict | list)}
    assert sizes, "the transport's containers were not found"
    assert max(sizes.values()) < len(tasks), sizes


async def test_a_follower_still_follows_after_its_first_poll(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("hello", template_version_id=fake_coder.template_version_id)
    await coder.wait_for(task, until="idle", poll=FAST)
    seen = []
    async with coder.follow_logs(task.id, poll=FAST, until=lambda t: True) as follower:
        async for event in follower:
            seen.append(event)
    assert seen
    assert follower.cursor.last_id is not None


async def test_cut_timeouts_are_built_once_per_tenth_of_a_second(
    coder: CoderTasksClient,
) -> None:
    transport = coder._calls.transport
    limits = transport.timeouts
    first = transport._cut_timeout(limits, 12.34)
    assert transport._cut_timeout(limits, 12.36) is first  # the same tenth: reused
    assert first.total == pytest.approx(12.3)
    assert first.sock_connect == pytest.approx(min(limits.connect, 12.3))
    other = transport._cut_timeout(limits, 0.01)
    assert other.total == pytest.approx(0.1)  # never cut to nothing
    assert len(transport._cut_cache) == 2


def _await_chain(coro: object) -> list[tuple[str, str]]:
    """(file, qualified name) of each coroutine a suspended coroutine waits through."""
    chain = []
    while (code := getattr(coro, "cr_code", None)) is not None:
        chain.append((code.co_filename, code.co_qualname))
        coro = getattr(coro, "cr_await", None)
    return chain


async def test_a_waiting_follower_holds_one_polling_frame(
    manual: tuple[FakeCoder, FakeClock, CoderTasksClient],
) -> None:
    # Every coroutine frame a follower waits through is held by each of thousands of
    # followers (~250 B each) and is passed through on every resume of its requests.
    fake, _, client = manual
    task = await client.create_task("hello", template_version_id=fake.template_version_id)
    follower = client.follow_logs(task.id, poll=FAST, wake="poll")

    async def drain() -> None:
        async for _ in follower:
            pass

    runner = asyncio.ensure_future(drain())
    try:
        await eventually(
            lambda: (
                follower.task is not None
                and any("_clock" in f for f, _ in _await_chain(runner.get_coro()))
            ),
            "the follower polled once and sleeps on the clock",
        )
        chain = _await_chain(runner.get_coro())
        polling = [name for file, name in chain if f"{os.sep}_polling{os.sep}" in file]
        assert polling == ["LogFollower.__anext__"], chain
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await follower.aclose()
