"""Retries that never duplicate, timeouts, redirects, bounds and cancellation, over loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import aiohttp
import anyio
import pytest
from aiohttp import web
from helpers import acquired, redirect_loop, serve_app

from coder_tasks_async import (
    AmbiguousRequestError,
    CoderDecodeError,
    CoderTasksClient,
    CoderTimeoutError,
    CoderTransportError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    Timeouts,
)
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

pytestmark = pytest.mark.anyio


def routed(fake: FakeCoder, route: str) -> list[int]:
    return [r.status for r in fake.requests if r.route == route]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(route="list", kind="status", status=503, times=2),
        Fault(route="list", kind="status", status=504, times=1),
        Fault(route="list", kind="html", times=2),
        Fault(route="list", kind="rate_limit", retry_after=3, times=2),
        Fault(route="list", kind="reset", times=2),
        Fault(route="list", kind="lost_response", times=2),
        Fault(route="list", kind="truncated_json", times=2),
    ],
)
async def test_get_rides_out_transient_faults(
    fake_coder: FakeCoder, coder: CoderTasksClient, fault: Fault
) -> None:
    fake_coder.faults.add(fault)
    assert await coder.list_tasks() == []
    assert len(fake_coder.faults.injected) == fault.times


async def test_retries_are_bounded_and_then_raise(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="get", kind="status", status=503))
    with pytest.raises(ServerError) as info:
        await coder.get_task("x", retry=RetryPolicy(attempts=3))
    assert info.value.status == 503
    assert len(fake_coder.faults.injected) == 3


async def test_a_body_that_is_not_json_is_fetched_again_but_a_misfit_is_not(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    fake_coder.faults.add(Fault(route="get", kind="truncated_json", times=1))
    assert (await coder.get_task(task.id)).id == task.id
    fake_coder.faults.add(Fault(route="logs", kind="truncated_json"))
    with pytest.raises(CoderDecodeError) as info:
        await coder.get_logs(task, retry=RetryPolicy(attempts=3))
    assert info.value.invalid_json
    assert [r.route for r in fake_coder.requests].count("logs") == 3


async def test_500_is_not_retried(fake_coder: FakeCoder, coder: CoderTasksClient) -> None:
    fake_coder.faults.add(Fault(route="get", kind="status", status=500))
    with pytest.raises(ServerError):
        await coder.get_task("x")
    assert len(fake_coder.faults.injected) == 1


async def test_retry_after_beyond_the_deadline_fails_fast(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="list", kind="rate_limit", retry_after=60))
    start = fake_clock.now()
    with pytest.raises(RateLimitError) as info:
        await coder.list_tasks(retry=RetryPolicy(deadline=30))
    assert info.value.retry_after == 60
    assert fake_clock.now() == start  # did not sleep past the caller's budget
    assert len(fake_coder.faults.injected) == 1


async def test_a_wait_that_leaves_no_time_for_the_attempt_is_not_made(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    # Coder's Retry-After: 60 against a deadline a hair longer (or equal, give or take
    # float rounding): the attempt after the wait would have no time left to run.
    fake_coder.faults.add(Fault(route="list", kind="rate_limit", retry_after=60))
    for deadline in (60.0, 60.05):
        start = fake_clock.now()
        with pytest.raises(RateLimitError):
            await coder.list_tasks(retry=RetryPolicy(deadline=deadline))
        assert fake_clock.now() == start  # no 60 s sleep for nothing
    assert not RetryPolicy(deadline=60).has_budget(1, elapsed=0, delay=60)
    assert RetryPolicy(deadline=60).has_budget(1, elapsed=0, delay=59.9)


async def test_retry_after_is_honoured(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="list", kind="rate_limit", retry_after=7, times=1))
    start = fake_clock.now()
    await coder.list_tasks()
    assert fake_clock.now() - start == pytest.approx(7)


async def test_post_429_is_resent_because_it_was_refused_before_handling(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="create", kind="rate_limit", times=1))
    await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    assert len(fake_coder.created) == 1


async def test_send_after_a_lost_response_raises_and_is_not_resent(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    await coder.wait_for(task, until="idle")
    fake_coder.faults.add(Fault(route="send", kind="lost_response", times=1))
    with pytest.raises(AmbiguousRequestError, match="may have been handled"):
        await coder.send_input(task, "exactly once")
    assert [text for _, text, _ in fake_coder.deliveries] == ["exactly once"]
    assert len(routed(fake_coder, "send")) == 1


@pytest.mark.parametrize("kind", ["status", "html"])
async def test_send_gateway_errors_are_not_resent(
    fake_coder: FakeCoder, coder: CoderTasksClient, kind: str
) -> None:
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    await coder.wait_for(task, until="idle")
    fake_coder.faults.add(Fault(route="send", kind=kind, status=503, times=1))
    with pytest.raises(ServerError):
        await coder.send_input(task, "once")
    assert len(routed(fake_coder, "send")) == 1


async def test_create_with_name_reconciles_after_a_lost_response(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="create", kind="lost_response", times=1))
    task = await coder.create_task(
        "Fix it", template_version_id=fake_coder.template_version_id, name="fix-it"
    )
    assert task.name == "fix-it"
    assert fake_coder.created == [task.id]


async def test_create_with_name_resends_when_the_gateway_failed_before_handling(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="create", kind="status", status=503, times=1))
    task = await coder.create_task(
        "Fix it", template_version_id=fake_coder.template_version_id, name="fix-it"
    )
    assert fake_coder.created == [task.id]
    assert routed(fake_coder, "create") == [503, 201]


async def test_create_with_name_after_a_truncated_body_returns_the_created_task(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="create", kind="truncated_json", times=1))
    task = await coder.create_task(
        "Fix it", template_version_id=fake_coder.template_version_id, name="fix-it"
    )
    assert fake_coder.created == [task.id]


async def test_create_without_name_says_the_task_may_exist(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="create", kind="lost_response", times=1))
    with pytest.raises(AmbiguousRequestError, match="may or may not have created"):
        await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    assert len(fake_coder.created) == 1
    assert len(routed(fake_coder, "create")) == 1


async def test_create_with_name_taken_by_another_prompt_is_not_hidden(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    tv = fake_coder.template_version_id
    await coder.create_task("first prompt", template_version_id=tv, name="shared")
    fake_coder.faults.add(Fault(route="create", kind="lost_response", times=1))
    with pytest.raises(AmbiguousRequestError, match="different prompt"):
        await coder.create_task("second prompt", template_version_id=tv, name="shared")
    assert len(fake_coder.created) == 1


async def test_retried_delete_that_gets_404_has_succeeded(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    fake_clock.advance(fake_coder.timings.pending)  # no delete while the start build runs
    fake_coder.faults.add(Fault(route="delete", kind="lost_response", times=1))
    await coder.delete_task(task)
    assert fake_coder.task(task.id).deleted
    with pytest.raises(NotFoundError):
        await coder.delete_task(task)  # a first-attempt 404 is still an error


async def test_sdk_timeout_and_caller_deadline_are_distinct(fake_coder: FakeCoder) -> None:
    fake_coder.faults.add(Fault(route="list", kind="latency", delay=2.0))
    async with CoderTasksClient(
        fake_coder.url,
        token=fake_coder.token,
        timeouts=Timeouts(read=0.1, total=5),
        retry=RetryPolicy.none(),
    ) as client:
        with pytest.raises(CoderTimeoutError) as info:
            await client.list_tasks()
        assert not isinstance(info.value, TimeoutError)
        with pytest.raises(TimeoutError) as caller:
            with anyio.fail_after(0.1):
                await client.list_tasks(timeouts=Timeouts(read=5, total=5))
        assert not isinstance(caller.value, CoderTimeoutError)
        assert acquired(client) == 0


async def test_queueing_for_a_slot_does_not_count_against_the_timeout(
    fake_coder: FakeCoder,
) -> None:
    # Six requests of 0.15 s each through two slots take three rounds (0.45 s);
    # each one's total timeout (0.3 s) starts only when it holds a slot.
    fake_coder.faults.add(Fault(route="list", kind="latency", delay=0.15))
    async with CoderTasksClient(
        fake_coder.url,
        token=fake_coder.token,
        max_concurrency=2,
        timeouts=Timeouts(total=0.3, read=0.3),
        retry=RetryPolicy.none(),
    ) as client:
        results: list[object] = []
        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(lambda: _append(results, client))
        assert len(results) == 6


async def _append(results: list[object], client: CoderTasksClient) -> None:
    results.append(await client.list_tasks())


async def test_cancellation_while_waiting_for_headers_releases_the_connection(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="list", kind="latency", delay=3.0))
    with anyio.move_on_after(0.1):
        await coder.list_tasks()
    assert acquired(coder) == 0


async def test_cancellation_while_reading_the_body_releases_the_connection(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    for i in range(3):
        await coder.create_task(f"task {i}", template_version_id=fake_coder.template_version_id)
    fake_coder.faults.add(Fault(route="list", kind="slow_body", delay=0.5))
    with anyio.move_on_after(0.2):
        await coder.list_tasks()
    assert acquired(coder) == 0


async def test_cancellation_while_sleeping_between_retries(fake_coder: FakeCoder) -> None:
    clock = FakeClock(autojump=False)  # the backoff sleep blocks until cancelled
    fake_coder.faults.add(Fault(route="list", kind="status", status=503))
    async with CoderTasksClient(fake_coder.url, token=fake_coder.token, clock=clock) as client:
        with anyio.move_on_after(0.2) as scope:
            await client.list_tasks()
        assert scope.cancelled_caught
        assert len(fake_coder.faults.injected) == 1
        assert acquired(client) == 0


async def test_maximum_body_size(fake_coder: FakeCoder, fake_clock: FakeClock) -> None:
    async with CoderTasksClient(
        fake_coder.url, token=fake_coder.token, clock=fake_clock, max_body_size=2048
    ) as client:
        for i in range(3):
            await client.create_task(f"t{i}", template_version_id=fake_coder.template_version_id)
        with pytest.raises(CoderTransportError, match="max_body_size"):
            await client.list_tasks()
        fake_coder.faults.add(Fault(route="list", kind="slow_body", delay=0.0))  # chunked
        with pytest.raises(CoderTransportError, match="max_body_size"):
            await client.list_tasks()
        assert acquired(client) == 0


@pytest.fixture
async def redirector() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A second origin that records what it receives, and redirects to it."""
    seen: list[dict[str, str]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"tasks": [], "count": 0})

    app = web.Application()
    app.router.add_get("/api/experimental/tasks", record)
    async with serve_app(app) as port:
        yield f"http://localhost:{port}", seen


async def test_token_is_never_sent_to_another_origin(
    redirector: tuple[str, list[dict[str, str]]],
) -> None:
    # localhost vs 127.0.0.1, and another port: another origin either way.
    other, seen = redirector

    async def bounce(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"{other}/api/experimental/tasks")

    app = web.Application()
    app.router.add_get("/api/experimental/tasks", bounce)
    async with serve_app(app) as port:
        token = "AbCdEfGhIj-0123456789abcdefghijkl"
        async with CoderTasksClient(
            f"http://127.0.0.1:{port}", token=token, api="experimental"
        ) as client:
            with pytest.raises(CoderTransportError, match="another origin") as info:
                await client.list_tasks()
            assert token not in str(info.value)
        assert seen == []


async def test_same_origin_redirect_is_followed_with_the_token() -> None:
    token = "AbCdEfGhIj-0123456789abcdefghijkl"
    seen: list[str | None] = []

    async def tasks(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Coder-Session-Token"))
        if "hop" not in request.query:
            raise web.HTTPTemporaryRedirect(f"{request.path}?hop=1&{request.query_string}")
        return web.json_response({"tasks": [], "count": 0})

    app = web.Application()
    app.router.add_get("/api/experimental/tasks", tasks)
    async with serve_app(app) as port:
        async with CoderTasksClient(
            f"http://127.0.0.1:{port}", token=token, api="experimental"
        ) as client:
            assert await client.list_tasks() == []
        assert seen == [token, token]


async def test_a_redirect_loop_stops_after_five_redirects_and_releases_the_connection() -> None:
    async with redirect_loop() as (client, asked):
        with pytest.raises(CoderTransportError, match="more than 5 redirects"):
            await client.get_task(uuid.UUID(int=1))
        assert acquired(client) == 0
    assert len(asked) == 6  # the first request and the 5 redirects followed; no seventh


def test_debug_logging_switch_never_prints_the_token() -> None:
    token = "AbCdEfGhIj-0123456789abcdefghijkl"
    code = (
        "import anyio\n"
        "from coder_tasks_async import CoderTasksClient\n"
        "from coder_tasks_async.testing import FakeCoder\n"
        "async def main():\n"
        "    async with FakeCoder() as fake:\n"
        f"        async with CoderTasksClient(fake.url, token={token!r}) as c:\n"
        "            try:\n"
        "                await c.list_tasks()\n"
        "            except Exception as exc:\n"
        "                print(repr(exc), exc)\n"
        "anyio.run(main)\n"
    )
    env = {**os.environ, "CODER_TASKS_DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "GET /api/" in done.stderr
    assert "-> 401 attempt=1" in done.stderr
    assert token not in done.stderr + done.stdout


async def test_proxy_from_the_environment_is_used(
    monkeypatch: pytest.MonkeyPatch, fake_coder: FakeCoder
) -> None:
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(str(request.url))  # a forward proxy receives the absolute URL
        return web.json_response({"tasks": [], "count": 0})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    async with serve_app(app) as port:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with CoderTasksClient(
            "http://coder.invalid", token=fake_coder.token, api="experimental"
        ) as client:
            assert await client.list_tasks() == []
        assert seen
        assert seen[0].startswith("http://coder.invalid/api/experimental/tasks")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with CoderTasksClient(
            fake_coder.url, token=fake_coder.token, api="experimental"
        ) as client:
            await client.list_tasks()  # NO_PROXY: straight to the fake, not the proxy
        assert len(seen) == 1


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


@pytest.mark.parametrize(
    ("route", "kind"), [("list", "reset"), ("send", "lost_response"), ("list", "lost_response")]
)
async def test_no_exception_in_the_chain_reveals_the_token(
    fake_coder: FakeCoder, fake_clock: FakeClock, route: str, kind: str
) -> None:
    async with CoderTasksClient(
        fake_coder.url, token=fake_coder.token, clock=fake_clock, retry=RetryPolicy.none()
    ) as client:
        task = await client.create_task("x", template_version_id=fake_coder.template_version_id)
        await client.wait_for(task, until="idle")
        fake_coder.faults.add(Fault(route=route, kind=kind))
        call = client.send_input(task, "hello") if route == "send" else client.list_tasks()
        with pytest.raises(CoderTransportError) as info:
            await call
        chain = _chain(info.value)
        assert all(
            fake_coder.token not in repr(e) and fake_coder.token not in str(e) for e in chain
        )
        assert all(not isinstance(e, aiohttp.ClientError) for e in chain)


def test_bad_scheme_error_hides_the_url_password() -> None:
    with pytest.raises(ValueError, match="http") as info:
        CoderTasksClient("ftp://user:hunter2@coder.example.com", token="AbCdEfGhIj-x")
    assert "hunter2" not in str(info.value)


async def test_delete_404_after_a_refused_first_attempt_is_still_not_found(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="delete", kind="rate_limit", times=1))
    with pytest.raises(NotFoundError):
        await coder.delete_task("no-such-task")


async def test_caller_session_that_raises_for_status_still_gets_typed_errors(
    fake_coder: FakeCoder,
) -> None:
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        async with CoderTasksClient(
            fake_coder.url, token=fake_coder.token, session=session
        ) as client:
            with pytest.raises(NotFoundError) as info:
                await client.get_task(uuid.UUID(int=7))
            assert info.value.headers["content-type"].startswith("application/json")
            assert len([r for r in fake_coder.requests if r.route == "get"]) == 1
