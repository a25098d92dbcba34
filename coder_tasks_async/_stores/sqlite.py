"""``SQLiteCursorStore``: cursors and leases in one SQLite file (the embedded default).

Standard library ``sqlite3``, run off the event loop on worker threads (one
connection, one call at a time).  The file is in WAL mode with a busy timeout, so
several processes on one host can share it: SQLite lets one writer in at a time
and every write here is one short ``BEGIN IMMEDIATE`` transaction.  Expiry goes by
this host's wall clock, which every process on the host shares.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator
from typing import TypeVar

import anyio.to_thread

from .._wire.errors import LeaseLostError, StoreSchemaError
from .base import (
    SCHEMA_VERSION,
    Lease,
    Now,
    check_cursor,
    check_key,
    check_lease_args,
    check_namespace,
    log_claim,
    log_opened,
)

__all__ = ["SQLiteCursorStore"]

T = TypeVar("T")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS coder_tasks_schema (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS coder_tasks_cursors ("
    " namespace TEXT NOT NULL, key TEXT NOT NULL, cursor TEXT NOT NULL, token INTEGER,"
    " PRIMARY KEY (namespace, key))",
    "CREATE TABLE IF NOT EXISTS coder_tasks_leases ("
    " namespace TEXT NOT NULL, key TEXT NOT NULL, holder TEXT, token INTEGER NOT NULL,"
    " expires REAL NOT NULL, PRIMARY KEY (namespace, key))",
)
# ``WHERE`` after the ``SELECT`` keeps SQLite's parser from reading ``ON`` as a join.
_SAVE = (
    "INSERT INTO coder_tasks_cursors (namespace, key, cursor, token) SELECT ?1, ?2, ?3, ?4"
    " WHERE ?4 IS NULL OR EXISTS (SELECT 1 FROM coder_tasks_leases"
    "  WHERE namespace = ?1 AND key = ?2 AND token = ?4)"
    " ON CONFLICT (namespace, key) DO UPDATE SET cursor = excluded.cursor, token = excluded.token"
)
# A key changes hands (token + 1) when it is free or expired; its holder renews it as is.
_CLAIM = (
    "INSERT INTO coder_tasks_leases (namespace, key, holder, token, expires)"
    " VALUES (?1, ?2, ?3, 1, ?4 + ?5)"
    " ON CONFLICT (namespace, key) DO UPDATE SET"
    "  token = CASE WHEN holder = excluded.holder THEN token ELSE token + 1 END,"
    "  holder = excluded.holder, expires = excluded.expires"
    " WHERE holder = excluded.holder OR holder IS NULL OR expires <= ?4"
    " RETURNING token"
)
_RELEASE = (
    "UPDATE coder_tasks_leases SET holder = NULL, expires = 0"
    " WHERE namespace = ? AND key = ? AND holder = ?"
)
_LEASES = (
    "SELECT key, holder, token, expires - ?2 FROM coder_tasks_leases"
    " WHERE namespace = ?1 AND holder IS NOT NULL AND expires > ?2"
    " AND substr(key, 1, length(?3)) = ?3 ORDER BY key"
)
#: Keys per ``IN (...)`` list: under SQLite's default limit of bound variables.
_CHUNK = 500
#: Seconds between tries to switch a new file to WAL while another process does.
_WAL_RETRY = 0.01


class SQLiteCursorStore:
    """A :class:`CursorStore` in one SQLite file, shareable by processes on one host.

    ``namespace`` separates bots sharing a file; ``busy_timeout`` is how long a call
    waits for another process's write (seconds); ``now`` replaces the wall clock for
    lease expiry (tests).  The file and its tables are created on first use.

    Example::

        store = SQLiteCursorStore("cursors.sqlite3")  # one file for the workers of a host
        async with coder.follow_fleet(store, worker="bot-1") as events:
            async for event in events:
                ...
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        namespace: str = "default",
        busy_timeout: float = 30.0,
        now: Now | None = None,
    ) -> None:
        self._path = os.fspath(path)
        self._namespace = check_namespace(namespace)
        if not busy_timeout > 0:
            raise ValueError("busy_timeout is a positive number of seconds")
        self._busy_timeout = float(busy_timeout)
        self._now: Now = now or time.time
        self._conn: sqlite3.Connection | None = None
        # One connection, one call at a time: sqlite3 connections are not for sharing.
        self._lock = threading.Lock()
        self._closed = False

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    @property
    def namespace(self) -> str:
        """The namespace every key of this store lives in."""
        return self._namespace

    def __repr__(self) -> str:
        return f"SQLiteCursorStore({self._path!r}, namespace={self._namespace!r})"

    # -- plumbing -------------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            if self._closed:
                raise RuntimeError("this SQLiteCursorStore is closed")
            if self._conn is None:
                self._conn = self._open()
            return fn(self._conn)

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._to_wal(conn)
            # WAL + NORMAL survives a killed process (what a fleet meets); only a power
            # loss can cost the last commits.
            conn.execute("PRAGMA synchronous=NORMAL")
            with _immediate(conn):
                for statement in _SCHEMA:
                    conn.execute(statement)
                row = conn.execute("SELECT max(version) FROM coder_tasks_schema").fetchone()
                if row[0] is None:
                    conn.execute("INSERT INTO coder_tasks_schema VALUES (?)", (SCHEMA_VERSION,))
                elif row[0] > SCHEMA_VERSION:
                    raise StoreSchemaError(
                        f"{self._path} holds cursor store schema {row[0]}, newer than this "
                        f"release's {SCHEMA_VERSION}: upgrade coder-tasks-async"
                    )
        except BaseException:
            conn.close()
            raise
        log_opened("SQLiteCursorStore", self._namespace)
        return conn

    def _to_wal(self, conn: sqlite3.Connection) -> None:
        """WAL mode (kept by the file once set).  Several processes opening a new file
        at once can be refused at once ("database is locked": SQLite does not wait on
        its busy timeout there), so this tries again within the busy timeout."""
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(_WAL_RETRY)  # a worker thread: the event loop is not held up

    # -- cursors --------------------------------------------------------------------

    async def load(self, key: str) -> str | None:
        """The cursor saved under ``key``, or ``None``."""
        check_key(key)

        def load(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT cursor FROM coder_tasks_cursors WHERE namespace = ? AND key = ?",
                (self._namespace, key),
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._run(load)

    async def load_many(self, keys: Collection[str]) -> dict[str, str]:
        """The cursors saved under any of ``keys``."""
        wanted = [check_key(k) for k in keys]

        def load(conn: sqlite3.Connection) -> dict[str, str]:
            found: dict[str, str] = {}
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT key, cursor FROM coder_tasks_cursors"
                    f" WHERE namespace = ? AND key IN ({marks})",
                    (self._namespace, *chunk),
                )
                found.update((str(k), str(c)) for k, c in rows)
            return found

        return await self._run(load) if wanted else {}

    async def save(self, key: str, cursor: str, *, token: int | None = None) -> None:
        """Save ``cursor`` under ``key`` (fenced by ``token`` when given)."""
        check_key(key)
        check_cursor(cursor)

        def save(conn: sqlite3.Connection) -> None:
            with _immediate(conn):
                self._save_on(conn, key, cursor, token)

        await self._run(save)

    async def save_in(
        self, connection: object, key: str, cursor: str, *, token: int | None = None
    ) -> None:
        """Save on your own ``sqlite3.Connection`` to this file, inside your transaction.

        Open it with ``BEGIN IMMEDIATE`` so the fencing check and your writes see one
        moment.  Runs on the calling thread (a sqlite3 connection belongs to its thread).
        """
        check_key(key)
        check_cursor(cursor)
        if not isinstance(connection, sqlite3.Connection):
            raise TypeError(f"expected a sqlite3.Connection, got {type(connection).__name__}")
        if not connection.in_transaction:
            raise ValueError("ack(connection) belongs inside your transaction: BEGIN IMMEDIATE")
        await self._run(lambda conn: None)  # the schema exists before the caller's write
        self._save_on(connection, key, cursor, token)

    def _save_on(self, conn: sqlite3.Connection, key: str, cursor: str, token: int | None) -> None:
        if conn.execute(_SAVE, (self._namespace, key, cursor, token)).rowcount == 0:
            assert token is not None
            raise LeaseLostError(key, token)

    # -- leases ---------------------------------------------------------------------

    async def claim(self, keys: Collection[str], holder: str, ttl: float) -> dict[str, int]:
        """Take the free, expired or own ones of ``keys`` for ``ttl`` seconds."""
        check_lease_args(holder, ttl)
        wanted = sorted({check_key(k) for k in keys})

        def claim(conn: sqlite3.Connection) -> dict[str, int]:
            won: dict[str, int] = {}
            with _immediate(conn):
                now = self._now()
                for key in wanted:
                    row = conn.execute(
                        _CLAIM, (self._namespace, key, holder, now, float(ttl))
                    ).fetchone()
                    if row is not None:
                        won[key] = int(row[0])
            return won

        won = await self._run(claim) if wanted else {}
        log_claim("SQLiteCursorStore", holder, wanted, won)
        return won

    async def release(self, keys: Collection[str], holder: str) -> None:
        """Give up those of ``keys`` that ``holder`` holds."""
        check_key(holder)
        wanted = sorted({check_key(k) for k in keys})

        def release(conn: sqlite3.Connection) -> None:
            with _immediate(conn):
                conn.executemany(_RELEASE, [(self._namespace, k, holder) for k in wanted])

        if wanted:
            await self._run(release)

    async def forget(self, keys: Collection[str]) -> None:
        """Delete the cursors and lease rows of ``keys``."""
        rows = [(self._namespace, check_key(k)) for k in keys]

        def forget(conn: sqlite3.Connection) -> None:
            with _immediate(conn):
                for table in ("coder_tasks_cursors", "coder_tasks_leases"):
                    conn.executemany(f"DELETE FROM {table} WHERE namespace = ? AND key = ?", rows)

        if rows:
            await self._run(forget)

    async def leases(self, prefix: str = "") -> list[Lease]:
        """Every live lease whose key starts with ``prefix``, by key."""

        def leases(conn: sqlite3.Connection) -> list[Lease]:
            rows = conn.execute(_LEASES, (self._namespace, self._now(), prefix))
            return [
                Lease(key=str(k), holder=str(h), token=int(t), expires_in=float(e))
                for k, h, t, e in rows
            ]

        return await self._run(leases)

    async def aclose(self) -> None:
        """Close the connection (a later call raises ``RuntimeError``)."""

        def shut() -> None:
            with self._lock:
                self._closed = True
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await anyio.to_thread.run_sync(shut)


class _immediate:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error): one writer at a time."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]
