"""Properties of the pieces that stand between a hostile server and the caller: whatever
a header says, whatever a caller passes, the bounds hold.
"""

from __future__ import annotations

import math
import random
import re
from email.utils import format_datetime
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coder_tasks_async import PollPolicy, RetryPolicy
from coder_tasks_async._http.budget import RetryBudget
from coder_tasks_async._polling.backoff import Backoff
from coder_tasks_async._wire.protocol import validate_task_name
from coder_tasks_async._wire.redact import REDACTED, Redactor
from coder_tasks_async._wire.settings import MIN_PAUSE_AFTER_RATE_LIMIT, parse_retry_after
from coder_tasks_async.testing import FakeClock

NOW = 1_761_573_600.0  # 2025-10-27T14:00:00Z
headers = st.one_of(
    st.text(),
    st.floats().map(repr),
    st.floats().map(str),
    st.integers().map(str),
    st.datetimes(timezones=st.timezones()).map(lambda d: format_datetime(d)),
)
advice = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))


@given(headers, st.floats(min_value=0.001, max_value=1e6))
def test_retry_after_is_none_or_a_bounded_positive_wait(header: str, maximum: float) -> None:
    wait = parse_retry_after(header, now=NOW, maximum=maximum)
    assert wait is None or (math.isfinite(wait) and 0 < wait <= maximum)


@given(advice, st.booleans(), st.integers(min_value=0, max_value=200))
def test_a_poller_backoff_is_finite_and_never_spins_after_a_429(
    advised: float | None, rate_limited: bool, errors_before: int
) -> None:
    policy = PollPolicy(initial=0.5, maximum=2.0, error_maximum=4.0, jitter=0.1)
    backoff = Backoff(policy, random.Random(0))
    for _ in range(errors_before):
        backoff.after_error()
    wait = backoff.after_error(advised, rate_limited=rate_limited)
    assert math.isfinite(wait) and wait >= 0
    assert wait <= max(policy.error_maximum * (1 + policy.jitter), 60.0)
    if rate_limited:
        assert wait >= MIN_PAUSE_AFTER_RATE_LIMIT


@given(
    st.integers(min_value=1, max_value=10),
    st.one_of(st.none(), st.floats(min_value=0.1, max_value=1000)),
    st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)), max_size=30),
)
def test_one_budget_bounds_attempts_and_the_time_spent_waiting(
    attempts: int, deadline: float | None, advised: list[float | None]
) -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(attempts=attempts, deadline=deadline), clock)
    budget.spend()  # the first attempt
    for value in advised:  # nested layers asking the same budget for retries
        delay = budget.wait_before_retry(value, rate_limited=value is None)
        if not budget.fits(delay):
            continue
        clock.advance(delay)
        budget.spend()
    assert budget.used <= attempts
    if deadline is not None:
        assert clock.now() < deadline


@given(st.text(max_size=40))
def test_an_accepted_task_name_cannot_change_the_route(name: str) -> None:
    safe = bool(re.fullmatch(r"[A-Za-z0-9-]{1,32}", name))
    if not safe:
        with pytest.raises(ValueError, match="invalid task name"):
            validate_task_name(name)
        return
    try:
        validate_task_name(name)
    except ValueError:
        return  # refused for a rule of its own (hyphen placement, a reserved name)
    assert 1 <= len(name) <= 32
    assert quote(name, safe="") == name and name.strip(".") == name


@given(st.text(), st.text())
def test_the_token_never_survives_redaction(before: str, after: str) -> None:
    token = "AbCdEfGhIj-0123456789abcdefghijkl"
    secret = token.split("-", 1)[1]
    redactor = Redactor(token)
    for text in (before + token + after, before + secret + after, before + quote(token) + after):
        scrubbed = redactor.text(text)
        assert secret not in scrubbed
        assert REDACTED in scrubbed
