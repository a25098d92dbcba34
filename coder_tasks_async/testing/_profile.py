"""Which Coder release the fake imitates: named profiles and their feature switches.

Every switch is pinned to the release that introduced it (docs/compatibility.md),
down to the patch level where Coder changed behaviour inside a minor line
(pause/resume arrived in v2.31.1, not v2.31.0).
"""

from __future__ import annotations

import re

import attrs

__all__ = ["PROFILES", "Profile"]

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
_OLDEST = (2, 26, 0)
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$")


def _unknown(name: str) -> ValueError:
    known = ", ".join(PROFILES)
    return ValueError(
        f"unknown FakeCoder profile {name!r}; known profiles: {known} "
        "(or a release version from v2.26.0 on, such as 'v2.30.2')"
    )


@attrs.define(frozen=True, slots=True)
class Profile:
    """Feature switches for one Coder release (see docs/compatibility.md)."""

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
        m = _VERSION_RE.match(version)
        if not m:
            raise _unknown(name)
        numbers = (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
        if numbers < _OLDEST:
            raise _unknown(name)
        return cls(version, *numbers)

    def at_least(self, minor: int, patch: int = 0) -> bool:
        """True from ``v2.<minor>.<patch>`` on."""
        return (self.major, self.minor, self.patch) >= (2, minor, patch)

    # -- routes ----------------------------------------------------------------
    @property
    def delete_send_logs(self) -> bool:
        """``DELETE``, ``/send`` and ``/logs`` exist (v2.27; v2.26 has list, create, get)."""
        return self.at_least(27)

    @property
    def stable_tree(self) -> bool:
        """``/api/v2/tasks`` exists (GA, v2.29)."""
        return self.at_least(29)

    @property
    def update_input(self) -> bool:
        """``PATCH …/input`` exists (v2.29)."""
        return self.at_least(29)

    @property
    def pause_resume(self) -> bool:
        """Pause/resume, log snapshots and 409s for non-active tasks (v2.31.1)."""
        return self.at_least(31, 1)

    # -- lookups and shapes ------------------------------------------------------
    @property
    def names_in_path(self) -> bool:
        """``{task}`` may be a name; before v2.29 only a UUID (else 400 ``Invalid UUID``)."""
        return self.at_least(29)

    @property
    def workspace_shape(self) -> bool:
        """The task is built from a workspace: ``status`` is a workspace status (< v2.28)."""
        return not self.at_least(28)

    @property
    def owner_name(self) -> bool:
        """Tasks carry ``owner_name`` (v2.27)."""
        return self.at_least(27)

    @property
    def prompt_field(self) -> str:
        """The create body's prompt field: ``prompt`` on v2.26, ``input`` after."""
        return "input" if self.at_least(27) else "prompt"

    @property
    def display_name(self) -> bool:
        """Tasks carry ``display_name``; generated names drop ``task-`` (v2.29)."""
        return self.at_least(29)

    @property
    def synthesized_state(self) -> bool:
        """While initializing, ``current_state`` is made up as ``working`` (v2.29)."""
        return self.at_least(29)

    # -- answers -------------------------------------------------------------------
    @property
    def busy_is_conflict(self) -> bool:
        """A busy agent is refused with 409 (v2.32); 502 before."""
        return self.at_least(32)
