"""Exceptions as one line a person can act on: what failed, about what, and which flag helps.

One table, :data:`ROWS`, maps each exception type to the function that words it;
:func:`describe` takes the row of the most specific class in the exception's MRO.
Messages are built from the exceptions' attributes (status, message, the task seen),
never from ``repr`` or type names, never name SDK methods or parameters (flags
instead), and never carry a response body: ``-v`` shows that.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any

__all__ = ["ROWS", "CliError", "Subject", "describe", "exit_code", "rows"]

#: ``(message, hint)``.
Message = tuple[str, str | None]


class CliError(Exception):
    """An error the CLI itself words: ``message``, an optional ``hint``, an exit ``code``."""

    def __init__(self, message: str, hint: str | None = None, *, code: int = 1) -> None:
        self.message = message
        self.hint = hint
        self.code = code
        super().__init__(message)


@dataclasses.dataclass(frozen=True)
class Subject:
    """What the failing command was about, for the wording."""

    #: Like ``"task alice/fix-login"``; ``None`` when the command is about no one thing.
    about: str | None = None
    #: The deployment (``https://coder.example.com``), once known.
    url: str | None = None

    @property
    def name(self) -> str:
        return self.about or "the request"


def exit_code(exc: BaseException) -> int:
    """2 for an input the CLI or the SDK refused before sending, 1 for everything else."""
    if isinstance(exc, CliError):
        return exc.code
    from coder_tasks_async import CoderError

    # A ValueError is the SDK refusing an input before sending anything.
    return 2 if isinstance(exc, ValueError) and not isinstance(exc, CoderError) else 1


# -- helpers ------------------------------------------------------------------------

#: Fields of a server's validation errors, and the flag that sets each.
VALIDATION_FLAGS = {
    "owner": "--owner",
    "organization": "--org",
    "status": "--status",
    "name": "--name",
    "template_version_id": "--template-version",
    "template_version_preset_id": "--preset",
    "input": "the input",
}
#: SDK parameter names in ``ValueError`` messages, and the flag a user sets instead.
_PARAMETER_FLAGS = {
    r"\btemplate_version_preset_id\b": "--preset",
    r"\btemplate_version_id\b": "--template-version",
    r"\b\w+\.idle_timeout\b|\bidle_timeout\b": "--idle-timeout",
    r"\b\w+\.ready_timeout\b|\bready_timeout\b": "--ready-timeout",
    r"\b\w+\.timeout\b": "--timeout",
}
#: What each release-dependent SDK call gives a user, by ``UnsupportedByServerError.feature``.
_FEATURES = {
    "get_logs": "task logs",
    "send_input": "input to tasks",
    "delete_task": "task deletion",
    "update_input": "prompt editing",
    "pause": "task pausing",
    "resume": "task resuming",
}
_SEE_TASKS = "list yours with `coder-tasks list`, or everyone's with `coder-tasks list -a`"
_CHECK_URL = "check --url / $CODER_URL (-v shows the body)"
_RESUMES = "without --no-resume and --no-wait-ready, `coder-tasks send` resumes it first"


def one_line(text: str) -> str:
    """``text`` on one line, at most 300 characters."""
    line = " ".join(text.split())
    return line if len(line) <= 300 else line[:299] + "…"


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


def _flags_for_parameters(text: str) -> str:
    for pattern, flag in _PARAMETER_FLAGS.items():
        text = re.sub(pattern, flag, text)
    return text


def reason(exc: BaseException) -> str:
    """A transport error's own words, minus the method/URL prefix and Python type names."""
    text = str(exc)
    url = getattr(exc, "url", "")
    if url and url in text:
        text = text.split(url, 1)[1].lstrip(": ")
    text = re.sub(r"\b[A-Z]\w*(?:Error|Exception): ", "", text)
    text = text.replace(" ssl:default", "").replace(" ssl:None", "")
    text = re.sub(r"\s*\[Connect call failed [^]]*\]", " (connection refused)", text)
    # "Cannot connect to host h:p (connection refused)": the host is already named.
    text = re.sub(r"^Cannot connect to host \S+ \((.*)\)$", r"\1", text.strip())
    return one_line(text)


# -- the rows -------------------------------------------------------------------------


def _cli_error(exc: CliError, _: Subject) -> Message:
    return exc.message, exc.hint


def _route_not_found(exc: Any, _: Subject) -> Message:
    return (
        f"{_host(exc.url)} has no such API route (HTTP 404): is it a Coder server "
        "with AI tasks (v2.26 or later)?",
        None,
    )


def _not_found(exc: Any, subject: Subject) -> Message:
    if subject.about is None:
        return f"not found (HTTP 404): {exc.method} {exc.url}", None
    return f"{subject.about} not found (or you cannot see it)", _SEE_TASKS


def _not_active(exc: Any, subject: Subject) -> Message:
    status = exc.task_status
    if status == "paused":
        return f"{subject.name} is paused", _RESUMES
    return (
        f"{subject.name} is {status + ', ' if status else ''}not active: it cannot take input yet",
        "without --no-wait-ready, `coder-tasks send` waits until it is ready",
    )


def _agent_busy(_: Any, subject: Subject) -> Message:
    return (
        f"the agent of {subject.name} is busy and cannot take input now",
        "without --no-wait-ready, `coder-tasks send` waits until it is idle",
    )


def _rate_limited(exc: Any, _: Subject) -> Message:
    after = exc.retry_after
    when = f"retry in {math.ceil(after)}s" if after is not None else "retry in a minute"
    return f"rate limited by the server (HTTP 429): {when}", None


def _unauthenticated(exc: Any, _: Subject) -> Message:
    detail = f" ({one_line(exc.detail)})" if exc.detail and len(exc.detail) < 200 else ""
    return (
        f"not authenticated (HTTP 401): {one_line(exc.message)}{detail}",
        "check --token / $CODER_SESSION_TOKEN, or run `coder login`",
    )


def _forbidden(exc: Any, subject: Subject) -> Message:
    return f"permission denied on {subject.name} (HTTP 403): {exc.message}", None


def _conflict(exc: Any, subject: Subject) -> Message:
    what = one_line(exc.message).rstrip(".")
    if exc.detail and exc.detail != exc.message and len(exc.detail) < 200:
        what += f": {one_line(exc.detail)}"
    what += "".join(f"; invalid {v.field}: {v.detail}" for v in exc.validations)
    return f"conflict on {subject.name} (HTTP 409): {what}", None


def _api_error(exc: Any, subject: Subject) -> Message:
    from coder_tasks_async import ServerError

    label = "server error" if isinstance(exc, ServerError) else "request refused"
    text = one_line(exc.message).rstrip(".")
    if exc.validations:
        text += "; " + "; ".join(f"{v.field}: {v.detail}" for v in exc.validations)
    elif exc.detail and len(exc.detail) < 200:
        text += f": {one_line(exc.detail)}"
    flags = sorted(
        {VALIDATION_FLAGS[v.field] for v in exc.validations if v.field in VALIDATION_FLAGS}
    )
    hint = f"check {' and '.join(flags)}" if flags else None
    where = f" for {subject.about}" if subject.about else ""
    return f"{label} (HTTP {exc.status}){where}: {text}", hint


def _undecodable(exc: Any, subject: Subject) -> Message:
    if exc.invalid_json:
        kind = "an HTML page" if _looks_html(exc.snippet) else "a non-JSON answer"
        where = _host(exc.url) if exc.url else subject.url or "the server"
        return f"{where} is not a Coder server: got {kind} (HTTP 200)", _CHECK_URL
    return (
        f"unexpected answer from the server for {subject.name}"
        + (f" (field {exc.path})" if exc.path else ""),
        "-v shows the body; the server may be newer than this client",
    )


def _ambiguous(exc: Any, _: Subject) -> Message:
    return (
        f"{exc.method} {exc.url} failed after it may have reached the server, "
        "so it was not sent again",
        "check with `coder-tasks status` / `coder-tasks logs` before trying again",
    )


def _timed_out(exc: Any, _: Subject) -> Message:
    return f"the server did not answer in time ({exc.method} {exc.url})", None


def _unreachable(exc: Any, subject: Subject) -> Message:
    target = _host(exc.url) if exc.url else subject.url or "the server"
    return f"cannot reach {target}: {reason(exc)}", "check --url / $CODER_URL"


def _wait_timeout(exc: Any, subject: Subject) -> Message:
    return (
        f"timed out waiting for {subject.name} ({_state_of(exc.task)})",
        "raise --timeout (0 waits forever)",
    )


def _build_failed(exc: Any, subject: Subject) -> Message:
    build = exc.build
    transition = str(build.transition or "workspace")
    job = build.job
    why = f": {one_line(job.error)}" if job is not None and job.error else ""
    return (
        f"the {transition} build of {subject.name} ended {build.job_status or 'badly'}{why}",
        "check the workspace build logs (`coder logs` in the Coder CLI)",
    )


def _not_ready(exc: Any, subject: Subject) -> Message:
    if getattr(exc.task, "status", None) == "paused":
        return f"{subject.name} is paused", _RESUMES
    return f"{subject.name} cannot become ready ({_state_of(exc.task)})", None


def _unsupported(exc: Any, subject: Subject) -> Message:
    what = _FEATURES.get(exc.feature, exc.feature.replace("_", " "))
    where = subject.url or "the server"
    have = exc.server_version or "an unknown version"
    return (
        f"{where} (Coder {have}) has no {what}: it needs Coder {exc.minimum_version} or later",
        None,
    )


def _file_error(exc: OSError, _: Subject) -> Message:
    return f"cannot use {exc.filename}: {exc.strerror}", None


def _os_error(exc: OSError, _: Subject) -> Message:
    return exc.strerror or one_line(str(exc)) or "system error", None


def _bad_value(exc: ValueError, _: Subject) -> Message:
    return _flags_for_parameters(one_line(str(exc))), None


def _unexpected(exc: BaseException, _: Subject) -> Message:
    return (
        f"unexpected failure: {one_line(str(exc)) or 'no details'}",
        "this is a bug in coder-tasks; -v shows where",
    )


Row = Callable[[Any, Subject], Message]

#: Exception class name (in ``coder_tasks_async``, else a builtin) → its wording.
ROWS: dict[str, Row] = {
    "CliError": _cli_error,
    "RouteNotFoundError": _route_not_found,
    "NotFoundError": _not_found,
    "TaskNotActiveError": _not_active,
    "AgentBusyError": _agent_busy,
    "RateLimitError": _rate_limited,
    "AuthenticationError": _unauthenticated,
    "PermissionDeniedError": _forbidden,
    "ConflictError": _conflict,
    "CoderAPIError": _api_error,
    "CoderDecodeError": _undecodable,
    "AmbiguousRequestError": _ambiguous,
    "CoderTimeoutError": _timed_out,
    "CoderTransportError": _unreachable,
    "WaitTimeoutError": _wait_timeout,
    "TaskNotReadyError": _not_ready,
    "BuildFailedError": _build_failed,
    "UnsupportedByServerError": _unsupported,
    "FileNotFoundError": _file_error,
    "PermissionError": _file_error,
    "IsADirectoryError": _file_error,
    "OSError": _os_error,
    "ValueError": _bad_value,
    "BaseException": _unexpected,
}


@cache
def rows() -> dict[type, Row]:
    """:data:`ROWS` keyed by the classes themselves (the SDK's are imported on first use)."""
    import builtins

    import coder_tasks_async

    table: dict[type, Row] = {CliError: _cli_error}
    for name, row in ROWS.items():
        if name != "CliError":
            table[getattr(coder_tasks_async, name, None) or getattr(builtins, name)] = row
    return table


def _not_a_coder_server(exc: Any) -> Message | None:
    """An HTTP error whose body is a web page or not JSON: the URL points elsewhere."""
    from coder_tasks_async import CoderAPIError

    if not isinstance(exc, CoderAPIError):
        return None
    if not (_looks_html(exc.detail) or "non-JSON" in exc.message):
        return None
    if exc.status == 413:
        return "request too large: the server refused the body (HTTP 413)", "send a shorter input"
    kind = "an HTML page" if _looks_html(exc.detail) else "a non-JSON answer"
    return f"{_host(exc.url)} is not a Coder server: got {kind} (HTTP {exc.status})", _CHECK_URL


def describe(exc: BaseException, subject: Subject | None = None) -> Message:
    """``(message, hint)`` for ``exc``: the row of the most specific class it is."""
    subject = subject or Subject()
    if not isinstance(exc, CliError):
        special = _not_a_coder_server(exc)
        if special is not None:
            return special
        if getattr(exc, "status", None) == 413:
            return (
                "request too large: the server refused the body (HTTP 413)",
                "send a shorter input",
            )
    table = rows()
    for cls in type(exc).__mro__:
        row = table.get(cls)
        if row is not None:
            return row(exc, subject)
    return _unexpected(exc, subject)  # pragma: no cover - BaseException is in the table
