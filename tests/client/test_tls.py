"""TLS over loopback with a throwaway CA (trustme): verification on by default, a CA of
your own via ``ssl=``, and no token on an https -> http redirect."""

from __future__ import annotations

import ssl

import pytest
import trustme
from aiohttp import web

from coder_tasks_async import CoderTasksClient, CoderTransportError

pytestmark = pytest.mark.anyio

TOKEN = "AbCdEfGhIj-0123456789abcdefghijkl"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def start(app: web.Application, context: ssl.SSLContext | None) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    return runner, runner.addresses[0][1]


def listing_app(seen: list[str | None]) -> web.Application:
    async def tasks(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Coder-Session-Token"))
        return web.json_response({"tasks": [], "count": 0})

    app = web.Application()
    app.router.add_get("/api/experimental/tasks", tasks)
    return app


async def test_certificates_are_verified_by_default(ca: trustme.CA) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    seen: list[str | None] = []
    runner, port = await start(listing_app(seen), server_context)
    try:
        url = f"https://127.0.0.1:{port}"
        async with CoderTasksClient(url, token=TOKEN, api="experimental") as client:
            with pytest.raises(CoderTransportError, match="certificate") as info:
                await client.list_tasks()
            assert TOKEN not in str(info.value)
        assert seen == []  # the request never got past the handshake

        trusting = ssl.create_default_context()
        ca.configure_trust(trusting)
        async with CoderTasksClient(url, token=TOKEN, api="experimental", ssl=trusting) as client:
            assert await client.list_tasks() == []
        assert seen == [TOKEN]
    finally:
        await runner.cleanup()


async def test_https_to_http_redirect_is_refused(ca: trustme.CA) -> None:
    seen: list[str | None] = []
    plain, plain_port = await start(listing_app(seen), None)

    async def downgrade(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://127.0.0.1:{plain_port}{request.path_qs}")

    app = web.Application()
    app.router.add_get("/api/experimental/tasks", downgrade)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    secure, port = await start(app, server_context)
    try:
        trusting = ssl.create_default_context()
        ca.configure_trust(trusting)
        async with CoderTasksClient(
            f"https://127.0.0.1:{port}", token=TOKEN, api="experimental", ssl=trusting
        ) as client:
            with pytest.raises(CoderTransportError, match="another origin"):
                await client.list_tasks()
        assert seen == []
    finally:
        await secure.cleanup()
        await plain.cleanup()
