"""One spelling per operation; the old ones still work for a release, with a warning."""

from __future__ import annotations

import pytest

from coder_tasks_async import (
    CoderTasksClient,
    Failure,
    Outcome,
    RateLimiter,
    Success,
    create_many,
    delete_many,
    get_many,
    map_bounded,
)
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio


async def test_user_is_the_deprecated_spelling_of_owner(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    tv = fake_coder.template_version_id
    with pytest.warns(DeprecationWarning, match=r"user= is deprecated.*owner=") as caught:
        task = await coder.create_task("hello", template_version_id=tv, name="t1", user="me")
    assert caught[0].filename == __file__  # points at the caller, not the SDK
    with pytest.warns(DeprecationWarning, match="user="):
        assert (await coder.get_task("t1", user="me")).id == task.id
    with pytest.warns(DeprecationWarning, match="user="):
        assert (await coder.wait_for("t1", until=lambda t: True, user="me")).id == task.id
    with (
        pytest.raises(TypeError, match="owner= only"),
        pytest.warns(DeprecationWarning, match="user="),
    ):
        await coder.get_task("t1", owner="bob", user="alice")


async def test_module_level_fan_out_functions_warn_and_still_work(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    tv = fake_coder.template_version_id
    with pytest.warns(DeprecationWarning, match=r"coder\.create_many"):
        created = await create_many(coder, ["a", "b"], template_version_id=tv)
    assert all(o.ok for o in created)
    tasks = [o.unwrap() for o in created]
    with pytest.warns(DeprecationWarning, match=r"coder\.get_many"):
        fetched = await get_many(coder, tasks)
    assert [o.unwrap().id for o in fetched] == [t.id for t in tasks]
    fake_clock.advance(fake_coder.timings.pending)  # no delete while the start build runs
    with pytest.warns(DeprecationWarning, match=r"coder\.delete_many"):
        deleted = await delete_many(coder, tasks)
    assert all(o.ok for o in deleted)


async def test_rate_limiter_is_the_deprecated_spelling_of_rate_limit(
    coder: CoderTasksClient,
) -> None:
    limiter = RateLimiter(coder)

    async def double(n: int) -> int:
        return 2 * n

    assert [o.unwrap() for o in await map_bounded(double, [1, 2], rate_limit=limiter)] == [2, 4]
    with pytest.warns(DeprecationWarning, match="rate_limiter="):
        outcomes = await map_bounded(double, [3], rate_limiter=limiter)
    assert outcomes[0].unwrap() == 6


def test_calling_outcome_builds_a_success_or_failure_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"Outcome\(\.\.\.\)"):
        ok = Outcome(item="a", result=1)
    with pytest.warns(DeprecationWarning, match=r"Outcome\(\.\.\.\)"):
        bad = Outcome(item="b", error=KeyError("b"))
    assert ok == Success(item="a", result=1)
    assert isinstance(bad, Failure)
    assert bad.item == "b"
