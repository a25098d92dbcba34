"""The log cursor: what a follower has already handed out of one task's conversation.

A cursor is plain, saveable state; :class:`~coder_tasks_async.ConversationTracker`
decides what a poll means and records each handed-out event here.  It holds:

* the task it belongs to (id and name), so it cannot be resumed on another task;
* the conversation it is in: the run that served it (the task's workspace build
  number and agent id, see docs/compatibility.md §5), or ``None`` where the server
  showed none;
* the newest id handed out and a digest of the last ``WINDOW`` entries (never their
  text), which keeps memory bounded whatever the conversation's length;
* whether the latest answer was a stored snapshot (the task was paused).

Save it with :meth:`LogCursor.dumps`, restore it with :meth:`LogCursor.loads`.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

import attrs
import orjson

__all__ = ["LogCursor", "RunId"]

#: How many recent entries the cursor remembers (ids, types and content digests).
WINDOW = 32
#: Version 1 (0.x releases before the tracker) had no task and no run; it still loads.
_FORMAT = 2


def digest(content: str) -> str:
    """A short, stable content digest (stable across processes, unlike ``hash``)."""
    return hashlib.blake2b(content.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


@attrs.define(frozen=True, slots=True)
class RunId:
    """The live run that served a conversation: workspace build number and agent id.

    A negative build marks a conversation known only from a stored snapshot (the run
    that produced it was never seen live): ``-n`` for the snapshot first shown while
    the task's build was ``n``, ``-1`` when the task showed no build number (and in
    cursors of earlier releases, which named every such conversation ``-1``).
    """

    build: int = 0
    agent: UUID | None = None

    @property
    def known(self) -> bool:
        """The server showed something to tell runs apart."""
        return self.build != 0 or self.agent is not None

    def differs(self, other: RunId) -> bool:
        """``other`` is certainly another run (unknown parts never count as different)."""
        if self.build < 0 or other.build < 0:
            return self.build != other.build and other.known and self.known
        if self.build and other.build and self.build != other.build:
            return True
        return self.agent is not None and other.agent is not None and self.agent != other.agent


#: The run of a conversation seen only as a snapshot, when the task shows no build.
SNAPSHOT_RUN = RunId(build=-1)


@attrs.define(slots=True)
class Seen:
    """What the cursor remembers of one handed-out entry."""

    type: str
    digest: str
    #: It can no longer change (a newer entry existed, or it was handed out settled).
    final: bool
    #: ``hash()`` of the text last seen with this digest (0: not known).  In-process
    #: only, never saved: it lets a poll skip digesting text that did not change.
    quick: int = attrs.field(default=0, eq=False, repr=False)
    #: ``len()`` of the text last handed out (-1: not known).  In-process only: a poll
    #: that finds another length knows the text changed without hashing it.
    size: int = attrs.field(default=-1, eq=False, repr=False)


@attrs.define(slots=True)
class LogCursor:
    """Where a follower is in a task's conversation.

    Example::

        saved = follower.cursor.dumps()          # e.g. into a database
        ...
        coder.follow_logs(task.id, cursor=LogCursor.loads(saved))
    """

    #: The task this cursor belongs to (``None`` until first used, or from an old cursor).
    task_id: UUID | None = None
    task_name: str = ""
    #: The run of the conversation handed out so far (``None``: not known).
    run: RunId | None = None
    last_id: int | None = None
    #: The latest accepted answer was a stored snapshot (``None`` before any).
    snapshot: bool | None = None
    window: dict[int, Seen] = attrs.field(factory=dict)
    #: ``PAUSED`` events handed out in the task's life: numbers each pause, so its
    #: idempotency key is its own even when one conversation is paused twice.
    pauses: int = 0

    @property
    def empty(self) -> bool:
        """Nothing of a conversation was handed out yet."""
        return self.last_id is None and not self.window

    def remember(
        self,
        entry_id: int,
        entry_type: str,
        entry_digest: str,
        final: bool,
        quick: int = 0,
        size: int = -1,
    ) -> None:
        """Record one handed-out entry (older entries become final: a newer one exists).

        ``quick``: the text's ``hash()``, if known (see :attr:`Seen.quick`); ``size``: its
        ``len()`` (see :attr:`Seen.size`).
        """
        window = self.window
        last = self.last_id
        seen = window.get(entry_id)
        if seen is not None and last is not None and entry_id <= last:
            # An entry handed out before changed (a reply growing: every poll of a working
            # agent): recorded in place, no object made and dropped per update.
            seen.type, seen.digest, seen.final, seen.quick, seen.size = (
                entry_type,
                entry_digest,
                final,
                quick,
                size,
            )
            return
        for older in window.values():
            older.final = True  # a newer entry (or a first one of an unknown id) exists
        window[entry_id] = Seen(entry_type, entry_digest, final, quick, size)
        if len(window) > WINDOW:
            for old in sorted(window)[: len(window) - WINDOW]:
                del window[old]
        if self.last_id is None or entry_id > self.last_id:
            self.last_id = entry_id

    def forget_conversation(self, run: RunId | None) -> None:
        """A new conversation starts: nothing of it was handed out yet."""
        self.window.clear()
        self.last_id = None
        self.run = run

    # -- persistence --------------------------------------------------------------

    def dumps(self) -> str:
        """A compact JSON string (a few kilobytes at most) to save and pass back later."""
        run = self.run
        data: dict[str, Any] = {
            "v": _FORMAT,
            "task": None if self.task_id is None else str(self.task_id),
            "name": self.task_name,
            "run": None if run is None else [run.build, run.agent and str(run.agent)],
            "last": self.last_id,
            "snap": self.snapshot,
            "win": [[i, s.type, s.digest, s.final] for i, s in sorted(self.window.items())],
        }
        if self.pauses:  # only when there are: older releases read the rest as before
            data["pauses"] = self.pauses
        return orjson.dumps(data).decode()

    @classmethod
    def loads(cls, text: str | bytes) -> LogCursor:
        """Restore a cursor saved with :meth:`dumps` (this release or the previous one).

        A string that is not a saved cursor is a ``ValueError`` saying what to do; so is
        a cursor of the current format without its task (only the previous format,
        ``"v": 1``, had none).
        """
        try:
            data = orjson.loads(text)
            version = data.get("v")
            if version not in (1, _FORMAT):
                raise ValueError(f"unsupported cursor format {version!r}")
            window = {int(i): Seen(str(t), str(d), bool(f)) for i, t, d, f in data["win"]}
            last = data["last"]
            task_id = _uuid_or_none(data.get("task"))
            unused = last is None and not window
            if version == _FORMAT and ("task" not in data or (task_id is None and not unused)):
                # Only a cursor never used names no task; a used one without its task
                # could be resumed on another task and skip that task's first entries.
                raise ValueError(f"a format {_FORMAT} cursor must name its task")
            return cls(
                task_id=task_id,
                task_name=str(data.get("name", "")),
                run=_run(data.get("run")),
                last_id=None if last is None else int(last),
                snapshot=None if data["snap"] is None else bool(data["snap"]),
                window=window,
                pauses=int(data.get("pauses", 0)),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(
                f"not a log cursor saved by LogCursor.dumps() ({exc}); "
                "delete it to follow the task from its start"
            ) from None

    def __len__(self) -> int:
        return len(self.window)


def _uuid_or_none(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


def _run(value: Any) -> RunId | None:
    if value is None:
        return None
    build, agent = value
    return RunId(int(build), _uuid_or_none(agent))


def entry_fields(raw: Any) -> tuple[int, str, str]:
    """(id, type, content) of one raw entry; ``ValueError`` when it is malformed."""
    try:
        entry_id, entry_type, content = raw["id"], raw["type"], raw["content"]
    except (KeyError, TypeError, IndexError):
        raise ValueError(f"malformed log entry: {_short(raw)}") from None
    if type(entry_id) is not int or type(entry_type) is not str or type(content) is not str:
        raise ValueError(f"malformed log entry: {_short(raw)}")
    return entry_id, entry_type, content


def _short(raw: Any) -> str:
    try:
        return str(raw)[:120]
    except (RecursionError, ValueError):  # a pathologically nested value
        return f"<{type(raw).__name__}>"
