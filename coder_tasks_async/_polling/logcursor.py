"""The log cursor: what a follower has already handed out, as a pure state machine.

The logs endpoint returns the whole conversation on every poll.  Ids are dense
indices; only the newest output entry changes while the agent works; entries
before it are final; ids restart when the agent restarts; a paused task answers
from a stored snapshot (docs/compatibility.md §5).  The cursor turns each poll into
the few steps that matter (new entry, update, reset) by looking only at the tail
of the conversation: a poll of a 10,000-entry conversation where the last entry
grew costs one digest, not 10,000.

Memory is bounded: the cursor keeps a digest of the last ``WINDOW`` entries it
handed out, never their text.  It is saved with :meth:`LogCursor.dumps` and
restored with :meth:`LogCursor.loads` so a restarted bot resumes without repeats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import Enum
from typing import Any

import attrs
import orjson

__all__ = ["LogCursor", "Step", "StepKind"]

#: How many recent entries the cursor remembers (ids, types and content digests).
WINDOW = 32
_FORMAT = 1


class StepKind(Enum):
    """What one step of a poll means for the caller."""

    NEW = "new"
    UPDATE = "update"
    RESET = "reset"
    #: Already handed out before a reset (same type and content): record, don't emit.
    SKIP = "skip"


def digest(content: str) -> str:
    """A short, stable content digest (stable across processes, unlike ``hash``)."""
    return hashlib.blake2b(content.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


@attrs.define(frozen=True, slots=True)
class Step:
    """One planned step; ``raw`` is the entry's decoded JSON (``None`` for a reset)."""

    kind: StepKind
    id: int = -1
    type: str = ""
    digest: str = ""
    raw: dict[str, Any] | None = None
    snapshot: bool = False
    #: For a reset: the new source continues the same conversation (keep the cursor).
    keep: bool = False


@attrs.define(slots=True)
class _Seen:
    type: str
    digest: str
    #: A newer entry existed when this one was recorded, so it can no longer change.
    final: bool


@attrs.define(slots=True)
class LogCursor:
    """Where a follower is in a task's conversation.

    Example::

        saved = follower.cursor.dumps()          # e.g. into a database
        ...
        coder.follow_logs(ref, cursor=LogCursor.loads(saved))
    """

    last_id: int | None = None
    snapshot: bool | None = None
    _window: dict[int, _Seen] = attrs.field(factory=dict, alias="window")
    #: After a reset: what the caller held before it, recognised (and not handed out
    #: again) among the new conversation's ids up to ``_previous_upto``, until the
    #: first genuinely new entry.  A snapshot of the same tail, a restored agent, or a
    #: restarted agent's identical first screen are not repeats; a later message whose
    #: text happens to match an old one is still new.
    _previous: frozenset[tuple[str, str]] = attrs.field(factory=frozenset, alias="previous")
    _previous_upto: int = attrs.field(default=-1, alias="previous_upto")

    def plan(self, raw_logs: Sequence[Any], snapshot: bool, *, settled: bool | None) -> list[Step]:
        """The steps that bring the caller from this cursor to ``raw_logs`` (pure).

        ``settled=None`` is live mode: new entries and updates of the newest one.
        ``True``/``False`` is settled mode: an entry is handed out once, when a newer
        one exists or (for the newest) when ``settled`` says the task stopped working.
        Apply each step with :meth:`commit` once the caller has it.
        """
        window = self._window
        steps: list[Step] = []
        tail = _tail(raw_logs, min(window) if window else None)
        flip = self.snapshot is not None and snapshot != self.snapshot
        restart = flip or (bool(window) and _conversation_restarted(self, raw_logs, tail))
        # A switch between the live agent and the stored snapshot that shows the same
        # conversation (the snapshot is its tail; a restored agent has it all) is
        # reported, but nothing already handed out is handed out again.
        continued = flip and _continues(self, raw_logs, tail)
        known = window
        previous, upto = self._previous, self._previous_upto
        last_id = self.last_id
        if restart:
            newest = _newest_id(raw_logs)
            steps.append(Step(StepKind.RESET, id=newest, snapshot=snapshot, keep=continued))
            if not continued:
                previous, upto = self._recognition(newest)
                known, last_id, tail = {}, None, range(len(raw_logs))
        count = len(raw_logs)
        for pos in tail:
            raw = raw_logs[pos]
            entry_id, entry_type, content = entry_fields(raw)
            newer_exists = pos < count - 1
            seen = known.get(entry_id)
            if seen is None and last_id is not None and entry_id <= last_id:
                continue  # older than the window: handed out long ago
            if seen is not None and seen.final:
                continue  # verified unchanged by the restart check
            if settled is not None and not newer_exists and not settled:
                break  # settled mode: the newest entry may still change
            entry_digest = digest(content)
            if seen is None:
                repeat = entry_id <= upto and (entry_type, entry_digest) in previous
                kind = StepKind.SKIP if repeat else StepKind.NEW
                if kind is StepKind.NEW:
                    previous, upto = frozenset(), -1  # the first new entry ends recognition
            elif seen.digest != entry_digest:
                kind = StepKind.UPDATE
            else:
                continue
            steps.append(Step(kind, entry_id, entry_type, entry_digest, raw, snapshot))
        if not steps and self.snapshot is None:
            steps.append(Step(StepKind.SKIP, -1, snapshot=snapshot))
        return steps

    # -- committing ---------------------------------------------------------------

    def commit(self, step: Step) -> None:
        """Record that the caller now has ``step``."""
        if step.kind is StepKind.RESET:
            self.snapshot = step.snapshot
            if step.keep:
                return
            self._previous, self._previous_upto = self._recognition(step.id)
            self._window.clear()
            self.last_id = None
            self.snapshot = step.snapshot
            return
        if step.id < 0:  # first poll of an empty conversation: only the snapshot flag
            self.snapshot = step.snapshot
            return
        if step.kind is StepKind.NEW:
            self._previous, self._previous_upto = frozenset(), -1
        for seen in self._window.values():
            if not seen.final:
                seen.final = True  # a newer entry exists now
        self._window[step.id] = _Seen(step.type, step.digest, final=False)
        self._window.pop(step.id - WINDOW, None)
        if len(self._window) > WINDOW:  # ids not dense: prune the oldest
            for old in sorted(self._window)[: len(self._window) - WINDOW]:
                del self._window[old]
        if self.last_id is None or step.id > self.last_id:
            self.last_id = step.id
        self.snapshot = step.snapshot

    def _recognition(self, newest: int) -> tuple[frozenset[tuple[str, str]], int]:
        """What a reset remembers of what the caller holds, and up to which id.

        A reset to an empty conversation (an empty snapshot) keeps what an earlier
        reset remembered instead of forgetting it.
        """
        if self._window:
            return frozenset((s.type, s.digest) for s in self._window.values()), newest
        return self._previous, max(newest, self._previous_upto)

    # -- persistence --------------------------------------------------------------

    def dumps(self) -> str:
        """A compact JSON string (a few kilobytes at most) to save and pass back later."""
        return orjson.dumps(
            {
                "v": _FORMAT,
                "last": self.last_id,
                "snap": self.snapshot,
                "win": [[i, s.type, s.digest, s.final] for i, s in sorted(self._window.items())],
                "prev": sorted(self._previous),
                "upto": self._previous_upto,
            }
        ).decode()

    @classmethod
    def loads(cls, text: str | bytes) -> LogCursor:
        """Restore a cursor saved with :meth:`dumps`; a foreign string is a ``ValueError``."""
        try:
            data = orjson.loads(text)
            if data.get("v") != _FORMAT:
                raise ValueError(f"unsupported cursor format {data.get('v')!r}")
            window = {int(i): _Seen(str(t), str(d), bool(f)) for i, t, d, f in data["win"]}
            last = data["last"]
            return cls(
                last_id=None if last is None else int(last),
                snapshot=None if data["snap"] is None else bool(data["snap"]),
                window=window,
                previous=frozenset((str(t), str(d)) for t, d in data.get("prev", [])),
                previous_upto=int(data.get("upto", -1)),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a log cursor saved by LogCursor.dumps(): {exc}") from None

    def __len__(self) -> int:
        return len(self._window)


def entry_fields(raw: Any) -> tuple[int, str, str]:
    """(id, type, content) of one raw entry; ``ValueError`` when it is malformed."""
    try:
        entry_id, entry_type, content = raw["id"], raw["type"], raw["content"]
    except (KeyError, TypeError):
        raise ValueError(f"malformed log entry: {str(raw)[:120]}") from None
    if type(entry_id) is not int or type(entry_type) is not str or type(content) is not str:
        raise ValueError(f"malformed log entry: {str(raw)[:120]}")
    return entry_id, entry_type, content


def _newest_id(raw_logs: Sequence[Any]) -> int:
    return entry_fields(raw_logs[-1])[0] if raw_logs else -1


def _tail(raw_logs: Sequence[Any], window_start: int | None) -> range:
    """Positions worth looking at: the window and anything after it, found from the end."""
    if window_start is None:
        return range(len(raw_logs))
    pos = len(raw_logs)
    while pos > 0:
        entry = raw_logs[pos - 1]
        if not isinstance(entry, dict) or type(entry.get("id")) is not int:
            break
        if entry["id"] < window_start:
            break
        pos -= 1
    return range(pos, len(raw_logs))


def _continues(cursor: LogCursor, raw_logs: Sequence[Any], tail: range) -> bool:
    """The logs show the conversation the window remembers: they share ids with it,
    and every shared entry has the same type and (if it was final) the same content."""
    shared = False
    for pos in tail:
        entry_id, entry_type, content = entry_fields(raw_logs[pos])
        seen = cursor._window.get(entry_id)
        if seen is None:
            continue
        if seen.type != entry_type or (seen.final and digest(content) != seen.digest):
            return False
        shared = True
    return shared


def _conversation_restarted(cursor: LogCursor, raw_logs: Sequence[Any], tail: range) -> bool:
    """Ids went backwards, or an entry that could no longer change did change."""
    present: dict[int, tuple[str, str]] = {}
    for pos in tail:
        entry_id, entry_type, content = entry_fields(raw_logs[pos])
        present[entry_id] = (entry_type, content)
    newest = max(present) if present else -1
    if cursor.last_id is not None and newest < cursor.last_id:
        return True
    for entry_id, seen in cursor._window.items():
        found = present.get(entry_id)
        if found is None:
            return True  # a remembered id vanished
        if found[0] != seen.type:
            return True
        if seen.final and digest(found[1]) != seen.digest:
            return True
    return False
