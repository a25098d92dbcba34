"""The request path's edges: error bodies of any shape, secrets at a cut, two event loops,
chained exceptions and frame locals, large bodies, cursors without a task, owners,
and a server clock that is wrong."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import aiohttp
import anyio
import orjson
import pytest
from _pytest._io.saferepr import saferepr
from aiohttp import web
from helpers import FAST, TESTS, serve_app

from coder_tasks_async import (
    AmbiguousRequestError,
    BadRequestError,
    CoderDecodeError,
    CoderError,
    CoderTasksClient,
    CoderTransportError,
    LogCursor,
    RetryPolicy,
)
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio

TOKEN = "AbCdEfGhIj-0123456789abcdefghijkl"
SECRET = TOKEN.split("-", 1)[1]
TASK = orjson.loads((TESTS / "fixtures" / "v2.28" / "task.json").read_bytes())


@pytest.fixture
async def server() -> Iterator[Any]:
    """A loopback app whose answers the test sets: ``routes[(method, path)] = handler``."""
    routes: dict[tuple[str, str], Any] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        handler = routes.get((request.method, request.path))
        if handler is None:
            return web.Response(status=404, text='{"message": "Route not found."}')
        result: web.StreamResponse = await handler(request)
        return result

    app = web.Application(client_max_size=16 << 20)
    app.router.add_route("*", "/{tail:.*}", handle)
    async with serve_app(app) as port:
        yield routes, f"http://127.0.0.1:{port}"


# -- error bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "validations", [3, True, {"field": "x"}, "oops", [1, None, {"field": [[1]]}]]
)
async def test_an_error_body_of_any_shape_gives_a_typed_error(
    server: Any, validations: Any
) -> None:
    """Regression: ``validations`` that was a number or a bool made error decoding raise
    a raw TypeError, which killed a follower instead of letting it retry a 500."""
    routes, url = server
    body = orjson.dumps({"message": "nope", "validations": validations})

    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=400, body=body, content_type="application/json")

    routes["GET", "/api/v2/tasks/me/broken"] = refuse
    async with CoderTasksClient(url, token=TOKEN, api="v2") as coder:
        with pytest.raises(BadRequestError) as info:
            await coder.get_task("broken")
    assert info.value.message == "nope"
    assert all(isinstance(v.field, str) for v in info.value.validations)


async def test_a_follower_rides_out_a_500_whose_validations_is_a_number(server: Any) -> None:
    routes, url = server
    answers = iter([500, 500])

    async def task(request: web.Request) -> web.Response:
        status = next(answers, 200)
        if status == 500:
            body = orjson.dumps({"message": "boom", "validations": 7})
            return web.Response(status=500, body=body, content_type="application/json")
        return web.Response(body=orjson.dumps(TASK), content_type="application/json")

    routes["GET", f"/api/v2/tasks/me/{TASK['id']}"] = task
    async with CoderTasksClient(
        url, token=TOKEN, api="v2", clock=FakeClock(), wake="poll", retry=RetryPolicy.none()
    ) as coder:
        got = await coder.wait_for(uuid.UUID(TASK["id"]), until=lambda t: True, poll=FAST)
    assert str(got.id) == TASK["id"]


@pytest.mark.parametrize(("kind", "limit"), [("text/html", 2048), ("application/json", 1024)])
async def test_a_token_straddling_the_cut_is_redacted_whole(
    server: Any, kind: str, limit: int
) -> None:
    """Regression: error bodies were cut to 2,048/1,024 characters before redaction, so a
    token straddling the cut kept 21 of its 22 secret characters.  Redact, then cut."""
    routes, url = server
    if kind == "text/html":  # kept as the detail and body, cut at 2,048
        filler = "x" * (limit - len(TOKEN) + 1)  # the cut falls before the last character
        body = (filler + TOKEN + " and more").encode()
    else:  # JSON without a message: its raw text is the detail, cut at 1,024
        filler = "x" * (limit - len('{"other":"') - len(TOKEN) + 1)
        body = orjson.dumps({"other": filler + TOKEN})

    async def leak(request: web.Request) -> web.Response:
        return web.Response(status=400, body=body, content_type=kind)

    routes["GET", "/api/v2/tasks/me/leaky"] = leak
    async with CoderTasksClient(url, token=TOKEN, api="v2") as coder:
        with pytest.raises(BadRequestError) as info:
            await coder.get_task("leaky")
    exc = info.value
    for text in (exc.body, exc.detail, str(exc), repr(exc)):
        assert SECRET[:-1] not in text
        assert SECRET[:8] not in text


# -- exceptions and frames keep no secret ---------------------------------------------------


def chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in seen:
        seen.append(link)
        link = link.__cause__ or link.__context__
    return seen


async def test_an_undecodable_2xx_keeps_no_raw_body_in_its_chain(server: Any) -> None:
    """Regression: a 2xx body that failed to decode kept the raw body (an echoed token
    among it) reachable through ``err.__context__`` (orjson's error holds the document)."""
    routes, url = server

    async def echo(request: web.Request) -> web.Response:
        text = '{"id": "' + request.headers["Coder-Session-Token"] + '", "cut": '
        return web.Response(text=text, content_type="application/json")

    routes["GET", "/api/v2/tasks/me/echo"] = echo
    async with CoderTasksClient(url, token=TOKEN, api="v2", retry=RetryPolicy.none()) as coder:
        with pytest.raises(CoderDecodeError) as info:
            await coder.get_task("echo")
    for link in chain(info.value):
        assert isinstance(link, CoderError), f"a foreign exception is chained: {link!r}"
        everything = repr(link) + str(link) + repr(vars(link))
        assert SECRET not in everything


async def test_no_frame_local_holds_the_token_with_a_callers_session(server: Any) -> None:
    """Regression: with a caller-supplied ``session=``, the request options (a frame
    local) held the token, so a traceback printing locals showed it on a refused
    redirect."""
    routes, url = server

    async def away(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://localhost:9/elsewhere")

    routes["GET", "/api/v2/tasks/me/moved"] = away
    async with aiohttp.ClientSession() as session:
        async with CoderTasksClient(url, token=TOKEN, api="v2", session=session) as coder:
            with pytest.raises(CoderTransportError, match="another origin") as info:
                await coder.get_task("moved")
    tb = info.value.__traceback__
    frames = 0
    while tb is not None:
        if "coder_tasks_async" in tb.tb_frame.f_code.co_filename:
            frames += 1
            for name, value in tb.tb_frame.f_locals.items():
                for shown in (repr(value), saferepr(value, maxsize=100_000)):
                    assert SECRET not in shown, f"{tb.tb_frame.f_code.co_name}: {name}"
        tb = tb.tb_next
    assert frames >= 2


async def test_a_prompt_over_one_mib_raises_no_resource_warning(server: Any) -> None:
    """Regression: aiohttp warns (ResourceWarning, an error in this suite) about raw
    bytes over 1 MiB; large bodies now go as a file-like object, made afresh for each
    attempt (here the first is refused and the second carries the whole body again)."""
    routes, url = server
    prompt = "make it so. " * 100_000  # 1.2 MB
    received: list[bytes] = []

    async def create(request: web.Request) -> web.Response:
        received.append(await request.read())
        if len(received) == 1:
            # Rate limited: provably not handled, so resent.
            return web.Response(status=429, text="slow down", headers={"Retry-After": "1"})
        task = {**TASK, "initial_prompt": orjson.loads(received[-1])["input"]}
        return web.Response(status=201, body=orjson.dumps(task), content_type="application/json")

    routes["POST", "/api/v2/tasks/me"] = create
    async with CoderTasksClient(url, token=TOKEN, api="v2", clock=FakeClock()) as coder:
        task = await coder.create_task(prompt, template_version_id=TASK["template_version_id"])
    assert task.initial_prompt == prompt
    assert len(received) == 2 and received[0] == received[1]


# -- one client, two event loops -------------------------------------------------------------


def in_another_loop(coder: CoderTasksClient) -> tuple[threading.Event, list[BaseException]]:
    """Call ``list_tasks`` from a new event loop in a thread; what it raised, when done."""
    done, raised = threading.Event(), []

    def run() -> None:
        try:
            asyncio.run(coder.list_tasks())
        except BaseException as exc:
            raised.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    return done, raised


@pytest.mark.parametrize("slots_taken", [False, True])
async def test_a_client_used_from_another_event_loop_is_refused_clearly(
    server: Any, slots_taken: bool
) -> None:
    """Regression: from a second loop the call hung for ever when the first held every
    request slot, and otherwise failed deep in aiohttp.  Now it is refused at once, with
    an error naming both loops."""
    routes, url = server
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(body=orjson.dumps(TASK), content_type="application/json")

    routes["GET", f"/api/v2/tasks/me/{TASK['id']}"] = slow
    async with CoderTasksClient(url, token=TOKEN, api="v2", max_concurrency=1) as coder:
        async with anyio.create_task_group() as tg:
            try:
                if slots_taken:
                    tg.start_soon(coder.get_task, uuid.UUID(TASK["id"]))
                    await asyncio.sleep(0)  # the first call binds the loop, holds the slot
                else:
                    release.set()
                    await coder.get_task(uuid.UUID(TASK["id"]))  # binds the loop
                done, raised = in_another_loop(coder)
                # A bound on a thread, not a measurement: it answers at once.
                assert await anyio.to_thread.run_sync(done.wait, 30), "the other loop hung"
            finally:
                release.set()
    assert len(raised) == 1 and isinstance(raised[0], RuntimeError), raised
    assert "event loop" in str(raised[0]) and "one client per event loop" in str(raised[0])


# -- saved cursors and owners ----------------------------------------------------------------


@pytest.mark.parametrize(
    "saved",
    [
        '{"v": 2, "last": 3, "snap": false, "win": []}',
        '{"v": 2, "task": null, "last": 3, "snap": false, "win": [[3, "output", "ab", true]]}',
    ],
)
async def test_a_current_cursor_without_its_task_is_refused(
    fake_coder: FakeCoder, coder: CoderTasksClient, saved: str
) -> None:
    """Regression: a format-2 cursor without its task loaded as a cursor bound to no
    task, so resuming another task with it skipped that task's first entries."""
    with pytest.raises(ValueError, match="must name its task"):
        LogCursor.loads(saved)
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    with pytest.raises(ValueError, match="must name its task"):
        coder.follow_logs(task, cursor=saved)
    # An unused cursor names no task, and the previous format never did: both load.
    assert LogCursor.loads(LogCursor().dumps()).task_id is None
    assert LogCursor.loads('{"v": 1, "last": 3, "snap": false, "win": []}').last_id == 3


@pytest.mark.parametrize(
    "owner",
    ["../admin", "a\r\nb", "a\x00b", "x" * 33, "al ice", "-x", "a--b", "ünï", '"'],
)
async def test_list_tasks_checks_owners_by_coders_username_rules_before_any_request(
    fake_coder: FakeCoder, coder: CoderTasksClient, owner: str
) -> None:
    """Regression: ``list_tasks(owner=...)`` refused only ``"``; ``../admin``, CR/LF,
    NUL and over-long owners went out inside ``q``."""
    before = len(fake_coder.requests)
    with pytest.raises(ValueError, match="invalid owner"):
        await coder.list_tasks(owner=owner)
    assert len(fake_coder.requests) == before


async def test_valid_owners_are_listed(fake_coder: FakeCoder, coder: CoderTasksClient) -> None:
    me = await coder.list_tasks(owner="me")
    assert await coder.list_tasks(owner=fake_coder.user.username) == me
    assert await coder.list_tasks(owner=str(fake_coder.user.id).upper()) == me
    assert await coder.list_tasks(owner=fake_coder.user.id) == me
    assert await coder.list_tasks(owner=None) == me


# -- a server clock that is wrong ------------------------------------------------------------


@pytest.mark.parametrize("days", [-7, 7])
async def test_reconcile_does_not_believe_a_date_far_from_the_local_clock(
    server: Any, days: int
) -> None:
    """Regression: after an ambiguous create, a proxy whose clock was a week off made a
    week-old task of the same name come back as just created.  The Date is believed
    only within a minute of this machine's clock."""
    routes, url = server
    proxy_now = time.time() + days * 86400
    old = {**TASK, "name": "fix-login", "initial_prompt": "fix it"}
    # "Just created", by that clock.
    old["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(proxy_now - 2))

    async def create(request: web.Request) -> web.Response:
        return web.Response(status=502, text="bad gateway")

    async def get(request: web.Request) -> web.Response:
        headers = {"Date": formatdate(proxy_now, usegmt=True)}
        return web.Response(
            body=orjson.dumps(old), content_type="application/json", headers=headers
        )

    routes["POST", "/api/v2/tasks/me"] = create
    routes["GET", "/api/v2/tasks/me/fix-login"] = get
    async with CoderTasksClient(url, token=TOKEN, api="v2") as coder:
        with pytest.raises(AmbiguousRequestError, match="off this machine's clock"):
            await coder.create_task(
                "fix it", template_version_id=TASK["template_version_id"], name="fix-login"
            )
