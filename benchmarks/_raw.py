"""The baseline: what a careful user writes with aiohttp and orjson alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import aiohttp
import orjson

__all__ = ["RawClient", "run_workers"]


class RawClient:
    """One ``ClientSession`` with a connector limit, the token header, ``orjson.loads``.

    Set up as the SDK sets up its own session where that changes the work per request
    (no cookie jar); its other settings are aiohttp's defaults, as a user's would be.
    """

    def __init__(self, url: str, token: str, *, limit: int = 64) -> None:
        self.base = f"{url}/api/experimental/tasks"
        self._token = token
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use RawClient as an async context manager"
        return self._session

    async def __aenter__(self) -> RawClient:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._limit),
            headers={"Coder-Session-Token": self._token, "Accept": "application/json"},
            # As the SDK's session: token auth needs no cookies, and a real jar costs
            # ~1,000 instructions per request (~0.3% of a get_task) that the SDK skips.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.session.close()

    async def get_body(self, path: str, params: dict[str, str] | None = None) -> bytes:
        async with self.session.get(self.base + path, params=params) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET {path}: {resp.status} {body[:200]!r}")
            return body

    async def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        return orjson.loads(await self.get_body(path, params))

    async def post_json(self, path: str, body: bytes) -> Any:
        headers = {"Content-Type": "application/json"}
        async with self.session.post(self.base + path, data=body, headers=headers) as resp:
            data = await resp.read()
            if resp.status != 201:
                raise RuntimeError(f"POST {path}: {resp.status} {data[:200]!r}")
            return orjson.loads(data)


async def run_workers(concurrency: int, total: int, op: Callable[[], Awaitable[object]]) -> int:
    """``concurrency`` workers doing ``op`` back to back, ``total`` calls in all."""
    per_worker = max(total // concurrency, 1)

    async def worker() -> None:
        for _ in range(per_worker):
            await op()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return per_worker * concurrency
