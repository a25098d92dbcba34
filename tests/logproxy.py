"""A loopback proxy in front of FakeCoder that can rewrite the next logs answers.

Real servers (and the proxies in front of them) sometimes answer oddly: an empty
conversation, a stale shorter one, duplicated or out-of-order entries.  The SDK is
tested over real HTTP; this proxy only reshapes response bodies on their way back.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from helpers import serve_app

Rewrite = Callable[[dict[str, Any]], dict[str, Any]]


class LogProxy:
    """Forwards every request; a queued rewrite reshapes the next logs body."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.rewrites: deque[Rewrite] = deque()
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method,
                self.upstream + request.path_qs,
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
                data=body,
            ) as upstream,
        ):
            data = await upstream.read()
            headers = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
            }
            status = upstream.status
        if request.path.endswith("/logs") and status == 200 and self.rewrites:
            data = json.dumps(self.rewrites.popleft()(json.loads(data))).encode()
        return web.Response(status=status, body=data, headers=headers)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[LogProxy]:
        """Serve on a loopback port; ``url`` is set while running."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        async with serve_app(app) as port:
            self.url = f"http://127.0.0.1:{port}"
            yield self


def replace_logs(logs: list[dict[str, Any]]) -> Rewrite:
    """A rewrite that answers with exactly ``logs``."""
    return lambda body: {**body, "logs": logs}
