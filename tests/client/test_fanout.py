"""Fan-out helpers and the client-side rate limiter, against FakeCoder over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import attrs
import pytest

from coder_tasks_async import (
    CoderTasksClient,
    ConflictError,
    Failure,
    Outcome,
    RateLimiter,
    RateLimitError,
    RetryPolicy,
    Success,
    Task,
    TaskRequest,
    map_bounded,
)
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

pytestmark = pytest.mark.anyio


async def _yield(times: int) -> None:
    for _ in range(times):
        await anyio.lowlevel.checkpoint()


async def _settle(fake: FakeCoder, client: CoderTasksClient) -> int:
    """Let the in-process server finish whatever reached it; return the creation count."""
    await client.list_tasks()
    await _yield(20)
    return len(fake.created)


# -- map_bounded --------------------------------------------------------------------------


async def test_results_keep_input_order_whatever_the_completion_order() -> None:
    finished: list[int] = []

    async def slower_first(i: int) -> int:
        await _yield(20 - i)  # item 0 yields most, so it finishes last
        finished.append(i)
        return i * i

    outcomes = await map_bounded(slower_first, range(20), concurrency=20)

    assert finished == list(reversed(range(20)))
    assert [o.item for o in outcomes] == list(range(20))
    assert [o.unwrap() for o in outcomes] == [i * i for i in range(20)]
    assert all(o.ok and o.error is None for o in outcomes)


async def test_failures_are_reported_per_item_and_do_not_stop_the_rest() -> None:
    async def picky(i: int) -> int:
        await anyio.lowlevel.checkpoint()
        if i % 3 == 0:
            raise ValueError(f"bad {i}")
        return i

    outcomes = await map_bounded(picky, range(10), concurrency=3)

    assert [o.item for o in outcomes] == list(range(10))
    for o in outcomes:
        if o.item % 3 == 0:
            assert not o.ok
            assert isinstance(o.error, ValueError)
            assert str(o.error) == f"bad {o.item}"
            with pytest.raises(ValueError, match=f"bad {o.item}"):
                o.unwrap()
        else:
            assert o.ok
            assert o.result == o.item


async def test_concurrency_limit_is_respected_and_reached() -> None:
    in_flight = 0
    peak = 0

    async def tracked(i: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await _yield(3 + i % 4)
        in_flight -= 1
        return i

    outcomes = await map_bounded(tracked, range(100), concurrency=7)

    assert peak == 7
    assert in_flight == 0
    assert [o.result for o in outcomes] == list(range(100))


async def test_progress_counts_every_item_once() -> None:
    seen: list[tuple[int, int, Outcome[int, int]]] = []

    async def maybe_fail(i: int) -> int:
        await _yield(i % 3)
        if i == 4:
            raise RuntimeError("four")
        return i

    outcomes = await map_bounded(
        maybe_fail, range(9), concurrency=4, progress=lambda d, t, o: seen.append((d, t, o))
    )

    assert [d for d, _, _ in seen] == list(range(1, 10))
    assert {t for _, t, _ in seen} == {9}
    assert sorted(o.item for _, _, o in seen) == list(range(9))
    assert sum(not o.ok for _, _, o in seen) == 1
    assert {id(o) for _, _, o in seen} == {id(o) for o in outcomes}


async def test_fail_fast_raises_the_first_error_itself_and_stops_launching() -> None:
    started: list[int] = []

    async def boom_at_five(i: int) -> int:
        started.append(i)
        await _yield(2)
        if i == 5:
            raise LookupError("five")
        await _yield(50)  # still running when item 5 fails: must be cancelled
        return i

    with pytest.raises(LookupError, match="five"):
        await map_bounded(boom_at_five, range(1000), concurrency=4, fail_fast=True)

    assert 5 in started
    assert len(started) <= 5 + 4  # nothing new after the failure


async def test_an_exception_in_progress_stops_the_fan_out() -> None:
    def progress(done: int, total: int, outcome: Outcome[int, int]) -> None:
        if done == 3:
            raise KeyError("stop")

    async def ident(i: int) -> int:
        await anyio.lowlevel.checkpoint()
        return i

    with pytest.raises(KeyError, match="stop"):
        await map_bounded(ident, range(100), concurrency=2, progress=progress)


async def test_base_exceptions_propagate_as_themselves() -> None:
    class Stop(BaseException):
        pass

    started: list[int] = []
    cancelled = 0

    async def stop_at_three(i: int) -> int:
        nonlocal cancelled
        started.append(i)
        if i == 3:
            raise Stop
        try:
            await _yield(100)
        except anyio.get_cancelled_exc_class():
            cancelled += 1
            raise
        return i

    with pytest.raises(Stop):
        await map_bounded(stop_at_three, range(10), concurrency=5)
    assert started == [0, 1, 2, 3]  # nothing new started after the failure
    assert cancelled == 3  # and the calls in flight were cancelled, not abandoned


async def test_empty_input_and_bad_concurrency() -> None:
    async def ident(i: int) -> int:
        return i

    assert await map_bounded(ident, []) == []
    with pytest.raises(ValueError, match="concurrency"):
        await map_bounded(ident, [1], concurrency=0)


# -- over HTTP ------------------------------------------------------------------------------


@attrs.define
class Req:
    input: str
    name: str | None = None


async def test_create_many_reports_each_failure_with_its_request(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    requests: list[TaskRequest] = [
        "plain prompt",
        {"input": "named", "name": "taken"},
        {"input": "bad name", "name": "not a valid name!"},
        Req(input="from attrs", name="attrs-one"),
        {"input": "duplicate", "name": "taken"},
        {"input": "typo", "nmae": "x"},
    ]
    # Run the duplicate strictly after the first "taken" so the 409 lands on item 4.
    outcomes = await coder.create_many(
        requests, template_version_id=fake_coder.template_version_id, concurrency=1
    )

    assert [o.item for o in outcomes] == requests
    assert [o.ok for o in outcomes] == [True, True, False, True, False, False]
    assert isinstance(outcomes[0].result, Task)
    assert outcomes[0].result.initial_prompt == "plain prompt"
    assert outcomes[1].unwrap().name == "taken"
    assert isinstance(outcomes[2].error, ValueError)  # refused before any request
    assert outcomes[3].unwrap().name == "attrs-one"
    assert isinstance(outcomes[4].error, ConflictError)
    assert outcomes[4].error.status == 409
    assert isinstance(outcomes[5].error, TypeError)
    assert len(fake_coder.created) == 3


async def test_create_many_keeps_order_and_get_and_delete_many_follow(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    names = [f"task-{i}" for i in range(40)]
    created = await coder.create_many(
        [{"input": f"prompt {n}", "name": n} for n in names],
        template_version_id=fake_coder.template_version_id,
        concurrency=8,
    )
    assert [o.unwrap().name for o in created] == names

    fetched = await coder.get_many([*reversed(names), "no-such-task"], concurrency=5)
    assert [o.result.name for o in fetched[:-1] if o.result] == list(reversed(names))
    assert not fetched[-1].ok

    fake_clock.advance(fake_coder.timings.pending)  # no delete while the start build runs
    deleted = await coder.delete_many([o.unwrap() for o in created[:10]])
    assert all(o.ok for o in deleted)
    assert {t.name for t in await coder.list_tasks()} == set(names[10:])


async def test_create_many_fail_fast_stops_creating(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    requests = [{"input": f"p{i}", "name": f"n{i}"} for i in range(200)]
    requests[10]["name"] = "bad name!"

    with pytest.raises(ValueError, match="invalid task name"):
        await coder.create_many(
            requests,
            template_version_id=fake_coder.template_version_id,
            concurrency=4,
            fail_fast=True,
        )

    assert await _settle(fake_coder, coder) <= 10 + 4


async def test_cancelling_a_fan_out_stops_new_creations_and_leaves_the_client_usable(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    with anyio.CancelScope() as scope:

        def cancel_after_20(done: int, total: int, outcome: object) -> None:
            if done == 20:
                scope.cancel()

        await coder.create_many(
            [f"prompt {i}" for i in range(1000)],
            template_version_id=fake_coder.template_version_id,
            concurrency=8,
            progress=cancel_after_20,
        )
    assert scope.cancelled_caught

    count = await _settle(fake_coder, coder)
    assert 20 <= count <= 20 + 8
    assert await _settle(fake_coder, coder) == count  # nothing left running in the background

    task = await coder.create_task("after", template_version_id=fake_coder.template_version_id)
    assert len(fake_coder.created) == count + 1
    assert (await coder.get_task(task.id)).initial_prompt == "after"


async def test_an_expired_deadline_starts_nothing(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    with anyio.move_on_after(0):
        await coder.create_many(["never"] * 50, template_version_id=fake_coder.template_version_id)
    assert await _settle(fake_coder, coder) == 0


async def test_an_outer_cancel_scope_cancels_calls_in_flight() -> None:
    release = anyio.Event()  # never set: every call hangs until cancelled
    started = 0
    cancelled = 0

    async def hang(i: int) -> None:
        nonlocal started, cancelled
        started += 1
        try:
            await release.wait()
        except anyio.get_cancelled_exc_class():
            cancelled += 1
            raise

    async def cancel_soon(scope: anyio.CancelScope) -> None:
        await _yield(10)
        scope.cancel()

    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as scope:
            tg.start_soon(cancel_soon, scope)
            await map_bounded(hang, range(100), concurrency=6)
    assert (started, cancelled) == (6, 6)


# -- rate limiting --------------------------------------------------------------------------


@pytest.fixture
async def limited() -> AsyncIterator[tuple[FakeCoder, FakeClock, CoderTasksClient]]:
    clock = FakeClock()
    async with (
        FakeCoder(rate_limit=512, clock=clock) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=clock) as client,
    ):
        yield fake, clock, client


def _statuses(fake: FakeCoder, status: int) -> int:
    return sum(1 for r in fake.requests if r.status == status)


async def test_rate_limited_fan_out_stays_under_the_server_limit(
    limited: tuple[FakeCoder, FakeClock, CoderTasksClient],
) -> None:
    fake, clock, client = limited
    t0 = clock.now()

    outcomes = await client.create_many(
        [f"prompt {i}" for i in range(600)],
        template_version_id=fake.template_version_id,
        concurrency=32,
        rate_limit=True,
    )

    assert [o.error for o in outcomes if not o.ok] == []
    assert len(fake.created) == 600
    assert _statuses(fake, 429) == 0
    assert clock.now() - t0 >= 60.0  # 600 > 512 per minute: pacing had to wait


async def test_without_the_limiter_the_same_fan_out_is_refused(
    limited: tuple[FakeCoder, FakeClock, CoderTasksClient],
) -> None:
    fake, _, client = limited
    outcomes = await client.create_many(
        [f"prompt {i}" for i in range(600)],
        template_version_id=fake.template_version_id,
        concurrency=32,
    )
    refused = [o for o in outcomes if isinstance(o.error, RateLimitError)]
    assert refused
    assert _statuses(fake, 429) >= len(refused)
    assert {o.error.retry_after for o in refused if isinstance(o.error, RateLimitError)} == {60.0}


async def test_limiter_learns_a_lower_server_limit_and_stays_under_it() -> None:
    clock = FakeClock()
    async with (
        FakeCoder(rate_limit=50, clock=clock) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=clock) as client,
    ):
        limiter = RateLimiter(client)
        assert limiter.limit == 512
        t0 = clock.now()
        outcomes = await client.create_many(
            [f"prompt {i}" for i in range(120)],
            template_version_id=fake.template_version_id,
            concurrency=4,
            rate_limit=limiter,
        )
        assert limiter.limit == 50
        assert [o.error for o in outcomes if not o.ok] == []
        assert _statuses(fake, 429) == 0
        assert clock.now() - t0 >= 120.0  # 120 creates at 50 per minute


async def test_limiter_pauses_for_retry_after_on_a_429(
    fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    fake_coder.faults.add(Fault("create", "rate_limit", times=1, retry_after=30))
    async with CoderTasksClient(
        fake_coder.url, token=fake_coder.token, clock=fake_clock, retry=RetryPolicy.none()
    ) as client:
        limiter = RateLimiter(client)
        tv = fake_coder.template_version_id
        with pytest.raises(RateLimitError):
            await limiter.run(client.create_task, "first", template_version_id=tv)
        t0 = fake_clock.now()
        await limiter.run(client.create_task, "second", template_version_id=tv)
        assert fake_clock.now() - t0 >= 30.0
        assert len(fake_coder.created) == 1


async def test_limiter_headers_feedback() -> None:
    clock = FakeClock()
    async with CoderTasksClient("http://127.0.0.1:9", token="t", clock=clock) as client:
        limiter = RateLimiter(client, per_minute=100)
        # A lower server limit wins over ours; a higher one does not.
        limiter.observe({"x-ratelimit-limit": "1000"})
        assert limiter.limit == 100
        limiter.observe({"X-Ratelimit-Limit": "20", "X-Ratelimit-Remaining": "5"})
        assert limiter.limit == 20
        # Remaining 0 with a reset 15 s after the server's Date: wait it out.
        t0 = clock.now()
        limiter.observe(
            {
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "1767225615",  # 2026-01-01T00:00:15Z
                "Date": "Thu, 01 Jan 2026 00:00:00 GMT",
            }
        )
        await limiter.acquire()
        assert clock.now() - t0 >= 15.0
        with pytest.raises(ValueError, match="per_minute"):
            RateLimiter(client, per_minute=0)


async def test_outcome_is_a_small_frozen_value() -> None:
    ok: Outcome[str, int] = Success(item="a", result=1)
    bad: Outcome[str, Any] = Failure(item="b", error=KeyError("b"))
    assert ok.ok and not bad.ok
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ok.result = 2  # type: ignore[misc]
    with pytest.raises(KeyError):
        bad.unwrap()
