"""The AgentAPI conversation behind a task, rendered lazily from the clock.

Mirrors what docs/compatibility.md §5 describes: ids are dense indices, message 0 is the
agent's initial screen, the last agent message is rewritten in place (content
grows and its time moves) while the agent works, and earlier messages are final.
Nothing is stored per poll; every render is a pure function of the turns and
``now``, which keeps the fake deterministic under a :class:`FakeClock`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

from ._jsonio import format_ns

__all__ = ["Conversation", "Timings", "welcome_screen"]

_STEPS = (
    "Read(README.md)\n  ⎿  Read 88 lines",
    'Search(pattern: "TODO")\n  ⎿  Found 3 files',
    "Update(src/main.py)\n  ⎿  Updated src/main.py with 4 additions and 1 removal",
    "Bash(make test)\n  ⎿  ok  all tests passed",
    "Write(NOTES.md)\n  ⎿  Wrote 12 lines",
)


@attrs.define(frozen=True, slots=True, kw_only=True)
class Timings:
    """Lifecycle durations in clock seconds.

    A start build's job waits ``pending`` seconds for a provisioner (the task is
    ``pending``), then the task is ``initializing`` for ``initializing`` seconds: the
    job runs for the first ``start_job`` of them (a pause or delete is refused with 409
    meanwhile), then the agent starts.  Then the task is ``active``.  A pause is a stop
    build whose job runs ``stop_job`` seconds (the task is ``unknown`` meanwhile and its
    logs answer 409), then the task is ``paused``.  Each agent reply grows by one line
    every ``chunk_interval`` seconds, ``chunks`` times, then is final.
    """

    pending: float = 1.0
    initializing: float = 2.0
    chunk_interval: float = 1.0
    chunks: int = 4
    start_job: float = 1.0
    stop_job: float = 1.0

    def __attrs_post_init__(self) -> None:
        if min(self.pending, self.initializing, self.start_job, self.stop_job) < 0:
            raise ValueError("Timings must not be negative")
        if self.start_job > self.initializing:
            # The job is part of initializing; keep the documented total.
            object.__setattr__(self, "start_job", self.initializing)

    def scaled(self, speed: float) -> Timings:
        """Every duration divided by ``speed`` (``chunks`` kept), e.g. for a demo in real time."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        return Timings(
            pending=self.pending / speed,
            initializing=self.initializing / speed,
            chunk_interval=self.chunk_interval / speed,
            chunks=self.chunks,
            start_job=self.start_job / speed,
            stop_job=self.stop_job / speed,
        )

    @property
    def reply_duration(self) -> float:
        """Seconds an agent reply keeps the agent busy."""
        return self.chunk_interval * self.chunks


def welcome_screen(workdir: str) -> str:
    """The box-drawing initial screen, like ``fixtures/task_logs.json`` message 0."""
    width = 51
    rows = ["✻ Welcome to Claude Code!", "", f"  cwd: /home/coder/{workdir}"]
    body = "\n".join(f"│ {row[: width - 1]:<{width - 1}}│" for row in rows)
    return f"╭{'─' * width}╮\n{body}\n╰{'─' * width}╯"


def summarize(prompt: str, limit: int = 60) -> str:
    """First line of ``prompt``, shortened for status messages."""
    line = prompt.strip().splitlines()[0] if prompt.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


@attrs.define(slots=True)
class _Turn:
    """One message; ``reply_to`` set means an agent reply that grows over time."""

    type: str
    at: float
    content: str = ""
    reply_to: str | None = None
    # Rendered dict once the message can no longer change (saves work on hot polls).
    final: dict[str, Any] | None = None


class Conversation:
    """Messages of one AgentAPI process; starts to exist at ``base_t``."""

    __slots__ = ("_turns", "base_t", "timings")

    def __init__(
        self, base_t: float, timings: Timings, workdir: str, prompt: str | None = None
    ) -> None:
        self.base_t: float = base_t
        self.timings: Timings = timings
        self._turns: list[_Turn] = [_Turn("output", base_t, welcome_screen(workdir))]
        if prompt:
            self.send(prompt, base_t)

    def rebase(self, base_t: float) -> None:
        """Move a conversation that has not started yet to start at ``base_t`` (its start
        build ended earlier or later than planned).  Nothing can have been sent to it:
        input is refused until the agent is up."""
        if math.isinf(base_t) or base_t == self.base_t:
            return
        delta = base_t - self.base_t
        self.base_t = base_t
        for turn in self._turns:
            turn.at += delta
            turn.final = None

    def send(self, text: str, at: float) -> None:
        """Append the user's ``text`` and the agent reply that starts growing at ``at``."""
        self._turns.append(_Turn("input", at, text))
        self._turns.append(_Turn("output", at, reply_to=text))

    def _last_reply(self) -> _Turn | None:
        last = self._turns[-1]
        return last if last.reply_to is not None else None

    def busy(self, now: float) -> bool:
        """True while the last agent reply is still growing (AgentAPI status ``running``)."""
        reply = self._last_reply()
        return reply is not None and now - reply.at + 1e-9 < self.timings.reply_duration

    def busy_until(self, now: float) -> float:
        """When :meth:`busy`/:meth:`state` next change by time alone (``inf`` if never)."""
        reply = self._last_reply()
        if reply is None:
            return math.inf
        end = reply.at + self.timings.reply_duration - 1e-9
        return end if now < end else math.inf

    def state(self, now: float) -> tuple[str, str, float]:
        """``(state, message, changed_at)`` as the agent would report it at ``now``."""
        reply = self._last_reply()
        if reply is None:
            return "idle", "Waiting for input", self._turns[-1].at
        assert reply.reply_to is not None
        if self.busy(now):
            return "working", f"Working on it: {summarize(reply.reply_to, 40)}", reply.at
        done_at = reply.at + self.timings.reply_duration
        return "idle", f"Done: {summarize(reply.reply_to, 40)}", done_at

    def entries(self, now: float, log_ns: Callable[[float, int], int]) -> list[dict[str, Any]]:
        """The whole conversation as ``TaskLogEntry`` dicts (``time`` as ns via ``log_ns``)."""
        out: list[dict[str, Any]] = []
        for i, turn in enumerate(self._turns):
            if turn.final is not None:
                out.append(turn.final)
                continue
            if turn.reply_to is None:
                entry = {
                    "id": i,
                    "content": turn.content,
                    "type": turn.type,
                    "time": format_ns(log_ns(turn.at, i)),
                }
                turn.final = entry
                out.append(entry)
                continue
            content, changed_at, final = self._render_reply(turn, now)
            entry = {
                "id": i,
                "content": content,
                "type": "output",
                "time": format_ns(log_ns(changed_at, i)),
            }
            if final:
                turn.final = entry
            out.append(entry)
        return out

    def _render_reply(self, turn: _Turn, now: float) -> tuple[str, float, bool]:
        t = self.timings
        assert turn.reply_to is not None
        if t.chunk_interval > 0:
            k = min(t.chunks, int((now - turn.at) / t.chunk_interval + 1e-9))
        else:
            k = t.chunks
        k = max(k, 0)
        topic = summarize(turn.reply_to)
        lines = [f"● Looking at: {topic}"]
        lines += [f"● {_STEPS[(i + len(topic)) % len(_STEPS)]}" for i in range(k)]
        final = k >= t.chunks
        if final:
            lines += ["", f"● Done: {topic}"]
        else:
            lines += ["", "✻ Working… (esc to interrupt)"]
        return "\n".join(lines), turn.at + k * t.chunk_interval, final
