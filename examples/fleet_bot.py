"""A bot that survives ``kill -9`` with nothing posted twice, and runs as many replicas.

Every replica is one worker of a fleet (``coder.follow_fleet``): the workers share the
tasks through leases in a store, and a worker that dies loses its tasks to the others
after ``--lease`` seconds.  Each finished agent reply is "posted" as a row of an outbox
table written in the same transaction that acknowledges the event, so the post and the
cursor commit together: a replica killed at any moment posts nothing twice, and the
replica taking over posts what it had not.

    python examples/fleet_bot.py                              # own fake, SQLite, exits when done
    CODER_URL=... python examples/fleet_bot.py --worker a     # runs until Ctrl-C
    python examples/fleet_bot.py --dsn postgresql://bot@db/bot   # PostgreSQL instead
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
from _connect import connect

from coder_tasks_async import (
    CoderTasksClient,
    CursorStore,
    EntryEvent,
    LeaseLostError,
    PostgresCursorStore,
    SQLiteCursorStore,
    TaskLogType,
)

#: Seconds the self-contained demo may take before it gives up with ``TimeoutError``.
BOUND = 60.0
OUTBOX = "CREATE TABLE IF NOT EXISTS outbox (key TEXT PRIMARY KEY, task TEXT, reply TEXT)"
#: Posts one reply and acknowledges its event, both in one transaction.
Post = Callable[[EntryEvent, str], Awaitable[None]]


async def sqlite_outbox(path: Path) -> tuple[CursorStore, Post]:
    store = SQLiteCursorStore(path, namespace="fleet-bot")
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    db.execute(OUTBOX)

    async def post(event: EntryEvent, reply: str) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            # The cursor first: a worker that lost the task fails with LeaseLostError
            # before posting, not on the new holder's row; both commit together, or neither.
            await event.ack(db)
            db.execute(
                "INSERT INTO outbox VALUES (?, ?, ?)",
                (event.idempotency_key, event.task_name, reply),
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    return store, post


async def postgres_outbox(dsn: str) -> tuple[CursorStore, Post]:
    import asyncpg

    store = PostgresCursorStore(dsn, namespace="fleet-bot")
    conn = await asyncpg.connect(dsn)
    await conn.execute(OUTBOX)

    async def post(event: EntryEvent, reply: str) -> None:
        async with conn.transaction():
            await event.ack(conn)  # first: it locks the task's lease row, or is refused
            await conn.execute(
                "INSERT INTO outbox VALUES ($1, $2, $3)",
                event.idempotency_key,
                event.task_name,
                reply,
            )

    return store, post


async def run_worker(
    coder: CoderTasksClient,
    store: CursorStore,
    post: Post,
    worker: str,
    lease: float,
    done: Callable[[int], bool] = lambda posted: False,
) -> int:
    """Post a reply to every finished agent message of the fleet's tasks; return how many."""
    posted = 0
    async with coder.follow_fleet(store, worker=worker, settled=True, lease=lease) as events:
        print(f"[{worker}] following", flush=True)
        async for event in events:
            if not isinstance(event, EntryEvent) or event.interrupted:
                continue  # acknowledged when the next event is asked for
            if event.entry.type is not TaskLogType.OUTPUT or event.entry.id == 0:
                continue  # an input, or the agent's welcome screen
            reply = f"Thanks! ({event.entry.content.splitlines()[-1].strip()})"
            try:
                await post(event, reply)
            except LeaseLostError:
                print(f"[{worker}] {event.task_name}: taken over by another worker", flush=True)
                continue
            posted += 1
            print(f"[{worker}] posted to {event.task_name}: {reply}", flush=True)
            if done(posted):
                break
    return posted


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="SQLite file (default: a temporary one)")
    parser.add_argument("--dsn", help="PostgreSQL DSN: use PostgresCursorStore instead")
    parser.add_argument("--worker", default=None, help="this worker's name (unique)")
    parser.add_argument("--lease", type=float, default=5.0, help="seconds a lease lasts")
    args = parser.parse_args()
    own_fake = not os.environ.get("CODER_URL")
    with tempfile.TemporaryDirectory(prefix="fleet-bot-") as private:
        if args.dsn:
            store, post = await postgres_outbox(args.dsn)
        else:
            store, post = await sqlite_outbox(args.store or Path(private) / "fleet.sqlite3")
        async with connect(server_version="v2.31.1") as (coder, template_version):
            if not own_fake:  # a real deployment or a shared fake-server: until Ctrl-C
                await run_worker(
                    coder, store, post, args.worker or f"bot-{os.getpid()}", args.lease
                )
                return
            prompts = ["Fix the flaky login test", "Add type hints", "Update the docs"]
            tasks = [
                await coder.create_task(p, template_version_id=template_version) for p in prompts
            ]
            try:
                with anyio.fail_after(BOUND):  # a bot that waits forever helps nobody
                    posted = await run_worker(
                        coder,
                        store,
                        post,
                        args.worker or "bot-1",
                        args.lease,
                        done=lambda n: n == len(prompts),
                    )
                print(f"posted {posted} replies, each once")
            finally:
                await coder.delete_many(tasks)
        await store.aclose()


if __name__ == "__main__":
    anyio.run(main)
