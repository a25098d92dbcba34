"""Fixtures of the store tests: a real PostgreSQL for the session, real SQLite files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pgserver import postgres_server
from storekit import KINDS, MakeStore, store_maker

from coder_tasks_async import CursorStore


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """One PostgreSQL server for the whole session, on loopback, in a temporary directory."""
    with postgres_server() as dsn:
        yield dsn


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
