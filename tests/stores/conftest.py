"""Fixtures of the store tests: a real PostgreSQL for the session, real SQLite files."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from pgserver import postgres_server

from coder_tasks_async import CursorStore, PostgresCursorStore, SQLiteCursorStore

#: Makes a store of one kind on a fresh namespace: ``make(now=None)``.
MakeStore = Callable[..., CursorStore]
KINDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """One PostgreSQL server for the whole session, on loopback, in a temporary directory."""
    with postgres_server() as dsn:
        yield dsn


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


@pytest.fixture(params=KINDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> MakeStore:
    """Stores of each kind in turn (the test runs once per kind)."""
    return store_maker(str(request.param), request, tmp_path)


@pytest.fixture
async def store(make_store: MakeStore) -> AsyncIterator[CursorStore]:
    """A fresh store of each kind in turn, closed after the test."""
    made = make_store()
    try:
        yield made
    finally:
        await made.aclose()
