"""FakeCoder judges task names and display names as coderd does, over raw HTTP.

``codersdk.NameValid`` anchors ``^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$`` with Go's ``$`` (the
very end of the text, so ``"abc\\n"`` is refused), counts bytes with ``len`` and reserves
only the lowercase ``new`` and ``create``; the create handler trims a display name
(``strings.TrimSpace``) and refuses more than 64 bytes (coderd/aitasks.go, v2.29+).
The SDK refuses the same names before sending, so only raw requests reach these checks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio

V2 = "/api/v2/tasks/me"
BAD_NAME = "Unable to create a Task with the provided name."


@pytest.fixture
async def http() -> AsyncIterator[tuple[FakeCoder, aiohttp.ClientSession]]:
    async with (
        FakeCoder(clock=FakeClock()) as fake,
        aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": fake.token}) as s,
    ):
        yield fake, s


async def create(http: tuple[FakeCoder, aiohttp.ClientSession], **body: Any) -> tuple[int, Any]:
    fake, s = http
    body = {"template_version_id": str(fake.template_version_id), "input": "Fix it", **body}
    async with s.post(V2, json=body) as r:
        return r.status, json.loads(await r.read())


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("abc\n", "must be alphanumeric with hyphens"),  # Go's $ is not Python's
        ("é" * 16, "must be alphanumeric with hyphens"),  # 32 bytes, but not ASCII
        ("é" * 17, "must be <= 32 characters"),  # 17 characters, 34 bytes
        ("new", 'cannot use "new" as a name'),
        ("create", 'cannot use "create" as a name'),
    ],
)
async def test_names_coderd_refuses(
    http: tuple[FakeCoder, aiohttp.ClientSession], name: str, detail: str
) -> None:
    fake, _ = http
    assert await create(http, name=name) == (400, {"message": BAD_NAME, "detail": detail})
    assert not fake.state.tasks


@pytest.mark.parametrize("name", ["New", "CREATE", "a" * 32])
async def test_names_coderd_accepts(
    http: tuple[FakeCoder, aiohttp.ClientSession], name: str
) -> None:
    status, task = await create(http, name=name)
    assert (status, task["name"]) == (201, name)


@pytest.mark.parametrize(
    ("display_name", "status", "stored"),
    [
        ("é" * 33, 400, None),  # 66 bytes
        ("é" * 32, 201, "é" * 32),  # 64 bytes
        ("  " + "x" * 64 + "\t\n", 201, "x" * 64),  # trimmed, then counted
        ("x" * 65, 400, None),
    ],
)
async def test_display_names_are_trimmed_then_counted_in_bytes(
    http: tuple[FakeCoder, aiohttp.ClientSession], display_name: str, status: int, stored: str
) -> None:
    answer, body = await create(http, display_name=display_name)
    if status == 400:
        assert (answer, body) == (400, {"message": "Display name must be 64 characters or less."})
    else:
        assert (answer, body["display_name"]) == (201, stored)
