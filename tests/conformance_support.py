"""Shared pieces of the conformance suite (tests/conformance): a FakeCoder per profile
with a raw aiohttp session and an SDK client beside it, all on one fake clock.

Each test is a port of one of Coder's own tests (LEDGER.md says which) and runs at
every profile where the Go test exists; expectations are written from Coder's source at
the tags, never read from the fake.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import attrs
import pytest

from coder_tasks_async import CoderTasksClient, PollPolicy, Task
from coder_tasks_async.testing import PROFILES, FakeClock, FakeCoder, Timings
from coder_tasks_async.testing._profile import Profile, version_tuple

EXP = "/api/experimental/tasks"
NOT_FOUND = "Resource not found or you do not have access to this resource"
BUILD_ACTIVE = "A workspace build is already active."
FAST = PollPolicy(initial=0.5, maximum=2.0, jitter=0.0)
#: Short, distinct durations: every window (queued, start job, agent start, stop job) is
#: visible at its own clock time.
TIMINGS = Timings(
    pending=1.0, initializing=2.0, start_job=1.0, stop_job=1.0, chunk_interval=1.0, chunks=2
)


def since(release: str, until: str | None = None) -> list[str]:
    """The profiles from ``release`` on (and before ``until``): where a Go test exists."""
    low = version_tuple(release)
    high = version_tuple(until) if until else None
    out = []
    for name in PROFILES:
        p = Profile.parse(name)
        at = (p.major, p.minor, p.patch)
        if at >= low and (high is None or at < high):
            out.append(name)
    return out


def at(release: str, until: str | None = None) -> Callable[[Any], Any]:
    """``@at("v2.31.1")``: run the test once per profile where the ported test applies."""
    return pytest.mark.parametrize("profile", since(release, until))


@attrs.define
class Env:
    """One FakeCoder at one release, a raw session and an SDK client, on ``clock``."""

    fake: FakeCoder
    clock: FakeClock
    raw: aiohttp.ClientSession
    sdk: CoderTasksClient

    @property
    def profile(self) -> Profile:
        return self.fake.profile

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw_body: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """A raw request (JSON in and out) as the caller holding ``token`` (alice's)."""
        headers = {"Coder-Session-Token": token if token is not None else self.fake.token}
        kw: dict[str, Any] = {"headers": headers, "params": params}
        if raw_body is not None:
            kw["data"] = raw_body
        elif body is not None:
            kw["json"] = body
        async with self.raw.request(method, path, **kw) as r:
            data = await r.read()
            return r.status, (json.loads(data) if data else None)

    async def create(self, prompt: str = "Fix the bug", **body: Any) -> dict[str, Any]:
        """``POST /tasks/me`` raw, with the prompt field the release reads."""
        body.setdefault("template_version_id", str(self.fake.template_version_id))
        body[self.profile.prompt_field] = prompt
        user = body.pop("user", "me")
        token = body.pop("token", None)
        status, data = await self.call("POST", f"{EXP}/{user}", body, token=token)
        assert status == 201, data
        return dict(data)

    async def active(self, task: Task | dict[str, Any] | str) -> None:
        """Let the clock run until the task's agent is up (its first reply may still grow)."""
        t = TIMINGS
        self.clock.advance(t.pending + t.initializing)

    async def idle(self, task: Task | dict[str, Any] | str) -> None:
        """Until the agent finished its first reply."""
        t = TIMINGS
        self.clock.advance(t.pending + t.initializing + t.reply_duration)


@asynccontextmanager
async def served(profile: str, **kwargs: Any) -> AsyncIterator[Env]:
    clock = FakeClock()
    kwargs.setdefault("timings", TIMINGS)
    async with (
        FakeCoder(clock=clock, server_version=profile, **kwargs) as fake,
        aiohttp.ClientSession(fake.url) as raw,
        CoderTasksClient(fake.url, token=fake.token, clock=clock, poll=FAST) as sdk,
    ):
        yield Env(fake, clock, raw, sdk)
