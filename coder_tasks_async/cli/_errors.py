"""Exceptions as one line a person can act on: what failed, about what, and which flag helps.

Messages are built from the exceptions' attributes (status, message, the task seen),
never from ``repr`` or type names, and never carry a response body: ``-v`` shows that.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["CliError", "describe", "exit_code"]


#: The deployment the current command talks to (set when its client is made), so an
#: error without a URL of its own can still say which server misbehaved.
current_url: str | None = None


def exit_code(exc: BaseException) -> int:
    """2 for an input the SDK refused before sending, 1 for everything else."""
    from coder_tasks_async import CoderError

    if isinstance(exc, CliError):
        return exc.code
    # A ValueError is the SDK refusing an input before sending anything.
    return 2 if isinstance(exc, ValueError) and not isinstance(exc, CoderError) else 1


#: Fields of a server's validation errors, and the flag that sets each.
_FLAGS = {
    "owner": "--owner",
    "organization": "--org",
    "status": "--status",
    "name": "--name",
    "template_version_id": "--template-version",
    "template_version_preset_id": "--preset",
    "input": "the input",
}


def _host(url: str) -> str:
    """The deployment part of a request URL (``https://coder.example.com``)."""
    head, sep, _ = url.partition("/api/")
    return head if sep else url


def _looks_html(text: str) -> bool:
    start = text.lstrip()[:200].lower()
    return start.startswith("<") and ("html" in start or "<head" in start or "<body" in start)


def _state_of(task: Any) -> str:
    if task is None:
        return "unknown"
    state = f", state {task.state}" if getattr(task, "state", None) else ""
    return f"status {task.status}{state}"


def _seconds(value: float) -> str:
    return f"{math.ceil(value)}s"


def describe(exc: BaseException, *, subject: str | None = None) -> tuple[str, str | None]:
    """``(message, hint)`` for ``exc``; ``subject`` names what the command was about."""
    from coder_tasks_async import (
        AgentBusyError,
        AmbiguousRequestError,
        AuthenticationError,
        CoderAPIError,
        CoderDecodeError,
        CoderTimeoutError,
        CoderTransportError,
        ConflictError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        RouteNotFoundError,
        ServerError,
        TaskNotActiveError,
        TaskNotReadyError,
        UnsupportedByServerError,
        WaitTimeoutError,
    )

    about = subject or "the request"
    if isinstance(exc, CliError):
        return exc.message, exc.hint
    if isinstance(exc, CoderAPIError) and (_looks_html(exc.detail) or "non-JSON" in exc.message):
        if exc.status == 413:
            return (
                "request too large: the server refused the body (HTTP 413)",
                "send a shorter input",
            )
        kind = "an HTML page" if _looks_html(exc.detail) else "a non-JSON answer"
        return (
            f"{_host(exc.url)} is not a Coder server: got {kind} (HTTP {exc.status})",
            "check --url / $CODER_URL (-v shows the body)",
        )
    if isinstance(exc, RouteNotFoundError):
        return (
            f"{_host(exc.url)} has no such API route (HTTP 404): is it a Coder server "
            "with AI tasks (v2.26 or later)?",
            None,
        )
    if isinstance(exc, NotFoundError) and subject is None:
        return f"not found (HTTP 404): {exc.method} {exc.url}", None
    if isinstance(exc, NotFoundError):
        return (
            f"{about} not found (or you cannot see it)",
            "list yours with `coder-tasks list`, or everyone's with `coder-tasks list -a`",
        )
    if isinstance(exc, TaskNotActiveError):
        status = exc.task_status
        if status == "paused":
            return f"{about} is paused", "pass --wait-ready --resume to resume it and then send"
        return (
            f"{about} is {status + ', ' if status else ''}not active: it cannot take input yet",
            "pass --wait-ready to wait until it is ready",
        )
    if isinstance(exc, AgentBusyError):
        return (
            f"the agent of {about} is busy and cannot take input now",
            "pass --wait-ready to wait until it is idle",
        )
    if isinstance(exc, RateLimitError):
        when = (
            f"retry in {_seconds(exc.retry_after)}"
            if exc.retry_after is not None
            else "retry in a minute"
        )
        return f"rate limited by the server (HTTP 429): {when}", None
    if isinstance(exc, AuthenticationError):
        detail = f" ({_one_line(exc.detail)})" if exc.detail and len(exc.detail) < 200 else ""
        return (
            f"not authenticated (HTTP 401): {_one_line(exc.message)}{detail}",
            "check --token / $CODER_SESSION_TOKEN, or run `coder login`",
        )
    if isinstance(exc, PermissionDeniedError):
        return f"permission denied on {about} (HTTP 403): {exc.message}", None
    if isinstance(exc, ConflictError):
        what = _one_line(exc.message).rstrip(".")
        if exc.detail and exc.detail != exc.message and len(exc.detail) < 200:
            what += f": {_one_line(exc.detail)}"
        what += "".join(f"; invalid {v.field}: {v.detail}" for v in exc.validations)
        return f"conflict on {about} (HTTP 409): {what}", None
    if isinstance(exc, CoderAPIError):
        if exc.status == 413:
            return (
                "request too large: the server refused the body (HTTP 413)",
                "send a shorter input",
            )
        label = "server error" if isinstance(exc, ServerError) else "request refused"
        text = _one_line(exc.message).rstrip(".")
        if exc.validations:
            text += "; " + "; ".join(f"{v.field}: {v.detail}" for v in exc.validations)
        elif exc.detail and len(exc.detail) < 200 and not _looks_html(exc.detail):
            text += f": {_one_line(exc.detail)}"
        flags = sorted({_FLAGS[v.field] for v in exc.validations if v.field in _FLAGS})
        hint = f"check {' and '.join(flags)}" if flags else None
        where = f" for {subject}" if subject else ""
        return f"{label} (HTTP {exc.status}){where}: {text}", hint
    if isinstance(exc, CoderDecodeError):
        if exc.invalid_json:
            kind = "an HTML page" if _looks_html(exc.snippet) else "a non-JSON answer"
            where = _host(exc.url) if exc.url else current_url or "the server"
            return (
                f"{where} is not a Coder server: got {kind} (HTTP 200)",
                "check --url / $CODER_URL (-v shows the body)",
            )
        return (
            f"unexpected answer from the server for {about}"
            + (f" (field {exc.path})" if exc.path else ""),
            "-v shows the body; the server may be newer than this client",
        )
    if isinstance(exc, AmbiguousRequestError):
        return (
            f"{exc.method} {exc.url} failed after it may have reached the server, "
            "so it was not sent again",
            "check with `coder-tasks status` / `coder-tasks logs` before trying again",
        )
    if isinstance(exc, CoderTimeoutError):
        return f"the server did not answer in time ({exc.method} {exc.url})", None
    if isinstance(exc, CoderTransportError):
        target = _host(exc.url) if exc.url else "the server"
        return f"cannot reach {target}: {_reason(exc)}", "check --url / $CODER_URL"
    if isinstance(exc, WaitTimeoutError):
        return (
            f"timed out waiting for {about} ({_state_of(exc.task)})",
            "raise --timeout (0 waits forever)",
        )
    if isinstance(exc, TaskNotReadyError):
        if getattr(exc.task, "status", None) == "paused":
            return f"{about} is paused", "pass --resume to resume it first"
        return f"{about} cannot become ready ({_state_of(exc.task)})", None
    if isinstance(exc, UnsupportedByServerError):
        return str(exc), None
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
        return f"cannot use {exc.filename}: {exc.strerror}", None
    if isinstance(exc, OSError):
        return f"{exc.strerror or 'system error'}", None
    if isinstance(exc, ValueError):
        return _one_line(str(exc)), None
    return (
        f"unexpected failure: {_one_line(str(exc)) or 'no details'}",
        "this is a bug in coder-tasks; -v shows where",
    )


def _reason(exc: BaseException) -> str:
    """The transport error's own words, minus the method/URL prefix it starts with."""
    text = str(exc)
    url = getattr(exc, "url", "")
    if url and url in text:
        text = text.split(url, 1)[1].lstrip(": ")
    # The SDK names aiohttp's exception type; people need the reason only.
    text = re.sub(r"\b[A-Z]\w*(?:Error|Exception): ", "", text)
    text = text.replace(" ssl:default", "").replace(" ssl:None", "")
    text = re.sub(r"\s*\[Connect call failed [^]]*\]", " (connection refused)", text)
    return _one_line(text)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 300 else line[:299] + "…"


class CliError(Exception):
    """An error the CLI itself words: ``message``, an optional ``hint``, an exit ``code``."""

    def __init__(self, message: str, hint: str | None = None, *, code: int = 1) -> None:
        self.message = message
        self.hint = hint
        self.code = code
        super().__init__(message)
