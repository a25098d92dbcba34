"""A hostile server cannot pass an older task off as just created, nor make the
client repeat its token: reconcile-by-name against the server's clock, and redaction.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import orjson
import pytest
from aiohttp import web
from helpers import TESTS, serve_app

from coder_tasks_async import (
    AmbiguousRequestError,
    CoderAPIError,
    CoderDecodeError,
    CoderTasksClient,
    RetryPolicy,
    ServerError,
)
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

pytestmark = pytest.mark.anyio

FIXTURES = TESTS / "fixtures" / "v2.28"
TOKEN = "AbCdEfGhIj-0123456789abcdefghijkl"


# -- reconcile-by-name ---------------------------------------------------------------------


async def test_an_old_task_of_the_same_name_is_not_returned_as_created(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    tv = fake_coder.template_version_id
    old = await coder.create_task("fix it", template_version_id=tv, name="fix-login")
    fake_clock.advance(timedelta(days=699).total_seconds())
    fake_coder.faults.add(Fault(route="create", kind="status", status=502, times=1))
    with pytest.raises(AmbiguousRequestError, match="not this call's") as info:
        await coder.create_task("fix it", template_version_id=tv, name="fix-login")
    assert str(old.created_at.date()) in str(info.value)
    assert len(fake_coder.created) == 1


async def test_a_task_this_call_created_is_found_by_name(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    fake_clock.advance(1000)
    fake_coder.faults.add(Fault(route="create", kind="lost_response", times=1))
    task = await coder.create_task(
        "fix it", template_version_id=fake_coder.template_version_id, name="fix-login"
    )
    assert task.name == "fix-login"
    assert len(fake_coder.created) == 1


async def test_reconcile_without_a_date_header_does_not_guess() -> None:
    posts = 0

    async def create(request: web.Request) -> web.Response:
        nonlocal posts
        posts += 1
        return web.Response(status=502, text="bad gateway", headers={"Date": ""})

    task = orjson.loads((FIXTURES / "task.json").read_bytes())
    task.update(name="fix-login", initial_prompt="fix it")

    async def get(request: web.Request) -> web.Response:
        # No usable Date: the client cannot tell when, by this server's clock, it began.
        return web.Response(
            body=orjson.dumps(task), content_type="application/json", headers={"Date": "x"}
        )

    app = web.Application()
    app.router.add_route("POST", "/api/v2/tasks/me", create)
    app.router.add_route("GET", "/api/v2/tasks/me/fix-login", get)
    async with serve_app(app) as port:
        async with CoderTasksClient(f"http://127.0.0.1:{port}", token=TOKEN, api="v2") as coder:
            with pytest.raises(AmbiguousRequestError, match="no Date header"):
                await coder.create_task(
                    "fix it",
                    template_version_id=task["template_version_id"],
                    name="fix-login",
                )
    assert posts == 1


# -- redaction -------------------------------------------------------------------------------


async def test_a_proxy_page_echoing_the_token_is_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def echo(request: web.Request) -> web.Response:
        token = request.headers["Coder-Session-Token"]
        if request.path.endswith("/json"):
            body = (
                f'{{"message": "bad token {token}", "detail": "you sent {token}", '
                f'"validations": [{{"field": "token", "detail": "{token}"}}]}}'
            )
            return web.Response(
                status=400, text=body, content_type="application/json", headers={"X-Echo": token}
            )
        page = f"<html><pre>Coder-Session-Token: {token}</pre></html>"
        return web.Response(
            status=502, text=page, content_type="text/html", headers={"X-Echo": token}
        )

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", echo)
    secret = TOKEN.split("-", 1)[1]
    async with serve_app(app) as port:
        with caplog.at_level(logging.DEBUG, logger="coder_tasks_async"):
            async with CoderTasksClient(
                f"http://127.0.0.1:{port}", token=TOKEN, api="v2", retry=RetryPolicy.none()
            ) as coder:
                with pytest.raises(ServerError) as html:
                    await coder.get_task("proxy")
                with pytest.raises(CoderAPIError) as json_error:
                    await coder.get_task("json")
    for exc in (html.value, json_error.value):
        texts = [str(exc), repr(exc), exc.message, exc.detail, exc.body, *exc.headers.values()]
        texts += [f"{v.field} {v.detail}" for v in exc.validations]
        assert not [t for t in texts if secret in t], texts
        assert "[REDACTED]" in exc.body
    assert json_error.value.validations[0].detail == "[REDACTED]"
    assert all(secret not in record.getMessage() for record in caplog.records)


async def test_decode_errors_quoting_an_echoed_token_are_redacted() -> None:
    async def echo(request: web.Request) -> web.Response:
        token = request.headers["Coder-Session-Token"]
        body = f'{{"id": "{token}", "note": "{token}"}}'
        status = 201 if request.method == "POST" else 200
        return web.Response(status=status, text=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    secret = TOKEN.split("-", 1)[1]
    async with serve_app(app) as port:
        async with CoderTasksClient(f"http://127.0.0.1:{port}", token=TOKEN, api="v2") as coder:
            with pytest.raises(CoderDecodeError) as got:
                await coder.get_task("echo")
            with pytest.raises(CoderDecodeError) as created:
                await coder.create_task(
                    "x", template_version_id="89fb1806-dc3f-4287-aa16-2b8dc835698d"
                )
    for exc in (got.value, created.value):
        assert secret not in str(exc) + repr(exc) + exc.snippet
        assert "[REDACTED]" in exc.snippet
