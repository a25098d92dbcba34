"""``PostgresCursorStore``: cursors and leases in PostgreSQL, for fleets across machines.

Through asyncpg (the optional extra ``coder-tasks-async[postgres]``), on a small
pool of its own.  The tables are created on first use under an advisory lock (so
workers starting together do not race) and carry a schema version.  Lease expiry
goes by the database's clock, which every worker shares wherever it runs.

A fenced save reads the lease row ``FOR SHARE``: a takeover (an ``UPDATE`` of that
row) waits until the transaction holding the save ends, so the new holder loads the
cursor only after a late save committed or rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import Any

import anyio

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

__all__ = ["PostgresCursorStore"]

_LOCK_ID = 0x636F646572  # "coder": the advisory lock held while the schema is made
_SCHEMA = """
CREATE TABLE IF NOT EXISTS coder_tasks_schema (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS coder_tasks_cursors (
    namespace text NOT NULL, key text NOT NULL, cursor text NOT NULL, token bigint,
    PRIMARY KEY (namespace, key));
CREATE TABLE IF NOT EXISTS coder_tasks_leases (
    namespace text NOT NULL, key text NOT NULL, holder text, token bigint NOT NULL,
    expires double precision NOT NULL, PRIMARY KEY (namespace, key));
"""
#: Seconds since the epoch: the store's own clock when given, else the database's.
_NOW = "coalesce({}::float8, extract(epoch from clock_timestamp())::float8)"
_SAVE = (
    "INSERT INTO coder_tasks_cursors (namespace, key, cursor, token) VALUES ($1, $2, $3, NULL)"
    " ON CONFLICT (namespace, key) DO UPDATE SET cursor = EXCLUDED.cursor, token = NULL"
    " RETURNING 1"
)
_SAVE_FENCED = (
    "WITH lease AS (SELECT 1 FROM coder_tasks_leases"
    "  WHERE namespace = $1 AND key = $2 AND token = $4 FOR SHARE)"
    " INSERT INTO coder_tasks_cursors (namespace, key, cursor, token)"
    " SELECT $1, $2, $3, $4 FROM lease"
    " ON CONFLICT (namespace, key) DO UPDATE SET cursor = EXCLUDED.cursor, token = EXCLUDED.token"
    " RETURNING 1"
)
# A key changes hands (token + 1) when it is free or expired; its holder renews it as is.
_CLAIM = (
    "WITH now AS (SELECT " + _NOW.format("$5") + " AS t)"
    " INSERT INTO coder_tasks_leases AS l (namespace, key, holder, token, expires)"
    " SELECT $1, k, $3, 1, now.t + $4 FROM unnest($2::text[]) WITH ORDINALITY AS u(k, i), now"
    " ORDER BY i"
    " ON CONFLICT (namespace, key) DO UPDATE SET"
    "  token = CASE WHEN l.holder = EXCLUDED.holder THEN l.token ELSE l.token + 1 END,"
    "  holder = EXCLUDED.holder, expires = EXCLUDED.expires"
    " WHERE l.holder = EXCLUDED.holder OR l.holder IS NULL OR l.expires <= EXCLUDED.expires - $4"
    " RETURNING key, token"
)
_RELEASE = (
    "UPDATE coder_tasks_leases SET holder = NULL, expires = 0"
    " WHERE namespace = $1 AND key = ANY($2::text[]) AND holder = $3"
)
_FORGET = (
    "WITH gone AS (DELETE FROM coder_tasks_cursors WHERE namespace = $1 AND key = ANY($2::text[]))"
    " DELETE FROM coder_tasks_leases WHERE namespace = $1 AND key = ANY($2::text[])"
)
_LEASES = (
    "WITH now AS (SELECT " + _NOW.format("$3") + " AS t)"
    " SELECT key, holder, token, expires - now.t FROM coder_tasks_leases, now"
    " WHERE namespace = $1 AND holder IS NOT NULL AND expires > now.t"
    " AND left(key, length($2)) = $2 ORDER BY key"
)


class PostgresCursorStore:
    """A :class:`CursorStore` in PostgreSQL (needs ``pip install 'coder-tasks-async[postgres]'``).

    ``dsn`` is an asyncpg connection string (``postgresql://user@host/db``);
    ``namespace`` separates bots sharing a database; ``pool_size`` caps the store's
    own connections; ``now`` replaces the database's clock for lease expiry (tests).

    With ``event.ack(connection)`` the cursor is saved on *your* asyncpg connection,
    inside your transaction: your write and the cursor commit together.

    Example::

        import asyncpg

        # dsn = "postgresql://bot@db.internal/bot"
        store = PostgresCursorStore(dsn)
        pool = await asyncpg.create_pool(dsn)
        async with coder.follow_logs(task, settled=True, store=store) as follower:
            async for event in follower:
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute("INSERT INTO replies VALUES ($1)", event.idempotency_key)
                    await event.ack(conn)  # the reply and the cursor commit together
    """

    def __init__(
        self,
        dsn: str,
        *,
        namespace: str = "default",
        pool_size: int = 4,
        now: Now | None = None,
    ) -> None:
        if not isinstance(dsn, str) or not dsn:
            raise ValueError("dsn is a PostgreSQL connection string")
        if pool_size < 1:
            raise ValueError("pool_size is at least 1")
        self._dsn = dsn
        self._namespace = check_namespace(namespace)
        self._pool_size = pool_size
        self._now = now
        self._pool: _Connections | None = None
        self._opening = anyio.Lock()
        self._closed = False

    @property
    def namespace(self) -> str:
        """The namespace every key of this store lives in."""
        return self._namespace

    def __repr__(self) -> str:
        # The DSN may carry a password: never shown.
        return f"PostgresCursorStore(namespace={self._namespace!r})"

    def _clock(self) -> float | None:
        return None if self._now is None else self._now()

    async def _get_pool(self) -> _Connections:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._closed:
                raise RuntimeError("this PostgresCursorStore is closed")
            if self._pool is None:
                try:
                    import asyncpg
                except ImportError:
                    raise ImportError(
                        "PostgresCursorStore needs asyncpg: "
                        "pip install 'coder-tasks-async[postgres]'"
                    ) from None
                pool = _Connections(asyncpg.connect, self._dsn, self._pool_size)
                try:
                    async with pool.connection() as conn:
                        await _ensure_schema(conn)
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
                log_opened("PostgresCursorStore", self._namespace)
        return self._pool

    async def _fetch(self, query: str, *args: Any) -> list[Any]:
        pool = await self._get_pool()
        async with pool.connection() as conn:
            return list(await conn.fetch(query, *args))

    # -- cursors --------------------------------------------------------------------

    async def load(self, key: str) -> str | None:
        """The cursor saved under ``key``, or ``None``."""
        rows = await self._fetch(
            "SELECT cursor FROM coder_tasks_cursors WHERE namespace = $1 AND key = $2",
            self._namespace,
            check_key(key),
        )
        return str(rows[0][0]) if rows else None

    async def load_many(self, keys: Collection[str]) -> dict[str, str]:
        """The cursors saved under any of ``keys``."""
        wanted = [check_key(k) for k in keys]
        if not wanted:
            return {}
        rows = await self._fetch(
            "SELECT key, cursor FROM coder_tasks_cursors"
            " WHERE namespace = $1 AND key = ANY($2::text[])",
            self._namespace,
            wanted,
        )
        return {str(k): str(c) for k, c in rows}

    async def save(self, key: str, cursor: str, *, token: int | None = None) -> None:
        """Save ``cursor`` under ``key`` (fenced by ``token`` when given)."""
        check_key(key)
        check_cursor(cursor)
        pool = await self._get_pool()
        async with pool.connection() as conn:
            saved = await self._save_on(conn, key, cursor, token)
        if not saved:  # raised here: the connection did nothing wrong, it is kept
            raise LeaseLostError(key, token or 0)

    async def save_in(
        self, connection: object, key: str, cursor: str, *, token: int | None = None
    ) -> None:
        """Save on your own asyncpg connection, inside its open transaction."""
        check_key(key)
        check_cursor(cursor)
        in_transaction = getattr(connection, "is_in_transaction", None)
        if not callable(in_transaction) or not hasattr(connection, "fetchval"):
            raise TypeError(f"expected an asyncpg connection, got {type(connection).__name__}")
        if not in_transaction():
            raise ValueError(
                "ack(connection) belongs inside your transaction: "
                "async with connection.transaction(): ..."
            )
        await self._get_pool()  # the tables exist before the caller's write
        if not await self._save_on(connection, key, cursor, token):
            raise LeaseLostError(key, token or 0)

    async def _save_on(self, conn: Any, key: str, cursor: str, token: int | None) -> bool:
        """Whether the cursor was saved (a fenced save is refused to a stale token)."""
        if token is None:
            return await conn.fetchval(_SAVE, self._namespace, key, cursor) is not None
        return await conn.fetchval(_SAVE_FENCED, self._namespace, key, cursor, token) is not None

    # -- leases ---------------------------------------------------------------------

    async def claim(self, keys: Collection[str], holder: str, ttl: float) -> dict[str, int]:
        """Take the free, expired or own ones of ``keys`` for ``ttl`` seconds."""
        check_lease_args(holder, ttl)
        # One order for every worker: two claims of overlapping keys cannot deadlock.
        wanted = sorted({check_key(k) for k in keys})
        if not wanted:
            return {}
        rows = await self._fetch(_CLAIM, self._namespace, wanted, holder, float(ttl), self._clock())
        won = {str(k): int(t) for k, t in rows}
        log_claim("PostgresCursorStore", holder, wanted, won)
        return won

    async def release(self, keys: Collection[str], holder: str) -> None:
        """Give up those of ``keys`` that ``holder`` holds."""
        check_key(holder)
        wanted = sorted({check_key(k) for k in keys})
        if wanted:
            await self._fetch(_RELEASE, self._namespace, wanted, holder)

    async def forget(self, keys: Collection[str]) -> None:
        """Delete the cursors and lease rows of ``keys`` (one statement)."""
        wanted = sorted({check_key(k) for k in keys})
        if wanted:
            await self._fetch(_FORGET, self._namespace, wanted)

    async def leases(self, prefix: str = "") -> list[Lease]:
        """Every live lease whose key starts with ``prefix``, by key."""
        rows = await self._fetch(_LEASES, self._namespace, prefix, self._clock())
        return [
            Lease(key=str(k), holder=str(h), token=int(t), expires_in=float(e))
            for k, h, t, e in rows
        ]

    async def aclose(self) -> None:
        """Close the pool (a later call raises ``RuntimeError``)."""
        async with self._opening:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


class _Connections:
    """The store's few connections, each used for one short statement at a time.

    Not asyncpg's ``Pool``: its acquire and release (with the reset query it sends on
    every release) cost more than the fenced save itself, and this store leaves no
    session state to reset (no ``SET``, ``LISTEN``, cursors or session advisory
    locks).  A connection that saw an error or a cancellation is closed, never
    reused: its state is unknown.  Connections are opened when first needed.
    """

    def __init__(self, connect: Callable[[str], Awaitable[Any]], dsn: str, size: int) -> None:
        self._connect = connect
        self._dsn = dsn
        # asyncio's semaphore takes a free slot without yielding to the event loop
        # (anyio's always yields once: a tenth of an ack on a busy loop).
        self._slots = asyncio.Semaphore(size)
        self._idle: list[Any] = []
        self._closed = False

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """One connection to use alone until the block ends."""
        async with self._slots:
            conn = self._idle.pop() if self._idle else await self._connect(self._dsn)
            try:
                yield conn
            except BaseException:
                conn.terminate()
                raise
            if self._closed or conn.is_closed() or conn.is_in_transaction():
                conn.terminate()
            else:
                self._idle.append(conn)

    async def close(self) -> None:
        """Close the idle connections; those in use close when their block ends."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()


async def _ensure_schema(conn: Any) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_ID)
        await conn.execute(_SCHEMA)
        version = await conn.fetchval("SELECT max(version) FROM coder_tasks_schema")
        if version is None:
            await conn.execute("INSERT INTO coder_tasks_schema VALUES ($1)", SCHEMA_VERSION)
        elif version > SCHEMA_VERSION:
            raise StoreSchemaError(
                f"the database holds cursor store schema {version}, newer than this "
                f"release's {SCHEMA_VERSION}: upgrade coder-tasks-async"
            )
