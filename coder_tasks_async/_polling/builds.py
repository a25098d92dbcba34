"""Waiting for a workspace build to end: ``coder.wait_for_build(...)``.

Pause, resume and delete are workspace builds that take time (a stop job runs while
the task shows ``unknown``; a start job while it is ``pending``/``initializing``).  This
polls ``GET /api/v2/workspacebuilds/{id}`` on the client's clock until the build's job
ends, as ``coder task pause`` watches the build it started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from .._wire.errors import BuildFailedError, CoderError, WaitTimeoutError
from .._wire.models import WorkspaceBuild
from .._wire.settings import PollPolicy
from .backoff import Backoff
from .error_policy import Verdict, judge

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints

__all__ = ["wait_for_build"]


async def wait_for_build(
    client: TaskEndpoints,
    build: WorkspaceBuild | UUID | str,
    *,
    timeout: float | None,
    poll: PollPolicy | None,
) -> WorkspaceBuild:
    """Poll until the build's job ends; see ``CoderTasksClient.wait_for_build``."""
    clock = client.clock
    backoff = Backoff(poll or client.poll)
    deadline = None if timeout is None else clock.now() + timeout
    last = build if isinstance(build, WorkspaceBuild) else None
    previous: tuple[object, ...] | None = None
    while True:
        try:
            current = await client.get_workspace_build(build)
        except CoderError as exc:
            if judge(exc) is not Verdict.RETRY:
                raise
            delay = backoff.after_failure(exc)
        else:
            last = current
            if current.ended:
                if not current.succeeded:
                    why = current.job.error if current.job is not None else ""
                    raise BuildFailedError(
                        f"workspace build {current.build_number} ({current.transition}) "
                        f"ended {current.job_status}" + (f": {why}" if why else ""),
                        current,
                    )
                return current
            mark = (current.job_status, current.status)
            delay = backoff.after_poll(changed=mark != previous)
            previous = mark
        if deadline is not None:
            left = deadline - clock.now()
            if left <= 0:
                raise WaitTimeoutError(
                    f"the workspace build did not end within {timeout}s", None, build=last
                )
            delay = min(delay, left)
        await clock.sleep(delay)
