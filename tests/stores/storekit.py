"""Store factories shared by the store tests (imported by name: ``from storekit import ...``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest

from coder_tasks_async import CursorStore, PollPolicy, PostgresCursorStore, SQLiteCursorStore
from coder_tasks_async.testing import Timings

#: Makes a store of one kind on a fresh namespace: ``make(now=None)``.
MakeStore = Callable[..., CursorStore]
KINDS = ["sqlite", "postgres"]
#: The fake's quick turns and a quick polling pace, for tests that run on real time.
QUICK = Timings(pending=0.05, initializing=0.05, chunk_interval=0.05, chunks=2)
PACE = PollPolicy(initial=0.05, maximum=0.2, jitter=0.0)


def store_maker(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> MakeStore:
    """A factory of stores of ``kind``; each store gets a namespace of its own."""
    if kind == "postgres":
        dsn = request.getfixturevalue("postgres_dsn")

        def make_pg(now: Callable[[], float] | None = None, namespace: str = "") -> CursorStore:
            return PostgresCursorStore(dsn, namespace=namespace or uuid.uuid4().hex, now=now)

        return make_pg
    path = tmp_path / "cursors.sqlite3"

    def make_sqlite(now: Callable[[], float] | None = None, namespace: str = "") -> CursorStore:
        return SQLiteCursorStore(path, namespace=namespace or uuid.uuid4().hex, now=now)

    return make_sqlite


async def wait_until(holds: Callable[[], Awaitable[bool]], *, every: float, bound: float) -> None:
    """Check ``holds()`` every ``every`` seconds until it is true, at most ``bound`` seconds.

    For conditions in another process or database, which cannot signal this one: the
    check is the pass condition, the interval only its pace.
    """
    with anyio.fail_after(bound):
        while not await holds():  # noqa: ASYNC110 -- nothing here can be awaited instead
            await anyio.sleep(every)
