"""A fleet of workers sharing tasks through leases: ``client.follow_fleet(store, ...)``.

Every worker, once per interval, in a few store round trips:

1. renews what it holds, its presence (``~worker/<name>``) and tries for the lister
   role (``~lister``), all in one ``claim``;
2. the lister lists the tasks (one list call per interval for the whole fleet) and
   publishes a roster (task id -> a mark of what the list showed) under its fenced
   key; the others read the roster instead of listing;
3. it counts the live workers and claims free or expired tasks up to its fair share,
   ``ceil(tasks / workers)``, releasing what it holds above it (a worker that joins
   gets its share from the others' next interval);
4. it follows what it holds, as ``follow_many`` does, reading a held task again
   (``get_task``) only when the roster shows it changed.

A worker that dies stops renewing: its leases expire after ``lease`` seconds and the
others take its tasks over from their saved cursors, within ``lease`` plus one
interval.  Every takeover raises the task's fencing token, and every cursor save
names the saver's token, so a worker that lost a task can no longer move its cursor.
A task a worker holds under a token it did not have before (claimed, or claimed
again after another worker held it) is followed from the store's cursor, never from
one kept in memory.  Leases are renewed every ``lease / 3`` seconds, between polls
and also in the middle of a long batch of events.
"""

from __future__ import annotations

import math
import os
import random
import socket
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import anyio
import orjson

from .._wire.errors import CoderError, LeaseLostError
from .._wire.models import Task
from .._wire.settings import PollPolicy, Wake
from .acks import Acks
from .conditions import StopConditions
from .error_policy import Verdict, judge
from .events import LogEvent
from .many_tasks import ManyFollower, _Lister
from .wake import WakeResult

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints as CoderTasksClient
    from .._stores.base import CursorStore

__all__ = ["FleetFollower", "default_worker_name"]

#: The lease the lister holds; its cursor row holds the roster it publishes.
LISTER = "~lister"
#: Prefix of each worker's presence lease.
WORKER = "~worker/"
#: Seconds a graceful close may spend handing its leases back.
_RELEASE_BOUND = 5.0
#: Deleted tasks whose rows the lister deletes per interval, at most.
_FORGET_BATCH = 50


def default_worker_name() -> str:
    """A name no other live worker has: host, process id and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid4().hex[:6]}"


def _mark(task: Task) -> str:
    """What the roster says of a task: enough to tell that a held task changed."""
    state = task.current_state
    return "|".join(
        str(part)
        for part in (
            task.status,
            task.workspace_status,
            task.workspace_build_number,
            task.workspace_agent_id,
            None if state is None else state.state,
            None if state is None else state.timestamp.isoformat(),
            task.updated_at.isoformat(),
        )
    )


class _FleetLister(_Lister):
    """``follow_many``'s list-per-interval, replaced by leases: the held tasks' snapshots."""

    def __init__(
        self,
        client: CoderTasksClient,
        store: CursorStore,
        *,
        worker: str,
        owner: str | UUID | None,
        accept: Callable[[Task], bool] | None,
        lease: float,
        poll: PollPolicy | None,
        wake: Wake | None,
        max_streams: int | None,
    ) -> None:
        super().__init__(client, None, owner, poll, wake=wake, max_streams=max_streams)
        self.store = store
        self.worker = worker
        self.accept = accept
        self.lease = lease
        #: Never wait longer than this between renewals (three chances per lease).
        self.renew_every = lease / 3
        #: The fencing token of each task held.
        self.tokens: dict[UUID, int] = {}
        self.lister_token: int | None = None
        self._published: str | None = None
        #: Each held task's latest snapshot and the roster mark it was read under.
        self._snapshots: dict[UUID, tuple[str, Task]] = {}
        #: Tasks whose follower must start again from the store's cursor: lost, or held
        #: again under a new token (another worker may have moved the cursor meanwhile).
        self._changed: set[UUID] = set()
        #: Told of those tasks once per claim (the follower drops what it knew of them).
        self.on_changed: Callable[[set[UUID]], Awaitable[None]] | None = None
        #: When the held leases were last renewed (the client's clock).
        self._renewed_at = -math.inf
        #: The roster of the latest interval, and since when each task that left it
        #: has been missing (the client's clock): the lister deletes a deleted task's
        #: rows once it has been gone for a whole lease.
        self._roster_keys: set[str] = set()
        self._gone_since: dict[str, float] = {}
        self.closed = False

    def token_of(self, task_id: UUID) -> int | None:
        return self.tokens.get(task_id)

    def lost(self, task_id: UUID) -> None:
        """The task is no longer held here (taken over, or handed back)."""
        if self.tokens.pop(task_id, None) is not None:
            self._changed.add(task_id)
        self._snapshots.pop(task_id, None)

    def _granted(self, granted: dict[str, int]) -> None:
        """Take a claim's answer: a task held under a token it did not have here
        before starts again from the store (its cursor may have moved meanwhile)."""
        for key, token in granted.items():
            if key.startswith("~"):
                continue
            task_id = UUID(key)
            if self.tokens.get(task_id) != token:
                self._changed.add(task_id)
                self.tokens[task_id] = token

    async def _settle_changes(self) -> None:
        changed, self._changed = self._changed, set()
        if changed and self.on_changed is not None:
            await self.on_changed(changed)

    @property
    def renewal_due(self) -> bool:
        """The held leases should be renewed now (a long batch of events is under way)."""
        return self.client.clock.now() >= self._renewed_at + self.renew_every

    async def renew(self) -> None:
        """Renew the held tasks and this worker's presence, and try for the lister role,
        in one claim.  A held task not granted was taken over after its lease ran out."""
        held = list(self.tokens)
        keys = [WORKER + self.worker, LISTER, *(str(task_id) for task_id in held)]
        self._renewed_at = self.client.clock.now()  # the lease runs from about now
        granted = await self.store.claim(keys, self.worker, self.lease)
        for task_id in held:
            if str(task_id) not in granted:
                self.lost(task_id)
        self._granted(granted)
        self.lister_token = granted.get(LISTER)
        await self._settle_changes()

    async def poll_tasks(self) -> dict[UUID, Task] | None:
        self.woken = set()
        if self.delay is not None:
            result, self.woken = await self.wakers.sleep(self.delay)
            if result is WakeResult.EVENT:
                self.backoff.restart()
        if self.closed:
            return {}
        try:
            return await self._round()
        except CoderError as exc:
            if judge(exc) in (Verdict.RAISE, Verdict.GONE):
                raise
            self.delay = min(self.backoff.after_failure(exc), self.renew_every)
            return None

    async def _round(self) -> dict[UUID, Task]:
        await self.renew()
        listing: dict[UUID, Task] | None = None
        if self.lister_token is not None:
            listing = await self._list()
            roster = {str(task_id): _mark(task) for task_id, task in listing.items()}
            await self._publish(roster, self.lister_token)
        else:
            self._published = None
            text = await self.store.load(LISTER)
            roster = {} if text is None else dict(orjson.loads(text))
        await self._balance(roster)
        await self._settle_changes()
        await self._forget_deleted(roster)
        return await self._snapshots_of(roster, listing)

    async def _list(self) -> dict[UUID, Task]:
        listed = await self.client.list_tasks(owner=self.owner)
        accept = self.accept
        return {t.id: t for t in listed if accept is None or accept(t)}

    async def _publish(self, roster: dict[str, str], token: int) -> None:
        text = orjson.dumps(roster, option=orjson.OPT_SORT_KEYS).decode()
        if text != self._published:  # an idle fleet's roster does not change
            try:
                await self.store.save(LISTER, text, token=token)
            except LeaseLostError:
                # Listing outlasted the role's lease and another worker lists now: its
                # roster counts.  This worker's own listing is still fresh for itself.
                self.lister_token = self._published = None
                return
            self._published = text

    async def _balance(self, roster: dict[str, str]) -> None:
        """Hand back what is gone or above the fair share; claim free tasks up to it."""
        live = await self.store.leases()
        workers = {lease.holder for lease in live if lease.key.startswith(WORKER)}
        workers.add(self.worker)
        share = math.ceil(len(roster) / len(workers))
        taken = {lease.key for lease in live if not lease.key.startswith("~")}
        mine = [str(task_id) for task_id in self.tokens]
        drop = [key for key in mine if key not in roster]
        kept = [key for key in mine if key in roster]
        if len(kept) > share:
            drop += kept[share:]
            kept = kept[:share]
        if drop:
            await self.store.release(drop, self.worker)
            for key in drop:
                self.lost(UUID(key))
        free = [key for key in roster if key not in taken]
        want = share - len(kept)
        if want > 0 and free:
            # Workers pick at random among the free tasks: fewer collide on the same ones.
            picked = random.sample(free, min(want, len(free)))
            self._granted(await self.store.claim(picked, self.worker, self.lease))

    async def _forget_deleted(self, roster: dict[str, str]) -> None:
        """Delete the cursor and lease rows of tasks the server deleted (bounded).

        A task gone from the roster for a whole lease is no longer held by any live
        worker (each one drops it at its next interval); the lister then asks the
        server, and forgets only a task that answers 404: one merely filtered out, or
        missing from one listing, keeps its cursor.
        """
        now = self.client.clock.now()
        for key in self._roster_keys - roster.keys():
            self._gone_since.setdefault(key, now)
        for key in self._gone_since.keys() & roster.keys():
            del self._gone_since[key]  # back (a listing that missed it)
        self._roster_keys = set(roster)
        if self.lister_token is None:
            return
        due = [key for key, since in self._gone_since.items() if now - since > self.lease]
        deleted: list[str] = []
        for key in due[:_FORGET_BATCH]:
            try:
                await self.client.get_task(UUID(key))
            except CoderError as exc:
                verdict = judge(exc)
                if verdict is Verdict.RAISE:
                    raise
                if verdict is Verdict.GONE:
                    deleted.append(key)
                continue  # otherwise transient: asked again next interval
            del self._gone_since[key]  # still there: not ours to forget
        if deleted:
            await self.store.forget(deleted)
            for key in deleted:
                del self._gone_since[key]

    async def _snapshots_of(
        self, roster: dict[str, str], listing: dict[UUID, Task] | None
    ) -> dict[UUID, Task]:
        """The held tasks as of now: from the listing, or read again when they changed."""
        stale: list[UUID] = []
        for task_id in self.tokens:
            mark = roster[str(task_id)]
            if listing is not None:
                self._snapshots[task_id] = (mark, listing[task_id])
            else:
                # Read again what changed by the roster, and what its stream just woke:
                # the roster is as old as the lister's last interval, and settling a
                # finished reply needs the task as of now.
                known = self._snapshots.get(task_id)
                if known is None or known[0] != mark or task_id in self.woken:
                    stale.append(task_id)
        if stale:
            async with anyio.create_task_group() as tg:
                for task_id in stale:
                    tg.start_soon(self._read, task_id, roster[str(task_id)])
        for task_id in list(self._snapshots):
            if task_id not in self.tokens:
                del self._snapshots[task_id]
        return {task_id: self._snapshots[task_id][1] for task_id in self._snapshots}

    async def _read(self, task_id: UUID, mark: str) -> None:
        try:
            self._snapshots[task_id] = (mark, await self.client.get_task(task_id))
        except CoderError as exc:
            if judge(exc) is Verdict.RAISE:
                raise
            # Deleted (the roster will say so) or transient: not part of this interval.

    def paced(self, changed: bool, slow: Callable[[float], float]) -> None:
        super().paced(changed, slow)
        assert self.delay is not None
        # Leases are renewed in time.  The cap allows the pace's jitter: at exactly
        # lease / 3 (10 s for lease=30, the default pace's maximum) it would clip the
        # jitter's upper half and poll ~3-5% more often than one follow_many.
        cap = self.renew_every * (1 + self.backoff.policy.jitter)
        self.delay = min(self.delay, cap)

    async def release_all(self) -> None:
        """A graceful goodbye: the others take these tasks over at once."""
        self.closed = True
        keys = [LISTER, *(str(t) for t in self.tokens)]
        self.tokens = {}
        with anyio.move_on_after(_RELEASE_BOUND, shield=True):
            await self.store.release(keys, self.worker)
            # Its presence row is of no use once it is gone (a restart makes a new one).
            await self.store.forget([WORKER + self.worker])


class FleetFollower(ManyFollower):
    """One worker of a fleet: an async iterator of the :data:`LogEvent` of the tasks it
    holds.  Create with ``client.follow_fleet``; acknowledge events as with a store."""

    _operation = "follow_fleet"

    def __init__(
        self,
        client: CoderTasksClient,
        store: CursorStore,
        *,
        worker: str,
        owner: str | UUID | None,
        accept: Callable[[Task], bool] | None,
        lease: float,
        settled: bool,
        poll: PollPolicy | None,
        stop: StopConditions,
        wake: Wake | None,
        max_streams: int | None,
    ) -> None:
        super().__init__(
            client, None, owner=owner, settled=settled, poll=poll, stop=stop, wake=wake,
            max_streams=max_streams,
        )  # fmt: skip
        lister = _FleetLister(
            client, store, worker=worker, owner=owner, accept=accept, lease=lease,
            poll=poll, wake=wake, max_streams=max_streams,
        )  # fmt: skip
        self._lister = self._fleet = lister
        lister.on_changed = self._start_over
        self._acks = Acks(store, token_of=lister.token_of, on_lost=self._lost, fenced=True)

    def _lost(self, task_id: UUID) -> None:
        """Another worker holds the task now: hand out nothing more of it from here."""
        self._fleet.lost(task_id)
        follower = self._followers.get(task_id)
        if follower is not None:
            follower.tracker.drop()

    async def _start_over(self, task_ids: Collection[UUID]) -> None:
        """Forget what this worker knew of tasks that changed hands: one held again is
        followed from the store's cursor (another worker may have moved it meanwhile),
        never from a cursor kept in memory."""
        for task_id in task_ids:
            follower = self._followers.pop(task_id, None)
            if follower is not None:
                follower.tracker.drop()
            self._saved.pop(task_id, None)
            self._marks.pop(task_id, None)
            if self._acks is not None:
                self._acks.forget(task_id)
            if task_id not in self._fleet.tokens:
                await self._lister.wakers.drop(task_id)

    async def __anext__(self) -> LogEvent:
        if self._ready and self._fleet.renewal_due:
            # A long batch of events: the leases are renewed under it, not only between
            # polls, or they would run out and other workers take the tasks over.
            try:
                if self._acks is not None:
                    await self._acks.flush()
                await self._fleet.renew()
            except BaseException:
                await self._lister.wakers.aclose()
                raise
        return await super().__anext__()

    @property
    def worker(self) -> str:
        """This worker's name in the store."""
        return self._fleet.worker

    @property
    def held(self) -> frozenset[UUID]:
        """The tasks this worker holds leases on now."""
        return frozenset(self._fleet.tokens)

    @property
    def is_lister(self) -> bool:
        """This worker lists the tasks for the whole fleet (as of its latest interval)."""
        return self._fleet.lister_token is not None

    @property
    def store_saves(self) -> int:
        """Cursor saves made for acknowledgements so far."""
        return self._acks.saves if self._acks is not None else 0

    async def aclose(self) -> None:
        """Stop, and hand every lease back so the other workers take over at once."""
        try:
            await super().aclose()
        finally:
            await self._fleet.release_all()

    def __repr__(self) -> str:
        return f"<FleetFollower {self.worker} holding {len(self._fleet.tokens)}>"
