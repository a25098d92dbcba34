"""Every row of the CLI's error table (``_error_messages.ROWS``): its message and hint."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest

import coder_tasks_async as sdk
from coder_tasks_async import ValidationError
from coder_tasks_async.cli._error_messages import ROWS, CliError, Subject, describe

URL = "https://coder.example.com/api/v2/tasks/me/fix"
TASK = Subject(about="task alice/fix", url="https://coder.example.com")


def api(cls: type, status: int, message: str = "m", **extra: Any) -> Any:
    return cls(status=status, message=message, method="GET", url=URL, **extra)


#: Row name → (exception, subject, expected message, expected hint or None).
CASES: dict[str, tuple[BaseException, Subject, str, str | None]] = {
    "CliError": (CliError("it broke", "do this"), TASK, "it broke", "do this"),
    "RouteNotFoundError": (
        api(sdk.RouteNotFoundError, 404, "Route not found."), TASK,
        "https://coder.example.com has no such API route (HTTP 404): is it a Coder server "
        "with AI tasks (v2.26 or later)?", None,
    ),
    "NotFoundError": (
        api(sdk.NotFoundError, 404), TASK, "task alice/fix not found (or you cannot see it)",
        "list yours with `coder-tasks list`, or everyone's with `coder-tasks list -a`",
    ),
    "TaskNotActiveError": (
        api(sdk.TaskNotActiveError, 409, task_status="paused"), TASK, "task alice/fix is paused",
        "without --no-resume and --no-wait-ready, `coder-tasks send` resumes it first",
    ),
    "AgentBusyError": (
        api(sdk.AgentBusyError, 409), TASK,
        "the agent of task alice/fix is busy and cannot take input now",
        "without --no-wait-ready, `coder-tasks send` waits until it is idle",
    ),
    "RateLimitError": (
        api(sdk.RateLimitError, 429, retry_after=7.2), TASK,
        "rate limited by the server (HTTP 429): retry in 8s", None,
    ),
    "AuthenticationError": (
        api(sdk.AuthenticationError, 401, "You are signed out.", detail="API key expired"), TASK,
        "not authenticated (HTTP 401): You are signed out. (API key expired)",
        "check --token / $CODER_SESSION_TOKEN, or run `coder login`",
    ),
    "PermissionDeniedError": (
        api(sdk.PermissionDeniedError, 403, "Forbidden."), TASK,
        "permission denied on task alice/fix (HTTP 403): Forbidden.", None,
    ),
    "ConflictError": (
        api(sdk.ConflictError, 409, "Name taken.",
            validations=(ValidationError(field="name", detail="in use"),)), TASK,
        "conflict on task alice/fix (HTTP 409): Name taken; invalid name: in use", None,
    ),
    "CoderAPIError": (
        api(sdk.BadRequestError, 400, "Invalid query.",
            validations=(ValidationError(field="organization", detail="unknown"),)), Subject(),
        "request refused (HTTP 400): Invalid query; organization: unknown", "check --org",
    ),
    "CoderDecodeError": (
        sdk.CoderDecodeError("bad", path="tasks[0].id", url=URL), TASK,
        "unexpected answer from the server for task alice/fix (field tasks[0].id)",
        "-v shows the body; the server may be newer than this client",
    ),
    "AmbiguousRequestError": (
        sdk.AmbiguousRequestError("reset", method="POST", url=URL), TASK,
        f"POST {URL} failed after it may have reached the server, so it was not sent again",
        "check with `coder-tasks status` / `coder-tasks logs` before trying again",
    ),
    "CoderTimeoutError": (
        sdk.CoderTimeoutError("read timeout", method="GET", url=URL), TASK,
        f"the server did not answer in time (GET {URL})", None,
    ),
    "CoderTransportError": (
        sdk.CoderTransportError(
            "ClientConnectorError: Cannot connect to host coder.example.com:443 "
            "(connection refused)", method="GET", url=URL,
        ), TASK,
        "cannot reach https://coder.example.com: connection refused", "check --url / $CODER_URL",
    ),
    "WaitTimeoutError": (
        sdk.WaitTimeoutError("timed out", None), TASK,
        "timed out waiting for task alice/fix (unknown)", "raise --timeout (0 waits forever)",
    ),
    "BuildFailedError": (
        sdk.BuildFailedError(
            "failed",
            sdk.WorkspaceBuild(
                id=UUID(int=1),
                transition=sdk.WorkspaceTransition.STOP,
                job=sdk.ProvisionerJob(
                    id=UUID(int=2), status=sdk.ProvisionerJobStatus.FAILED, error="disk full"
                ),
            ),
        ),
        TASK, "the stop build of task alice/fix ended failed: disk full",
        "check the workspace build logs (`coder logs` in the Coder CLI)",
    ),
    "TaskNotReadyError": (
        sdk.TaskNotReadyError("stuck", SimpleNamespace(status="error", state=None)),  # type: ignore[arg-type]
        TASK, "task alice/fix cannot become ready (status error)", None,
    ),
    "UnsupportedByServerError": (
        sdk.UnsupportedByServerError("get_logs", minimum_version="v2.27", server_version="v2.26.0"),
        TASK, "https://coder.example.com (Coder v2.26.0) has no task logs: it needs Coder "
        "v2.27 or later", None,
    ),
    "FileNotFoundError": (
        FileNotFoundError(2, "No such file or directory", "/tmp/x"), TASK,
        "cannot use /tmp/x: No such file or directory", None,
    ),
    "PermissionError": (
        PermissionError(13, "Permission denied", "/etc/x"), TASK,
        "cannot use /etc/x: Permission denied", None,
    ),
    "IsADirectoryError": (
        IsADirectoryError(21, "Is a directory", "/tmp"), TASK, "cannot use /tmp: Is a directory",
        None,
    ),
    "OSError": (OSError(28, "No space left on device"), TASK, "No space left on device", None),
    "ValueError": (
        ValueError("template_version_id must be a UUID, got 'x'"), TASK,
        "--template-version must be a UUID, got 'x'", None,
    ),
    "BaseException": (
        KeyError("boom"), TASK, "unexpected failure: 'boom'",
        "this is a bug in coder-tasks; -v shows where",
    ),
}  # fmt: skip


def test_every_row_has_a_case() -> None:
    assert set(CASES) == set(ROWS)


@pytest.mark.parametrize("row", list(CASES))
def test_row(row: str) -> None:
    exc, subject, message, hint = CASES[row]
    assert describe(exc, subject) == (message, hint)


def test_web_pages_and_413_come_before_the_rows() -> None:
    page = api(sdk.ServerError, 502, detail="<html><body>Bad gateway</body></html>")
    assert describe(page, TASK) == (
        "https://coder.example.com is not a Coder server: got an HTML page (HTTP 502)",
        "check --url / $CODER_URL (-v shows the body)",
    )
    too_big = api(sdk.BadRequestError, 413, "Request Entity Too Large")
    assert describe(too_big, TASK)[0].startswith("request too large")
