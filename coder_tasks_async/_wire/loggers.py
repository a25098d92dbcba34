"""The SDK's loggers: one per layer, all under ``coder_tasks_async`` (the one table of
their names; README's "Observability" lists the same, a test holds them together).

Every record is ``DEBUG`` unless it says something a service should see without
asking (``INFO``: the route tree or release learnt, a conversation reset, a lease
taken over), and carries its event fields as ``extra`` attributes of the record
(:data:`FIELDS`), so a structured-logging setup can index them.  The session token
is never in a record: not in its message, its arguments, its fields or its
exception.

Example::

    import logging

    logging.getLogger("coder_tasks_async.polling").setLevel(logging.DEBUG)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

__all__ = ["FIELDS", "LOGGERS", "ROOT", "get_logger"]

#: The parent of every logger of the SDK (``$CODER_TASKS_DEBUG`` sends it to stderr).
ROOT = "coder_tasks_async"

#: Each logger and what it says.
LOGGERS: Mapping[str, str] = {
    f"{ROOT}.http": (
        "every request attempt (method, route, status or failure, attempt, elapsed time), "
        "the wait before a retry, watch streams opened or refused"
    ),
    f"{ROOT}.endpoints": (
        "what the client learnt about the server (route tree, release), names looked up "
        "through the task list, create's reconcile by name, delete waiting for a build"
    ),
    f"{ROOT}.polling": (
        "followers and watchers: started, reset, paused, ended and why, errors waited "
        "out, wake-up mode; fleet acknowledgements"
    ),
    f"{ROOT}.fanout": "fan-outs started and finished (items, failures), rate-limit waits",
    f"{ROOT}.stores": "cursor stores: schema made, leases claimed, taken over and lost",
    f"{ROOT}.cli": "the coder-tasks command: the command run and its exit code",
}

#: The ``extra`` fields records carry (each record those that apply; ``None`` when unknown).
FIELDS: Mapping[str, str] = {
    "method": "the HTTP method",
    "route": "the route template, e.g. /api/v2/tasks/{user}/{task}",
    "url": "the request's path and query (the token scrubbed)",
    "status": "the response's status (None when the attempt got none)",
    "attempt": "the attempt of this request: 1, 2, ...",
    "elapsed": "seconds the attempt took",
    "delay": "seconds waited before the next try (a retry, a rate-limit pause)",
    "task_id": "the task's id, as text",
    "error": "what went wrong: an exception's class or message (the token scrubbed)",
    "operation": "the follow or fan-out: follow_logs, follow_many, get_many, map_bounded, ...",
    "reason": "why a follow ended: deleted, stopped, closed",
    "mode": "how a follower learns of changes (stream, poll) or a stream's kind (ws, sse)",
    "items": "a fan-out's items",
    "concurrency": "a fan-out's calls at a time",
    "failures": "a fan-out's failed items",
    "store": "the cursor store's class",
    "namespace": "the cursor store's namespace",
    "holder": "the fleet worker claiming leases",
    "claimed": "leases it holds after the claim",
    "asked": "leases it asked for",
    "server_version": "the server's release, e.g. v2.31.1",
    "api": "the route tree in use: v2 or experimental",
    "subject": "what a CLI command was about (a task, a list)",
}


def get_logger(name: str) -> logging.Logger:
    """The logger ``name`` of :data:`LOGGERS` (a ``KeyError`` for one not in the table)."""
    if name not in LOGGERS:
        raise KeyError(f"{name!r} is not a logger of the table in _wire/loggers.py")
    return logging.getLogger(name)
