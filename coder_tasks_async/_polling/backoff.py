"""How a poller paces itself: fast while something changes, backing off with jitter
while idle or after transient errors.

Shared by log following, watching and waiting, so they all behave alike; what
each error means is :mod:`.error_policy`'s business.
"""

from __future__ import annotations

import math
import os
import random

from .._wire.errors import CoderError, RateLimitError
from .._wire.settings import MAX_RETRY_AFTER, MIN_PAUSE_AFTER_RATE_LIMIT, PollPolicy

__all__ = ["SHARED_RANDOM", "Backoff"]

#: The jitter source of every poller without its own: a ``random.Random`` is ~3 KB of
#: state, too much to hold per follower when one client follows thousands of tasks.
#: Jitter needs no independence between pollers, only that they do not move in step.
SHARED_RANDOM = random.Random()
if hasattr(os, "register_at_fork"):  # forked workers must not jitter in step either
    os.register_at_fork(after_in_child=SHARED_RANDOM.seed)


class Backoff:
    """The current polling interval of one poller (mutable; one per follower)."""

    __slots__ = ("_errors", "_rand", "interval", "policy")

    def __init__(self, policy: PollPolicy, rand: random.Random | None = None) -> None:
        self.policy = policy
        self.interval = policy.initial
        self._errors = 0
        self._rand = rand or SHARED_RANDOM

    def _jittered(self, value: float) -> float:
        spread = self.policy.jitter
        return value * (1.0 + self._rand.uniform(-spread, spread)) if spread else value

    def restart(self) -> None:
        """Something changed (a watch event said so): poll at the initial pace again."""
        self.interval = self.policy.initial

    def after_poll(self, changed: bool) -> float:
        """Seconds to wait after a successful poll."""
        self._errors = 0
        if changed:
            self.interval = self.policy.initial
        else:
            self.interval = min(self.policy.maximum, self.interval * self.policy.factor)
        return self._jittered(self.interval)

    def after_failure(self, exc: CoderError) -> float:
        """Seconds to wait after a transient error, honouring a 429's ``retry_after``."""
        if isinstance(exc, RateLimitError):
            return self.after_error(exc.retry_after, rate_limited=True)
        return self.after_error()

    def after_error(self, advised: float | None = None, *, rate_limited: bool = False) -> float:
        """Seconds to wait after a transient error (``advised``: the server's Retry-After).

        Advice that is not a finite positive number is ignored (the backoff
        applies); usable advice is capped at ``max(error_maximum, 60)``.  After a
        429 the wait is at least one second.
        """
        self._errors += 1
        grown = self.policy.initial * (self.policy.factor ** min(self._errors, 64))
        wait = self._jittered(min(self.policy.error_maximum, grown))
        if advised is not None and math.isfinite(advised) and advised > 0:
            wait = min(advised, max(self.policy.error_maximum, MAX_RETRY_AFTER))
        if rate_limited:
            wait = max(wait, MIN_PAUSE_AFTER_RATE_LIMIT)
        return wait
