"""The retry budget of one public call: attempts and a deadline, shared by every layer.

Made once per call and handed down, so nested layers never multiply their retries.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .._wire.settings import MIN_PAUSE_AFTER_RATE_LIMIT, RetryPolicy

if TYPE_CHECKING:
    from .clock import Clock

__all__ = ["RetryBudget"]


class RetryBudget:
    """The attempts and deadline of one public call, shared by every layer under it.

    Made once per call (``RetryBudget(policy, clock)``) and handed down, so a
    look-up inside a create, a re-read of a cut-short body and the transport's
    own retries all draw on the same ``attempts`` and the same ``deadline``: the
    budgets of nested layers never multiply.
    """

    __slots__ = ("_rand", "clock", "deadline_at", "policy", "started", "used")

    def __init__(self, policy: RetryPolicy, clock: Clock, rand: random.Random | None = None):
        self.policy = policy
        self.clock = clock
        self.started = clock.now()
        self.deadline_at = None if policy.deadline is None else self.started + policy.deadline
        #: HTTP attempts made so far under this call.
        self.used = 0
        self._rand = rand or random.Random()

    def remaining(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline)."""
        if self.deadline_at is None:
            return None
        return self.deadline_at - self.clock.now()

    def spend(self) -> None:
        """Count one HTTP attempt."""
        self.used += 1

    def refund(self) -> None:
        """Give back one attempt: a request the router refused (no such route) was
        discovery, not an attempt at the call itself."""
        self.used = max(self.used - 1, 0)

    def retries_left(self) -> bool:
        """Whether another attempt is allowed by the count alone."""
        return self.used < self.policy.attempts

    def backoff(self) -> float:
        """This call's backoff before its next attempt (full jitter)."""
        return self.policy.backoff(max(self.used - 1, 0), self._rand.random)

    def fits(self, delay: float) -> bool:
        """Whether another attempt after waiting ``delay`` seconds is within budget
        (:meth:`RetryPolicy.has_budget`, with this call's attempts and time so far)."""
        return self.policy.has_budget(self.used, self.clock.now() - self.started, delay)

    def wait_before_retry(self, advised: float | None, *, rate_limited: bool = False) -> float:
        """The wait before the next attempt: the server's (sanitized) advice, else backoff.

        After a 429 the wait is never shorter than :data:`MIN_PAUSE_AFTER_RATE_LIMIT`.
        """
        delay = advised if advised is not None else self.backoff()
        if rate_limited:
            delay = max(delay, MIN_PAUSE_AFTER_RATE_LIMIT)
        return delay
