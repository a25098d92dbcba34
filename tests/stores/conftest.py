"""Fixtures of the store tests: stores of each kind on real SQLite files and on the
session's real PostgreSQL (``postgres_dsn``, in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from storekit import KINDS, MakeStore, store_maker

from coder_tasks_async import CursorStore


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
