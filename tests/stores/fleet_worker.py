"""One worker process of the chaos test (tests/stores/test_fleet_chaos.py).

    python fleet_worker.py URL TOKEN STORE NAME PLAIN_LOG

``STORE`` is ``sqlite:<path>`` or ``postgres:<dsn>``.  It follows the fleet's tasks
in settled mode and records each entry it handles: for tasks whose id is even, in
the store's own database inside the transaction that acknowledges the event (exactly
once); for the others, as a line appended to ``PLAIN_LOG`` before a plain ack (at
least once).  It runs until killed.  With ``FLEET_WORKER_DIE_AT`` set to an event's
idempotency key, it kills itself (SIGKILL) right after recording that event as a
plain delivery, before acknowledging it (tests/stores/test_fleet_redelivery.py).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from typing import Any

import anyio
import orjson

from coder_tasks_async import (
    CoderTasksClient,
    CursorStore,
    EntryEvent,
    LeaseLostError,
    PollPolicy,
    PostgresCursorStore,
    SQLiteCursorStore,
)

LEASE = 2.0
PACE = PollPolicy(initial=0.1, maximum=0.4, jitter=0.0)
DIE_AT = os.environ.get("FLEET_WORKER_DIE_AT")
TABLE = "CREATE TABLE IF NOT EXISTS chaos_deliveries (key TEXT, worker TEXT, content TEXT)"


def transactional(event: EntryEvent) -> bool:
    return event.task_id.int % 2 == 0


async def main(url: str, token: str, where: str, name: str, plain_log: str) -> None:
    kind, _, target = where.partition(":")
    store: CursorStore
    record: Any
    if kind == "sqlite":
        store = SQLiteCursorStore(target, namespace="chaos")
        db = sqlite3.connect(target, isolation_level=None, timeout=30)
        db.execute(TABLE)

        async def record(event: EntryEvent) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT INTO chaos_deliveries VALUES (?, ?, ?)",
                    (event.idempotency_key, name, event.entry.content),
                )
                await event.ack(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    else:
        import asyncpg

        store = PostgresCursorStore(target, namespace="chaos")
        conn = await asyncpg.connect(target)
        await conn.execute(TABLE)

        async def record(event: EntryEvent) -> None:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO chaos_deliveries VALUES ($1, $2, $3)",
                    event.idempotency_key,
                    name,
                    event.entry.content,
                )
                await event.ack(conn)

    with open(plain_log, "ab", buffering=0) as log:  # noqa: ASYNC230 -- opened once, at start
        async with (
            CoderTasksClient(url, token=token) as coder,
            coder.follow_fleet(
                store, worker=name, settled=True, lease=LEASE, poll=PACE, wake="poll"
            ) as events,
        ):
            print("ready", flush=True)
            async for event in events:
                if not isinstance(event, EntryEvent):
                    continue  # acknowledged by asking for the next one
                if transactional(event):
                    try:
                        await record(event)
                    except LeaseLostError:
                        continue  # rolled back: the task's new holder delivers it
                else:
                    line = [event.idempotency_key, name, event.entry.content]
                    log.write(orjson.dumps(line) + b"\n")  # one write(2): a kill keeps it whole
                    if event.idempotency_key == DIE_AT:  # recorded, not acknowledged
                        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    anyio.run(main, *sys.argv[1:6])
