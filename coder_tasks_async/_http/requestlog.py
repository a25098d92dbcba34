"""The request log (``coder_tasks_async.http``): a record per attempt and per wait before
a retry, each with its fields as ``extra`` (see ``_wire/loggers.py``).  The transport
calls these only while the logger is enabled for ``DEBUG``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .._wire.loggers import ROOT, get_logger

if TYPE_CHECKING:
    from yarl import URL

    from .._wire.redact import Redactor

__all__ = ["log_attempt", "log_retry", "logger"]

logger = get_logger(f"{ROOT}.http")


def log_attempt(
    redactor: Redactor,
    method: str,
    url: URL,
    route: str | None,
    task_id: str | None,
    attempt: int,
    t0: float,
    status: int | None,
    error: BaseException | None,
) -> None:
    """One attempt that began at ``t0`` (``perf_counter``): answered ``status``, or
    failed with ``error``.  The path, query and error are scrubbed of the token."""
    elapsed = time.perf_counter() - t0
    path = redactor.text(url.path_qs)
    problem = None if error is None else redactor.text(str(error))
    outcome = str(status) if problem is None else f"failed ({problem})"
    logger.debug(
        "%s %s -> %s attempt=%d elapsed=%.1fms",
        method,
        path,
        outcome,
        attempt,
        elapsed * 1000,
        extra={
            "method": method,
            "route": route,
            "url": path,
            "status": status,
            "attempt": attempt,
            "elapsed": elapsed,
            "task_id": task_id,
            "error": problem,
        },
    )


def log_retry(
    method: str, route: str | None, task_id: str | None, attempt: int, delay: float
) -> None:
    """The wait of ``delay`` seconds before attempt ``attempt + 1``."""
    logger.debug(
        "retrying %s %s in %.2fs (attempt %d)",
        method,
        route or "",
        delay,
        attempt + 1,
        extra={
            "method": method,
            "route": route,
            "attempt": attempt + 1,
            "delay": delay,
            "task_id": task_id,
        },
    )
