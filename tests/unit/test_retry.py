"""The retry policy on its own: which failures repeat, how long to wait, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from coder_tasks_async import RetryPolicy
from coder_tasks_async._wire.settings import Failure, parse_retry_after


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_get_and_delete_retry_transient_statuses(status: int) -> None:
    policy = RetryPolicy()
    assert policy.should_retry_status("GET", status)
    assert policy.should_retry_status("DELETE", status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 500, 501])
def test_other_statuses_are_final(status: int) -> None:
    assert not RetryPolicy().should_retry_status("GET", status)


def test_post_repeats_only_when_provably_unhandled() -> None:
    policy = RetryPolicy()
    assert policy.should_retry_status("POST", 429)
    for status in (502, 503, 504):
        assert not policy.should_retry_status("POST", status)
    assert policy.should_retry_failure("POST", Failure.NOT_SENT)
    assert not policy.should_retry_failure("POST", Failure.AMBIGUOUS)
    assert not policy.should_retry_failure("PATCH", Failure.AMBIGUOUS)
    assert policy.should_retry_failure("GET", Failure.AMBIGUOUS)
    assert policy.should_retry_failure("DELETE", Failure.AMBIGUOUS)


def test_backoff_is_exponential_full_jitter_and_capped() -> None:
    policy = RetryPolicy(backoff_initial=0.5, backoff_max=3.0)
    assert [policy.backoff(n, lambda: 1.0) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.backoff(3, lambda: 0.0) == 0.0
    assert policy.backoff(1, lambda: 0.5) == 0.5


def test_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    assert RetryPolicy.none().attempts == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("60", 60.0),
        (" 1.5 ", 1.5),
        ("", None),
        (None, None),
        ("soon", None),
        # Unusable advice is ignored (the caller's backoff applies), never "wait 0".
        ("-3", None),
        ("0", None),
        ("nan", None),
        ("-inf", None),
        # Too long is capped at the documented maximum (coderd's 60 s window).
        ("1000000000", 60.0),
        ("inf", 60.0),
    ],
)
def test_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_retry_after_http_date() -> None:
    now = datetime(2025, 10, 27, 14, 0, 0, tzinfo=UTC)
    later = datetime(2025, 10, 27, 14, 0, 30, tzinfo=UTC)
    header = format_datetime(later, usegmt=True)
    assert parse_retry_after(header, now=now.timestamp()) == 30.0
    # A date already past, and one absurdly far ahead, are no advice at all.
    assert parse_retry_after(format_datetime(now, usegmt=True), now=later.timestamp()) is None
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=now.timestamp()) is None
    soon = format_datetime(datetime(2025, 10, 27, 14, 5, 0, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(soon, now=now.timestamp()) == 60.0  # five minutes, capped


def test_budget_counts_attempts_and_the_deadline() -> None:
    policy = RetryPolicy(attempts=3, deadline=10)
    assert policy.has_budget(1, elapsed=0, delay=1)
    assert not policy.has_budget(3, elapsed=0, delay=0)  # attempts used up
    assert not policy.has_budget(1, elapsed=8, delay=2.5)  # the wait would overrun
    assert RetryPolicy(deadline=None).has_budget(1, elapsed=1e9, delay=1e9)
