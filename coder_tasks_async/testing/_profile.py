"""Which era of coderd the fake imitates, derived from ``server_version``."""

from __future__ import annotations

import re

import attrs

__all__ = ["Profile"]

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


@attrs.define(frozen=True, slots=True)
class Profile:
    """Feature switches for one server version (see docs/compatibility.md)."""

    version: str
    major: int
    minor: int

    @classmethod
    def parse(cls, version: str) -> Profile:
        """Parse ``v2.28.0``-style strings (suffixes such as ``-devel+abc`` are ignored)."""
        m = _VERSION_RE.match(version.strip())
        if not m:
            raise ValueError(f"unparseable server_version {version!r}; expected like 'v2.28.0'")
        return cls(version, int(m.group(1)), int(m.group(2)))

    def at_least(self, minor: int) -> bool:
        """True from ``v2.<minor>`` on."""
        return (self.major, self.minor) >= (2, minor)

    @property
    def stable_tree(self) -> bool:
        """``/api/v2/tasks`` exists (GA, v2.29)."""
        return self.at_least(29)

    @property
    def display_name(self) -> bool:
        """Tasks carry ``display_name``; generated names drop ``task-`` (v2.29)."""
        return self.at_least(29)

    @property
    def update_input(self) -> bool:
        """``PATCH …/input`` exists (v2.29)."""
        return self.at_least(29)

    @property
    def pause_resume(self) -> bool:
        """Pause/resume, log snapshots, 409s for non-active tasks (v2.31 here)."""
        return self.at_least(31)
