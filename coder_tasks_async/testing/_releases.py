"""The fake's table of Coder releases: its profiles and what each release changed.

Plain data, no imports, so ``coder-tasks --help`` can list the profiles without loading
the fake server.  :mod:`._profile` turns it into feature switches; routes carry their
first release in :mod:`._routes`.

The SDK keeps a table of its own (``coder_tasks_async._wire.releases``): the fake
judges the SDK, so it never imports the SDK's facts.  ``tests/conformance`` checks that
the two tables agree.
"""

from __future__ import annotations

__all__ = ["ANNOUNCED", "FEATURES", "NEWEST", "PROFILES"]

#: The named profiles, oldest first, and the ``X-Coder-Build-Version`` each announces.
#: ``latest`` is the newest behaviour the fake knows.  A new release is one row here.
ANNOUNCED: dict[str, str] = {
    "v2.26": "v2.26.0",
    "v2.27": "v2.27.0",
    "v2.28": "v2.28.0",
    "v2.29": "v2.29.0",
    "v2.31.0": "v2.31.0",
    "v2.31.1": "v2.31.1",
    "v2.32": "v2.32.0",
    "latest": "v2.32.0",
}
#: The named profiles, oldest first.
PROFILES: tuple[str, ...] = tuple(ANNOUNCED)
#: The profile ``FakeCoder()`` imitates when given none: the newest.
NEWEST = "latest"

#: What a release changed that is not a route: feature → first release with it.
FEATURES: dict[str, str] = {
    # v2.27: tasks carry owner_name; the create body's prompt field is ``input``.
    "owner_name": "v2.27",
    "input_field": "v2.27",
    # v2.28: the task shape of its own (task status, workspace_status, build number, ...)
    # instead of a task built from its workspace.
    "task_shape": "v2.28",
    # v2.29: names in paths (and a 32-hex name that is no task's id falls back to a
    # name lookup), display names, names generated from the prompt, a made-up
    # current_state while initializing.
    "names_in_path": "v2.29",
    "display_name": "v2.29",
    "synthesized_state": "v2.29",
    # v2.29: a canceled build job makes the task ``error`` (``unknown`` before).
    "canceled_is_error": "v2.29",
    # v2.31.1: log snapshots served while not active, 409s for tasks that are not
    # active, a start job still queued shows as ``pending`` (``initializing`` before),
    # an unknown {user} is a 404 (a 400 before).
    "snapshots": "v2.31.1",
    "pending_status": "v2.31.1",
    "unknown_user_404": "v2.31.1",
    # v2.32: a busy agent is a 409 (502 before); the agent's ``failure`` is shown as
    # ``failed``.
    "busy_is_conflict": "v2.32",
    "failure_is_failed": "v2.32",
}
