"""Which Coder release the fake imitates: named profiles and the fake's table of releases.

Every behaviour is pinned to the release that introduced it (docs/compatibility.md),
down to the patch level where Coder changed behaviour inside a minor line
(pause/resume arrived in v2.31.1, not v2.31.0).  Routes carry their first release
in the route table (:mod:`._routes`); everything else a release changed is a row of
:data:`FEATURES`.

The SDK keeps a table of its own (``coder_tasks_async._endpoints.releases``): the fake
judges the SDK, so it never imports the SDK's facts.  ``tests/conformance`` checks that
the two tables agree.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["FEATURES", "NEWEST", "PROFILES", "Profile", "version_tuple"]

#: The named profiles, oldest first.  ``latest`` is the newest behaviour the fake knows.
PROFILES: tuple[str, ...] = (
    "v2.26",
    "v2.27",
    "v2.28",
    "v2.29",
    "v2.31.0",
    "v2.31.1",
    "v2.32",
    "latest",
)
#: The ``X-Coder-Build-Version`` each named profile announces.
_ANNOUNCED = {
    "v2.26": "v2.26.0",
    "v2.27": "v2.27.0",
    "v2.28": "v2.28.0",
    "v2.29": "v2.29.0",
    "v2.31.0": "v2.31.0",
    "v2.31.1": "v2.31.1",
    "v2.32": "v2.32.0",
    "latest": "v2.32.0",
}
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

_OLDEST = (2, 26, 0)
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$")


def version_tuple(version: str) -> tuple[int, int, int]:
    """``"v2.31.1"`` → ``(2, 31, 1)``; a missing patch is 0; suffixes are ignored."""
    m = _VERSION_RE.match(version.strip())
    if not m:
        raise ValueError(f"not a release version: {version!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def _unknown(name: str) -> ValueError:
    known = ", ".join(PROFILES)
    return ValueError(
        f"unknown FakeCoder profile {name!r}; known profiles: {known} "
        "(or a release version from v2.26.0 on, such as 'v2.30.2')"
    )


@attrs.define(frozen=True, slots=True)
class Profile:
    """One Coder release: what the fake announces and which behaviours are switched on."""

    #: What the fake announces in ``X-Coder-Build-Version``.
    version: str
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, name: str) -> Profile:
        """A profile from a name in :data:`PROFILES` or a version such as ``v2.30.2``.

        Suffixes such as ``-devel+abc`` are ignored.  Anything else, or a release
        older than v2.26, raises a :class:`ValueError` listing the known profiles.
        """
        if not isinstance(name, str):
            raise TypeError(f"profile must be a str, not {type(name).__name__}")
        text = name.strip()
        version = _ANNOUNCED.get(text, text)
        try:
            numbers = version_tuple(version)
        except ValueError:
            raise _unknown(name) from None
        if numbers < _OLDEST:
            raise _unknown(name)
        return cls(version, *numbers)

    def since(self, release: str) -> bool:
        """True when this release is ``release`` (e.g. ``"v2.31.1"``) or newer."""
        return (self.major, self.minor, self.patch) >= version_tuple(release)

    def has(self, feature: str) -> bool:
        """Whether the behaviour named in :data:`FEATURES` is on for this release."""
        return self.since(FEATURES[feature])

    def at_least(self, minor: int, patch: int = 0) -> bool:
        """True from ``v2.<minor>.<patch>`` on."""
        return (self.major, self.minor, self.patch) >= (2, minor, patch)

    # The switches the fake reads most, named for what they change.
    @property
    def workspace_shape(self) -> bool:
        """The task is built from a workspace: ``status`` is a workspace status (< v2.28)."""
        return not self.has("task_shape")

    @property
    def prompt_field(self) -> str:
        """The create body's prompt field: ``prompt`` on v2.26, ``input`` after."""
        return "input" if self.has("input_field") else "prompt"

    @property
    def pause_resume(self) -> bool:
        """Pause/resume, log snapshots and 409s for tasks that are not active (v2.31.1)."""
        return self.has("snapshots")
