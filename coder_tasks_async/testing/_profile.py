"""Which Coder release the fake imitates: a :class:`Profile` per release.

Every behaviour is pinned to the release that introduced it (docs/compatibility.md),
down to the patch level where Coder changed behaviour inside a minor line
(pause/resume arrived in v2.31.1, not v2.31.0).  Routes carry their first release
in the route table (:mod:`._routes`); everything else a release changed is a row of
:data:`~._releases.FEATURES`.
"""

from __future__ import annotations

import re

import attrs

from ._releases import ANNOUNCED, FEATURES, NEWEST, PROFILES

__all__ = ["FEATURES", "NEWEST", "PROFILES", "Profile", "version_tuple"]

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
        version = ANNOUNCED.get(text, text)
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
