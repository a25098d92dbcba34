"""Odd caller input is refused before any request, with a ValueError naming the rule;
every exported error survives pickling exactly.
"""

from __future__ import annotations

import inspect
import math
import pickle
from typing import Any

import pytest
from helpers import TESTS

import coder_tasks_async
from coder_tasks_async import (
    AmbiguousRequestError,
    BuildFailedError,
    CoderAPIError,
    CoderDecodeError,
    CoderError,
    CoderTasksClient,
    CoderTimeoutError,
    CoderTransportError,
    LeaseLostError,
    PollPolicy,
    RateLimiter,
    RateLimitError,
    RetryPolicy,
    TaskNotActiveError,
    TaskNotReadyError,
    TaskPausedError,
    Timeouts,
    UnsupportedByServerError,
    ValidationError,
    WaitTimeoutError,
    WorkspaceBuild,
)
from coder_tasks_async._wire.converter import decode
from coder_tasks_async._wire.models import Task
from coder_tasks_async.testing import FakeCoder

pytestmark = pytest.mark.anyio

FIXTURES = TESTS / "fixtures" / "v2.28"
BAD_NAMES = [
    ("..", "only ASCII letters"),
    (".", "only ASCII letters"),
    ("alice/..", "only ASCII letters"),
    ("fix login", "only ASCII letters"),
    ("tâche", "only ASCII letters"),
    ("a%2Fb", "only ASCII letters"),
    ("-x-", "hyphens must sit between"),
    ("a--b", "hyphens must sit between"),
    ("a" * 33, "more than 32"),
    ("new", "reserved"),
    ("alice/create", "reserved"),  # case-sensitive, as Coder's NameValid: "Create" is fine
]


@pytest.mark.parametrize(("ref", "rule"), BAD_NAMES)
async def test_bad_task_names_never_reach_the_server(
    fake_coder: FakeCoder, coder: CoderTasksClient, ref: str, rule: str
) -> None:
    for call in (coder.get_task, coder.get_logs, coder.delete_task):
        with pytest.raises(ValueError, match=rule):
            await call(ref)
    with pytest.raises(ValueError, match=rule):
        await coder.send_input(ref, "hi")
    name = ref.rpartition("/")[2]
    with pytest.raises(ValueError, match=rule):
        await coder.create_task("x", template_version_id=fake_coder.template_version_id, name=name)
    assert not fake_coder.requests


@pytest.mark.parametrize("user", ["a b", "../x", "bob/", "ü", "-bob"])
async def test_bad_owners_never_reach_the_server(
    fake_coder: FakeCoder, coder: CoderTasksClient, user: str
) -> None:
    with pytest.raises(ValueError, match=r"invalid (owner|task reference)"):
        await coder.get_task(f"{user}/fix-login")
    with pytest.raises(ValueError, match="invalid owner"):
        await coder.get_task("fix-login", owner=user)
    assert not fake_coder.requests


async def test_good_references_still_pass(fake_coder: FakeCoder, coder: CoderTasksClient) -> None:
    task = await coder.create_task(
        "x", template_version_id=fake_coder.template_version_id, name="Fix-Login-2"
    )
    for ref in (str(task.id), str(task.id).upper(), task.id.hex, "alice/fix-login-2"):
        assert (await coder.get_task(ref)).id == task.id
    assert (await coder.get_task("fix-login-2", owner=str(task.owner_id))).id == task.id


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Timeouts(total=math.nan), "total"),
        (lambda: Timeouts(total=math.inf), "total"),
        (lambda: Timeouts(connect=math.nan), "connect"),
        (lambda: Timeouts(read=-1), "read"),
        (lambda: PollPolicy(maximum=0), "maximum"),
        (lambda: PollPolicy(initial=math.nan), "initial"),
        (lambda: PollPolicy(error_maximum=-5), "error_maximum"),
        (lambda: PollPolicy(initial=20, maximum=10), "initial"),
        (lambda: PollPolicy(factor=0.5), "factor"),
        (lambda: PollPolicy(jitter=math.nan), "jitter"),
        (lambda: PollPolicy(jitter=1.5), "jitter"),
        (lambda: RetryPolicy(deadline=math.nan), "deadline"),
        (lambda: RetryPolicy(deadline=0), "deadline"),
        (lambda: RetryPolicy(backoff_max=math.inf), "backoff_max"),
        (lambda: RetryPolicy(backoff_initial=10, backoff_max=1), "backoff_initial"),
        (lambda: RetryPolicy(max_retry_after=-1), "max_retry_after"),
        (lambda: RetryPolicy(attempts=2.5), "attempts"),  # type: ignore[arg-type]
    ],
)
def test_policy_numbers_are_finite_positive_and_ordered(make: Any, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make()


async def test_wait_numbers_are_checked_before_any_request(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    with pytest.raises(ValueError, match="timeout"):
        await coder.wait_for("fix-login", until="active", timeout=math.nan)
    with pytest.raises(ValueError, match="timeout"):
        await coder.wait_for("fix-login", until="active", timeout=-1)
    with pytest.raises(ValueError, match="ready_timeout"):
        await coder.send_input("fix-login", "hi", wait_ready=True, ready_timeout=math.nan)
    with pytest.raises(ValueError, match="idle_timeout"):
        coder.follow_logs("fix-login", idle_timeout=math.inf)
    with pytest.raises(ValueError, match="idle_timeout"):
        coder.follow_many(idle_timeout=math.nan)
    with pytest.raises(ValueError, match="margin"):
        RateLimiter(coder, margin=math.nan)
    with pytest.raises(ValueError, match="per_minute"):
        RateLimiter(coder, per_minute=math.nan)  # type: ignore[arg-type]
    assert not fake_coder.requests


def test_sane_policies_are_accepted() -> None:
    assert RetryPolicy(deadline=None).deadline is None
    assert PollPolicy(initial=0.1, maximum=0.1, error_maximum=0.1, jitter=0).initial == 0.1
    assert Timeouts(connect=1, read=2, total=3).total == 3


@pytest.mark.parametrize(
    "token",
    [
        "abcdefghij-\x0b0123456789abcdefghijk",
        "abcdefghij-\x1b0123456789abcdefghijk",
        "abcdefghij-\x7f0123456789abcdefghijk",
        "abcdefghij-\x850123456789abcdefghijk",
        "abcdefghij-\ud8000123456789abcdefghijk",
        "abcdefghij-é0123456789abcdefghijk",
        "abcdefghij 0123456789abcdefghijkl",
        "abcdefghij-\r\nX-Evil: 1",
    ],
)
def test_tokens_a_header_cannot_carry_are_refused(token: str) -> None:
    with pytest.raises(ValueError, match="token") as info:
        CoderTasksClient("https://coder.example.com", token=token)
    assert token.strip() not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://exa mple.com",
        "http://exa\tmple.com",
        "http://exa\x00mple.com",
        "https://coder.example.com\x7f",
        "http://[not-ipv6]/",
    ],
)
def test_malformed_hosts_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="Coder URL"):
        CoderTasksClient(url, token="abcdefghij-0123456789abcdefghijk")


def test_good_hosts_are_accepted() -> None:
    for url in ("http://127.0.0.1:3000", "http://[::1]:3000", "https://bücher.example"):
        CoderTasksClient(url, token="abcdefghij-0123456789abcdefghijk")


# -- pickling ---------------------------------------------------------------------------------


def _task() -> Task:
    return decode((FIXTURES / "task.json").read_bytes(), Task)


def _samples() -> dict[type[BaseException], BaseException]:
    api: dict[str, Any] = {
        "status": 409,
        "message": "Workspace exists.",
        "detail": "more",
        "validations": (ValidationError(field="name", detail="taken"),),
        "method": "POST",
        "url": "https://coder.example.com/api/v2/tasks/me",
        "headers": {"X-Coder-Build-Version": "v2.28.0"},
        "body": '{"message": "Workspace exists."}',
    }
    samples: dict[type[BaseException], BaseException] = {
        CoderError: CoderError("plain"),
        CoderTransportError: CoderTransportError("reset", method="GET", url="http://x/"),
        CoderTimeoutError: CoderTimeoutError("timed out", method="GET", url="http://x/"),
        AmbiguousRequestError: AmbiguousRequestError("lost", method="POST", url="http://x/"),
        CoderDecodeError: CoderDecodeError(
            "bad", path="tasks[0].id", snippet="{", method="GET", url="http://x/", invalid_json=True
        ),
        UnsupportedByServerError: UnsupportedByServerError(
            "pause", minimum_version="v2.31", server_version="v2.28.0"
        ),
        TaskNotReadyError: TaskNotReadyError("paused", _task()),
        TaskPausedError: TaskPausedError("paused", _task()),
        WaitTimeoutError: WaitTimeoutError("too slow", _task()),
        BuildFailedError: BuildFailedError("failed", WorkspaceBuild(id=_task().id)),
        RateLimitError: RateLimitError(retry_after=60.0, **{**api, "status": 429}),
        TaskNotActiveError: TaskNotActiveError(task_status="paused", **api),
        LeaseLostError: LeaseLostError("0b7c1f0e-task", 3),
    }
    for cls in _exported_errors():
        if cls not in samples and issubclass(cls, CoderAPIError):
            samples[cls] = cls(**api)
        elif cls not in samples:
            samples[cls] = cls("closed")  # ClientClosedError and any plain subclass
    return samples


def _exported_errors() -> list[type[BaseException]]:
    names = coder_tasks_async.__all__
    objects = [getattr(coder_tasks_async, n) for n in names]
    return [o for o in objects if inspect.isclass(o) and issubclass(o, BaseException)]


@pytest.mark.parametrize("cls", _exported_errors(), ids=lambda c: c.__name__)
def test_every_exported_error_survives_pickling(cls: type[BaseException]) -> None:
    exc = _samples()[cls]
    assert type(exc) is cls
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is cls
    assert str(back) == str(exc)
    assert repr(back) == repr(exc)
    assert vars(back) == vars(exc)
