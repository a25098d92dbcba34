"""A misbehaving server (or the proxy in front of it) cannot make the client wait for
ever, spin, run out of memory or crash on close.  All over loopback, on a fake clock.
"""

from __future__ import annotations

import gzip
import math
import tracemalloc
import zlib
from collections.abc import Callable

import anyio
import pytest
from aiohttp import web
from aiohttp.compression_utils import HAS_BROTLI, HAS_ZSTD
from helpers import TESTS, acquired, serve_app

from coder_tasks_async import (
    AmbiguousRequestError,
    ClientClosedError,
    CoderDecodeError,
    CoderTasksClient,
    CoderTimeoutError,
    CoderTransportError,
    PollPolicy,
    RateLimiter,
    RateLimitError,
    RetryPolicy,
    Timeouts,
)
from coder_tasks_async._http.clock import SystemClock
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

pytestmark = pytest.mark.anyio

FIXTURES = TESTS / "fixtures" / "v2.28"
TOKEN = "AbCdEfGhIj-0123456789abcdefghijkl"
FAST = PollPolicy(initial=0.5, maximum=2.0, error_maximum=4.0)
ABSURD = ["1000000000", "Fri, 31 Dec 9999 23:59:59 GMT", "1e400"]
BROKEN = ["nan", "-5", "-1e9", "0", "soon", "Fri, 99 Foo 2025 99:99:99 GMT"]


class CheckedClock(FakeClock):
    """A fake clock that refuses what a real one cannot take (NaN, negative, infinite)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        assert math.isfinite(seconds) and seconds >= 0, f"asked to sleep {seconds!r}"
        self.waits.append(seconds)
        await super().sleep(seconds)


# -- Retry-After: absurd values are capped, broken ones ignored --------------------------


@pytest.mark.parametrize("header", ABSURD)
async def test_absurd_retry_after_is_capped_for_every_poller(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient, header: str
) -> None:
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    fake_coder.faults.add(Fault(route="get", kind="rate_limit", retry_after=header, times=8))
    start = fake_clock.now()
    await coder.wait_for(task, until="active", poll=FAST)
    # Eight refusals at <= 60 s each; the server's advice alone was decades.
    assert fake_clock.now() - start <= 8 * 60 + 10

    fake_coder.faults.add(Fault(route="get", kind="rate_limit", retry_after=header, times=8))
    start = fake_clock.now()
    async with coder.watch(task, poll=FAST) as watcher:
        assert (await anext(watcher)).id == task.id
    assert fake_clock.now() - start <= 8 * 60 + 10

    fake_coder.faults.add(Fault(route="get", kind="rate_limit", retry_after=header, times=8))
    start = fake_clock.now()
    async with coder.follow_logs(task, poll=FAST) as follower:
        assert (await anext(follower)).entry is not None
    assert fake_clock.now() - start <= 8 * 60 + 10


async def test_absurd_retry_after_does_not_stall_the_rate_limiter(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(
        Fault(route="create", kind="rate_limit", retry_after="1000000000", times=6)
    )
    start = fake_clock.now()
    outcomes = await coder.create_many(
        ["a", "b", "c"], template_version_id=fake_coder.template_version_id, rate_limit=True
    )
    assert any(isinstance(o.error, RateLimitError) for o in outcomes)
    # The limiter pauses at most one window per refusal, not 31 years.
    assert fake_clock.now() - start <= 6 * 60 + 10
    for outcome in outcomes:
        if isinstance(outcome.error, RateLimitError):
            assert outcome.error.retry_after == 60.0  # capped where it is parsed


@pytest.mark.parametrize(
    ("advice", "pause"),
    [(math.nan, 60.0), (None, 60.0), (-5.0, 60.0), (0.0, 60.0), (0.001, 1.0), (1e9, 60.0)],
)
async def test_the_rate_limiter_pauses_between_one_second_and_one_window(
    fake_coder: FakeCoder, advice: float | None, pause: float
) -> None:
    clock = CheckedClock()
    async with CoderTasksClient(fake_coder.url, token=fake_coder.token, clock=clock) as coder:
        limiter = RateLimiter(coder)
        limiter.rate_limited(advice)
        start = clock.now()
        await limiter.acquire()
        # Unusable advice (like a missing one) pauses a whole window; usable advice
        # at least a second and at most a window.
        assert clock.now() - start == pytest.approx(pause)


@pytest.mark.parametrize("header", BROKEN)
async def test_broken_retry_after_never_reaches_the_clock(
    fake_coder: FakeCoder, header: str
) -> None:
    clock = CheckedClock()
    fake_coder.faults.add(Fault(route="list", kind="rate_limit", retry_after=header, times=2))
    async with CoderTasksClient(fake_coder.url, token=fake_coder.token, clock=clock) as coder:
        assert await coder.list_tasks(retry=RetryPolicy(deadline=None)) == []
    # Ignored advice falls back to backoff, and a 429 always pauses at least a second.
    assert len(clock.waits) == 2
    assert all(wait >= 1.0 for wait in clock.waits)


async def test_system_clock_shrugs_off_nan() -> None:
    await SystemClock().sleep(float("nan"))  # a raw ValueError before
    await SystemClock().sleep(-1.0)


@pytest.mark.parametrize("header", ["-5", "-1e9", "0", "nan"])
async def test_a_follower_cannot_be_made_to_spin(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient, header: str
) -> None:
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    await coder.wait_for(task, until="active")
    refusals = 40
    fake_coder.faults.add(Fault(route="get", kind="rate_limit", retry_after=header, times=refusals))
    before = len(fake_coder.requests)
    start = fake_clock.now()
    async with coder.follow_logs(task, poll=FAST) as follower:
        assert (await anext(follower)).entry is not None
    # Every refusal is followed by at least a one-second pause (it was 0 s: 4,000
    # requests in 1.5 s against a real server).
    assert len(fake_coder.requests) - before >= refusals
    assert fake_clock.now() - start >= refusals * 1.0


# -- one budget per call ------------------------------------------------------------------


async def test_nested_layers_share_one_budget(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    await coder.wait_for(task, until="active")
    fake_coder.faults.add(Fault(route="logs", kind="status", status=503, times=3))
    fake_coder.faults.add(Fault(route="logs", kind="truncated_json"))
    before = len(fake_coder.requests)
    with pytest.raises(CoderDecodeError):
        await coder.get_logs(task, retry=RetryPolicy(attempts=4, deadline=None))
    # Status retries and re-reads of a cut-short body draw on the same 4 attempts
    # (it was 3 + 4: the decode loop wrapped the transport's loop).
    assert len(fake_coder.requests) - before == 4


# A release that takes names in paths, so the look-up is the faulted GET (before v2.29
# it goes through the task list instead).
@pytest.mark.coder_profile("v2.29")
async def test_create_reconcile_shares_the_budget(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="create", kind="status", status=502))
    fake_coder.faults.add(Fault(route="get", kind="status", status=503))
    with pytest.raises(AmbiguousRequestError):
        await coder.create_task(
            "x",
            template_version_id=fake_coder.template_version_id,
            name="shared-budget",
            retry=RetryPolicy(attempts=4, deadline=None),
        )
    # One POST and three look-ups, not 1 + 4 (the auto-probe's router 404 is not counted).
    assert len([r for r in fake_coder.requests if r.route]) == 4


async def test_the_deadline_cuts_the_attempt_timeout(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    # The 429's advised second leaves 0.3 s of the 1.3 s deadline; the second (last)
    # attempt must not get the full 60 s total and sit through the server's 1 s delay.
    fake_coder.faults.add(Fault(route="list", kind="rate_limit", retry_after=1, times=1))
    fake_coder.faults.add(Fault(route="list", kind="latency", delay=1.0, times=1))
    with pytest.raises(CoderTimeoutError):
        await coder.list_tasks(
            retry=RetryPolicy(attempts=2, deadline=1.3), timeouts=Timeouts(total=60)
        )


async def test_time_queued_for_a_connection_counts_against_the_deadline() -> None:
    arrived = anyio.Event()
    release = anyio.Event()
    seen = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal seen
        seen += 1
        arrived.set()
        await release.wait()
        return web.json_response({"tasks": [], "count": 0})

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    clock = FakeClock(autojump=False)
    outcome: list[BaseException | None] = []
    async with serve_app(app) as port:
        async with CoderTasksClient(
            f"http://127.0.0.1:{port}", token=TOKEN, api="v2", clock=clock, max_concurrency=1
        ) as coder:

            async def queued() -> None:
                try:
                    await coder.list_tasks(retry=RetryPolicy(deadline=10))
                    outcome.append(None)
                except CoderTimeoutError as exc:
                    outcome.append(exc)

            async with anyio.create_task_group() as tg:
                tg.start_soon(coder.list_tasks)  # holds the only connection slot
                await arrived.wait()
                tg.start_soon(queued)
                await anyio.wait_all_tasks_blocked()
                clock.advance(30)  # the queued call's deadline passes while it waits
                release.set()
    assert seen == 1, "the queued call was sent after its deadline"
    assert isinstance(outcome[0], CoderTimeoutError)


async def test_retry_after_past_the_deadline_fails_fast_with_the_advice(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    fake_coder.faults.add(Fault(route="list", kind="rate_limit", retry_after="1000000000"))
    start = fake_clock.now()
    with pytest.raises(RateLimitError) as info:
        await coder.list_tasks(retry=RetryPolicy(deadline=30))
    assert info.value.retry_after == 60.0
    assert fake_clock.now() == start


# -- decoded size ---------------------------------------------------------------------------

BOMB_SIZE = 20 * 1024 * 1024
LIMIT = 1024 * 1024


def _encoders() -> list[tuple[str, Callable[[bytes], bytes]]]:
    encoders: list[tuple[str, Callable[[bytes], bytes]]] = [
        ("gzip", lambda b: gzip.compress(b, compresslevel=9)),
        ("deflate", lambda b: zlib.compress(b, 9)),
    ]
    if HAS_BROTLI:
        import brotli

        encoders.append(("br", lambda b: brotli.compress(b, quality=5)))
    if HAS_ZSTD:
        try:
            from compression import zstd  # type: ignore[import-not-found]
        except ImportError:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        encoders.append(("zstd", lambda b: zstd.compress(b)))
    return encoders


@pytest.mark.parametrize(("encoding", "encode"), _encoders(), ids=lambda v: str(v)[:8])
async def test_a_compression_bomb_is_stopped_by_the_decoded_limit(
    encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    bomb = encode(b'{"tasks": [' + b" " * BOMB_SIZE + b"]}")
    assert len(bomb) < 100_000

    async def handler(request: web.Request) -> web.Response:
        headers = {"Content-Encoding": encoding, "Content-Type": "application/json"}
        return web.Response(body=bomb, headers=headers)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    async with serve_app(app) as port:
        async with CoderTasksClient(
            f"http://127.0.0.1:{port}", token=TOKEN, api="v2", max_body_size=LIMIT
        ) as coder:
            tracemalloc.start()
            try:
                with pytest.raises(CoderTransportError, match="max_body_size") as info:
                    await coder.list_tasks()
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert acquired(coder) == 0
    assert "decoded" in str(info.value)
    assert peak < 8 * LIMIT, f"peak {peak} bytes"


async def test_fake_coder_gzip_bomb_fault(fake_coder: FakeCoder, fake_clock: FakeClock) -> None:
    fake_coder.faults.add(Fault(route="list", kind="gzip_bomb", times=1))
    async with CoderTasksClient(
        fake_coder.url, token=fake_coder.token, clock=fake_clock, max_body_size=LIMIT
    ) as coder:
        with pytest.raises(CoderTransportError, match="max_body_size"):
            await coder.list_tasks()
        assert await coder.list_tasks() == []  # the next answer is fine


async def test_a_bomb_answering_a_create_is_ambiguous_then_reconciled(
    fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    tv = fake_coder.template_version_id
    fake_coder.faults.add(Fault(route="create", kind="gzip_bomb", times=2))
    async with CoderTasksClient(
        fake_coder.url, token=fake_coder.token, clock=fake_clock, max_body_size=LIMIT
    ) as coder:
        # The server answered a POST: it may have acted, so this is never "just retry".
        with pytest.raises(AmbiguousRequestError, match="max_body_size"):
            await coder.create_task("x", template_version_id=tv)
        task = await coder.create_task("x", template_version_id=tv, name="after-bomb")
    assert task.name == "after-bomb"
    assert len(fake_coder.created) == 1


# -- closing while calls run ---------------------------------------------------------------


async def test_calls_racing_aclose_raise_client_closed() -> None:
    arrived = anyio.Event()
    release = anyio.Event()
    count = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal count
        count += 1
        if count == 2:
            arrived.set()
        await release.wait()  # holds both calls in flight until the client is closed
        return web.json_response({"tasks": [], "count": 0})

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    errors: list[BaseException] = []
    async with serve_app(app) as port:
        coder = CoderTasksClient(
            f"http://127.0.0.1:{port}", token=TOKEN, api="v2", max_concurrency=2
        )

        async def call() -> None:
            try:
                await coder.list_tasks()
            except Exception as exc:  # collected and checked below
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            for _ in range(6):  # two in flight, four queued for a slot
                tg.start_soon(call)
            await arrived.wait()
            await coder.aclose()
        release.set()
    assert len(errors) == 6
    assert all(isinstance(e, ClientClosedError) for e in errors), errors
