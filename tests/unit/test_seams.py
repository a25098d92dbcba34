"""The seams between layers stay where docs/architecture.md draws them (issue 25).

* The polling and fan-out layers and the client reach the request plumbing only
  through ``_endpoints/pinned.py``, never through a private attribute or method of the
  client (they once called ``_get_task_at``, ``_get_logs_raw_at`` and
  ``_open_workspace_watch``).
* Every endpoint that names a release row names one that exists.
* The poller's error policy keeps its order: the first matching row decides.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from helpers import TESTS

import coder_tasks_async as sdk
from coder_tasks_async._endpoints.releases import TaskTarget
from coder_tasks_async._polling.error_policy import Verdict, judge
from coder_tasks_async._wire.releases import RELEASES

PACKAGE = TESTS.parent / "coder_tasks_async"
#: What sits above the endpoints and holds a client.
ABOVE = [
    *sorted((PACKAGE / "_polling").glob("*.py")),
    *sorted((PACKAGE / "_fanout").glob("*.py")),
    PACKAGE / "_client.py",
]
#: The client's private request plumbing, and the private methods pollers once used.
_PRIVATE = re.compile(
    r"\.(_calls|_transport|_streams|_get_task_at|_get_logs_raw_at|_open_workspace_watch)\b"
)


@pytest.mark.parametrize("path", ABOVE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_layers_above_use_no_private_part_of_the_client(path: Path) -> None:
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if _PRIVATE.search(line)
    ]
    assert not found, "use _endpoints/pinned.py instead:\n" + "\n".join(found)


def _since_literals() -> list[str]:
    """Every ``since="..."`` the endpoint methods pass to a ``TaskTarget``."""
    tree = ast.parse((PACKAGE / "_endpoints" / "tasks.py").read_text())
    return [
        keyword.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "since"
        and isinstance(keyword.value, ast.Constant)
        and isinstance(keyword.value.value, str)
    ]


def test_every_release_row_an_endpoint_names_exists() -> None:
    named = _since_literals()
    assert named, "the endpoints name no release rows: has TaskTarget(since=...) moved?"
    assert set(named) <= set(RELEASES)


def test_a_target_naming_no_release_row_is_refused_at_once() -> None:
    with pytest.raises(KeyError, match="release table"):
        TaskTarget("fix-login", "me", "/name", since="rename_tsk")


def _api(cls: type[sdk.CoderAPIError], status: int) -> sdk.CoderError:
    return cls(status=status, message="m")


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        # A NotFoundError too, but a route the server lacks will not heal.
        (_api(sdk.RouteNotFoundError, 404), Verdict.RAISE),
        (_api(sdk.AuthenticationError, 401), Verdict.RAISE),
        (_api(sdk.PermissionDeniedError, 403), Verdict.RAISE),
        (_api(sdk.NotFoundError, 404), Verdict.GONE),
        (_api(sdk.TaskNotActiveConflict, 409), Verdict.NOT_READY),  # a ConflictError too
        (_api(sdk.TaskNotActiveBadRequest, 400), Verdict.NOT_READY),  # a BadRequestError too
        (_api(sdk.AgentBusyConflict, 409), Verdict.NOT_READY),
        (_api(sdk.AgentBusyServerError, 502), Verdict.NOT_READY),  # a ServerError too
        (_api(sdk.ConflictError, 409), Verdict.RAISE),
        (_api(sdk.BadRequestError, 400), Verdict.RAISE),
        (_api(sdk.RateLimitError, 429), Verdict.RETRY),
        (_api(sdk.ServerError, 503), Verdict.RETRY),
        (sdk.CoderTimeoutError("slow"), Verdict.RETRY),
        (sdk.CoderDecodeError("cut short"), Verdict.RETRY),
        (sdk.CoderError("anything else"), Verdict.RAISE),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, sdk.CoderError) else str(value),
)
def test_the_error_policy_decides_by_its_first_matching_row(
    error: sdk.CoderError, verdict: Verdict
) -> None:
    assert judge(error) is verdict
