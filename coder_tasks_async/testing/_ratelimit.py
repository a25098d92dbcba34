"""coderd's API rate limiter (``httpmw.RateLimit`` on ``go-chi/httprate``), on the fake clock."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import attrs

__all__ = ["RateDecision", "ServerRateLimit", "limited_message"]

WINDOW = 60.0


@attrs.define(frozen=True, slots=True)
class RateDecision:
    """Outcome of counting one request."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> tuple[tuple[str, str], ...]:
        """``X-RateLimit-*`` headers, plus ``Retry-After: 60`` when refused."""
        h = (
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", str(self.reset)),
        )
        return h if self.allowed else (*h, ("Retry-After", "60"))


def limited_message(limit: int) -> str:
    """The 429 body message coderd sends."""
    return f"You've been rate limited for sending more than {limit} requests in 1m0s."


class ServerRateLimit:
    """Sliding 60 s window per key (on the task routes: client address + URL path)."""

    def __init__(self, limit: int, unix_at: Callable[[float], float]) -> None:
        self.limit = limit
        self._unix_at = unix_at
        self._hits: dict[tuple[str, ...], deque[float]] = {}

    def hit(self, key: tuple[str, ...], now: float) -> RateDecision:
        """Count a request at ``now`` (refused requests are not counted)."""
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - WINDOW:
            hits.popleft()
        allowed = len(hits) < self.limit
        if allowed:
            hits.append(now)
        reset = math.ceil(self._unix_at(hits[0] + WINDOW)) if hits else 0
        return RateDecision(allowed, self.limit, max(self.limit - len(hits), 0), reset)
