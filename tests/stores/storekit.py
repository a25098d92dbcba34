"""Store factories shared by the store tests (imported by name: ``from storekit import ...``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from coder_tasks_async import CursorStore, PostgresCursorStore, SQLiteCursorStore

#: Makes a store of one kind on a fresh namespace: ``make(now=None)``.
MakeStore = Callable[..., CursorStore]
KINDS = ["sqlite", "postgres"]


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
