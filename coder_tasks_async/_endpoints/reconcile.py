"""Create's reconcile-by-name: after a create that may have landed, is the task found
by its name the one this call created?

Pure: the endpoint method does the look-up and hands the answer here.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from .._wire.errors import AmbiguousRequestError, CoderError, ConflictError, ServerError
from .._wire.models import Task

__all__ = ["DATE_SKEW_LIMIT", "RECONCILE_TOLERANCE", "may_have_created", "this_calls_task"]

#: How much earlier than this call's start (by the server's clock) a task found by
#: name after an ambiguous create may have been created and still count as this
#: call's: the ``Date`` header has whole seconds, and a proxy may add its own.
RECONCILE_TOLERANCE = 5.0
#: How far the server's ``Date`` may be from this machine's clock and still be
#: believed: a proxy with a wrong clock must not make an old task look new.
DATE_SKEW_LIMIT = 60.0


def may_have_created(exc: Exception, *, first_attempt: bool) -> bool:
    """Whether a failed create might nevertheless have created the task."""
    if isinstance(exc, ServerError):
        return exc.status in (502, 503, 504)  # a gateway may have lost a handled request
    if isinstance(exc, ConflictError):
        # On a retry, "name already in use" is most likely our own earlier attempt.
        return not first_attempt
    return True  # ambiguous transport failure, or an unreadable 201 body


def server_time(date: str | None) -> float | None:
    """A response's ``Date`` header as a Unix timestamp (``None`` when missing or unreadable)."""
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def this_calls_task(
    found: Task,
    failure: CoderError,
    *,
    name: str,
    input: str,
    date: str | None,
    elapsed: float,
    url: str,
    local_time: float | None = None,
) -> Task:
    """``found`` if this call created it; otherwise raise.

    It is this call's only if its prompt is ``input`` and its ``created_at`` is no
    earlier than :data:`RECONCILE_TOLERANCE` seconds before the call started, by
    the server's own clock: the look-up's ``Date`` header minus the ``elapsed``
    seconds of the call so far.  That ``Date`` is believed only within
    :data:`DATE_SKEW_LIMIT` of ``local_time`` (this machine's Unix time, when given).
    A task that existed before the call is never
    returned as created: the create's own ``failure`` is re-raised when it was
    the server's 409, :class:`AmbiguousRequestError` otherwise.
    """
    if found.initial_prompt != input:
        raise AmbiguousRequestError(
            f"create_task failed ({failure}); a task named {name!r} already exists "
            "with a different prompt",
            method="POST",
            url=url,
        ) from failure
    began = server_time(date)
    skew = None if began is None or local_time is None else began - local_time
    trusted = skew is None or abs(skew) <= DATE_SKEW_LIMIT
    if (
        began is not None
        and trusted
        and found.created_at.timestamp() >= began - elapsed - RECONCILE_TOLERANCE
    ):
        return found
    if isinstance(failure, ConflictError):
        raise failure  # the name belongs to an older task: the server's refusal stands
    if began is None:
        why = "the server sent no Date header to judge it by"
    elif not trusted:
        why = f"the server's Date header is {skew:+.0f}s off this machine's clock"
    else:
        why = "it is older"
    raise AmbiguousRequestError(
        f"create_task failed ({failure}); a task named {name!r} exists, created at "
        f"{found.created_at.isoformat()}, which is not this call's ({why}); it was not re-sent",
        method="POST",
        url=url,
    ) from failure
