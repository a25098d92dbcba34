"""The store contract, against a real SQLite file and a real PostgreSQL (never a mock)."""

from __future__ import annotations

import sqlite3
from typing import Any

import anyio
import asyncpg
import pytest
from storekit import MakeStore, wait_until

from coder_tasks_async import (
    CursorStore,
    LeaseLostError,
    PostgresCursorStore,
    SQLiteCursorStore,
    StoreSchemaError,
)

pytestmark = pytest.mark.anyio


async def test_cursors_round_trip_and_stay_in_their_namespace(
    store: CursorStore, make_store: MakeStore
) -> None:
    assert await store.load("a") is None
    await store.save("a", "one")
    await store.save("a", "two")
    await store.save("b", "b's")
    assert await store.load("a") == "two"
    assert await store.load_many(["a", "b", "missing"]) == {"a": "two", "b": "b's"}
    assert await store.load_many([]) == {}
    other = make_store()
    try:
        assert await other.load("a") is None  # another namespace, same database
    finally:
        await other.aclose()


async def test_a_key_changes_hands_only_when_free_and_its_token_grows(store: CursorStore) -> None:
    assert await store.claim(["t1", "t2"], "w1", 30) == {"t1": 1, "t2": 1}
    assert await store.claim(["t1", "t3"], "w2", 30) == {"t3": 1}  # t1 is w1's
    assert await store.claim(["t1"], "w1", 30) == {"t1": 1}  # renewed: same token
    await store.release(["t1"], "w2")  # not w2's: nothing happens
    assert await store.claim(["t1"], "w2", 30) == {}
    await store.release(["t1"], "w1")
    assert await store.claim(["t1"], "w2", 30) == {"t1": 2}  # changed hands: token + 1
    held = {(lease.key, lease.holder, lease.token) for lease in await store.leases()}
    assert held == {("t1", "w2", 2), ("t2", "w1", 1), ("t3", "w2", 1)}
    assert [lease.key for lease in await store.leases("t3")] == ["t3"]
    assert all(0 < lease.expires_in <= 30 for lease in await store.leases())


async def test_an_expired_lease_is_taken_over_and_the_old_token_can_no_longer_save(
    make_store: MakeStore,
) -> None:
    now = [1000.0]
    store = make_store(now=lambda: now[0])
    try:
        assert await store.claim(["task"], "w1", 10) == {"task": 1}
        await store.save("task", "by w1", token=1)
        now[0] += 9.9
        assert await store.claim(["task"], "w2", 10) == {}  # not expired yet
        now[0] += 0.2
        assert await store.leases() == []
        assert await store.claim(["task"], "w2", 10) == {"task": 2}
        with pytest.raises(LeaseLostError, match="taken over"):
            await store.save("task", "late write by w1", token=1)
        await store.save("task", "by w2", token=2)
        assert await store.load("task") == "by w2"
    finally:
        await store.aclose()


async def test_a_fenced_save_needs_a_lease(store: CursorStore) -> None:
    with pytest.raises(LeaseLostError):
        await store.save("never-claimed", "x", token=1)
    assert await store.load("never-claimed") is None


async def test_a_forgotten_key_loses_its_cursor_and_lease_and_nothing_else(
    store: CursorStore,
) -> None:
    assert await store.claim(["gone", "kept"], "w", 60) == {"gone": 1, "kept": 1}
    await store.save("gone", "cursor", token=1)
    await store.save("kept", "cursor", token=1)
    await store.forget(["gone", "never-there"])
    await store.forget([])
    assert await store.load_many(["gone", "kept"]) == {"kept": "cursor"}
    assert [lease.key for lease in await store.leases()] == ["kept"]
    with pytest.raises(LeaseLostError):  # a late save of the forgotten key
        await store.save("gone", "late", token=1)
    assert await store.load("gone") is None


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("load", ("",)),
        ("save", ("a\x00b", "x")),
        ("claim", (["k"], "", 10)),
        ("claim", (["k"], "w", 0)),
        ("claim", (["k"], "w", float("nan"))),
        ("claim", ([""], "w", 10)),
        ("release", (["k"], "")),
        ("forget", ([""],)),
    ],
)
async def test_bad_arguments_are_refused_before_any_write(
    store: CursorStore, call: str, args: tuple[Any, ...]
) -> None:
    with pytest.raises(ValueError, match=r"non-empty|positive"):
        await getattr(store, call)(*args)
    assert await store.leases() == []


async def test_a_cursor_with_a_nul_is_refused_alike_by_both_stores(store: CursorStore) -> None:
    # Found by the lease-table state machine: PostgreSQL's text cannot hold a NUL and
    # asyncpg raised its own encoding error; a cursor's JSON never holds one.
    with pytest.raises(ValueError, match="NUL"):
        await store.save("k1", "\x00")
    assert await store.load("k1") is None


async def test_sqlite_ack_in_the_callers_transaction_commits_or_rolls_back_with_it(
    tmp_path: anyio.Path,
) -> None:
    path = tmp_path / "bot.sqlite3"  # type: ignore[operator]
    store = SQLiteCursorStore(path)
    try:
        await store.claim(["task"], "w1", 30)
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("CREATE TABLE replies (key TEXT PRIMARY KEY)")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO replies VALUES ('r1')")
        await store.save_in(conn, "task", "after r1", token=1)
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO replies VALUES ('r2')")
        await store.save_in(conn, "task", "after r2", token=1)
        conn.execute("ROLLBACK")  # the process died before committing: neither happened
        assert await store.load("task") == "after r1"
        assert [r[0] for r in conn.execute("SELECT key FROM replies")] == ["r1"]
        with pytest.raises(ValueError, match="inside your transaction"):
            await store.save_in(conn, "task", "x", token=1)
        with pytest.raises(TypeError, match=r"sqlite3\.Connection"):
            await store.save_in(object(), "task", "x")
        conn.close()
    finally:
        await store.aclose()


async def test_postgres_ack_in_the_callers_transaction_commits_or_rolls_back_with_it(
    postgres_dsn: str,
) -> None:
    store = PostgresCursorStore(postgres_dsn, namespace="tx-test")
    conn = await asyncpg.connect(postgres_dsn)
    try:
        await store.claim(["task"], "w1", 30)
        await conn.execute("CREATE TABLE IF NOT EXISTS replies_tx (key text PRIMARY KEY)")
        async with conn.transaction():
            await conn.execute("INSERT INTO replies_tx VALUES ('r1')")
            await store.save_in(conn, "task", "after r1", token=1)

        class Crash(Exception):
            pass

        async def crash_before_commit() -> None:
            async with conn.transaction():
                await conn.execute("INSERT INTO replies_tx VALUES ('r2')")
                await store.save_in(conn, "task", "after r2", token=1)
                raise Crash

        with pytest.raises(Crash):
            await crash_before_commit()
        assert await store.load("task") == "after r1"
        assert await conn.fetchval("SELECT count(*) FROM replies_tx") == 1
        with pytest.raises(ValueError, match="inside your transaction"):
            await store.save_in(conn, "task", "x", token=1)
    finally:
        await conn.close()
        await store.aclose()


async def test_postgres_takeover_waits_for_a_late_save_to_commit(postgres_dsn: str) -> None:
    """The fenced save locks the lease row: a takeover cannot slip in between the old
    holder's check and its commit, so the new holder loads what that commit wrote."""
    now = [1000.0]
    old = PostgresCursorStore(postgres_dsn, namespace="late-save", now=lambda: now[0])
    new = PostgresCursorStore(postgres_dsn, namespace="late-save", now=lambda: now[0])
    conn = await asyncpg.connect(postgres_dsn)
    watcher = await asyncpg.connect(postgres_dsn)
    claimed: dict[str, int] = {}
    try:
        await old.claim(["task"], "old", 10)

        async def take_over() -> None:
            claimed.update(await new.claim(["task"], "new", 10))

        with anyio.fail_after(30):  # a bound against a hang, not a timing assertion
            async with anyio.create_task_group() as tg:
                tx = conn.transaction()
                await tx.start()
                await old.save_in(conn, "task", "late but valid", token=1)
                now[0] += 11  # the lease expires while the save's transaction is open
                tg.start_soon(take_over)
                waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"

                async def blocked() -> bool:
                    return bool(await watcher.fetchval(waiting))

                await wait_until(blocked, every=0.01, bound=30)
                assert claimed == {}  # blocked on the row the save locked
                await tx.commit()
        assert claimed == {"task": 2}
        assert await new.load("task") == "late but valid"
    finally:
        await conn.close()
        await watcher.close()
        await old.aclose()
        await new.aclose()


async def test_a_newer_schema_is_refused(make_store: MakeStore, postgres_dsn: str) -> None:
    store = make_store()
    try:
        await store.load("x")  # creates the tables
        if isinstance(store, SQLiteCursorStore):
            conn = sqlite3.connect(store.path)
            conn.execute("UPDATE coder_tasks_schema SET version = 99")
            conn.commit()
            conn.close()
        else:
            pg = await asyncpg.connect(postgres_dsn)
            await pg.execute("UPDATE coder_tasks_schema SET version = 99")
            await pg.close()
        again = make_store()
        try:
            with pytest.raises(StoreSchemaError, match="newer than this release"):
                await again.load("x")
        finally:
            await again.aclose()
            if not isinstance(store, SQLiteCursorStore):
                pg = await asyncpg.connect(postgres_dsn)
                await pg.execute("UPDATE coder_tasks_schema SET version = 1")
                await pg.close()
    finally:
        await store.aclose()


def test_reprs_never_show_a_dsn() -> None:
    store = PostgresCursorStore("postgresql://bot:hunter2@db/bot", namespace="n")
    assert "hunter2" not in repr(store)
