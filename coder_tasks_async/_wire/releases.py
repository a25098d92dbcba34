"""What each Coder release added that the SDK relies on: one table of "since" versions.

The code asks :func:`has` (``has("v2.28.3", "names_in_path")`` is False), the tests are
parametrized from :data:`RELEASES`, and docs/compatibility.md §11 shows the same table
(a test keeps the page and this table equal).  FakeCoder keeps a table of its own, on
purpose (it judges the SDK); a test checks that the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["RELEASES", "RELEASE_NOTES", "has", "markdown_table", "release_tuple"]

#: One row per feature: (feature, the first Coder release with it, what it is).  Endpoint
#: features are named after the SDK method that calls the endpoint.  A new endpoint or
#: behaviour is one row here; everything below is derived.
_TABLE: tuple[tuple[str, str, str], ...] = (
    ("delete_task", "v2.27", "`DELETE /tasks/{user}/{task}`"),
    ("send_input", "v2.27", "`POST …/send`"),
    ("get_logs", "v2.27", "`GET …/logs`"),
    ("input_field", "v2.27", "the create body's prompt field is `input` (`prompt` before)"),
    ("owner_name", "v2.27", "tasks carry `owner_name`"),
    ("task_shape", "v2.28", "tasks have a status of their own (the workspace's before)"),
    ("names_in_path", "v2.29", "`{task}` may be a name (a UUID only before)"),
    ("stable_tree", "v2.29", "`/api/v2/tasks` (the experimental tree on every release)"),
    ("display_name", "v2.29", "tasks carry `display_name`"),
    ("update_input", "v2.29", "`PATCH …/input`"),
    ("pause_task", "v2.31.1", "`POST …/pause`"),
    ("resume_task", "v2.31.1", "`POST …/resume`"),
    ("snapshots", "v2.31.1", "logs of a task that is not active come from a stored snapshot; 409s"),
    ("pending_status", "v2.31.1", "a queued start job shows as `pending` (`initializing` before)"),
    ("unknown_user_404", "v2.31.1", "an unknown `{user}` is a 404 (a 400 with detail before)"),
    ("busy_is_conflict", "v2.32", "a busy agent is a 409 (a 502 before)"),
    ("failure_is_failed", "v2.32", "the agent's `failure` state is shown as `failed`"),
)

#: Feature → the first Coder release with it.
RELEASES: Mapping[str, str] = {name: since for name, since, _ in _TABLE}
#: Feature → one line for the documentation table.
RELEASE_NOTES: Mapping[str, str] = {name: note for name, _, note in _TABLE}

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


def release_tuple(version: str | None) -> tuple[int, int, int] | None:
    """``"v2.31.1"`` → ``(2, 31, 1)``; ``None`` when the text names no release (unknown,
    or a ``v0.0.0-devel`` build from source)."""
    found = _VERSION.match(version.strip()) if version else None
    if found is None or int(found.group(1)) == 0:
        return None
    return int(found.group(1)), int(found.group(2)), int(found.group(3) or 0)


def has(version: str | None, feature: str) -> bool | None:
    """Whether a server of ``version`` has ``feature``; ``None`` when the version says nothing.

    >>> has("v2.28.3", "names_in_path"), has("v2.31.1", "pause_task"), has(None, "get_logs")
    (False, True, None)
    """
    release = release_tuple(version)
    if release is None:
        return None
    since = release_tuple(RELEASES[feature])
    assert since is not None
    return release >= since


def markdown_table() -> str:
    """docs/compatibility.md §11, generated from :data:`RELEASES`."""
    rows = ["| feature | since | what |", "|---|---|---|"]
    rows += [f"| `{name}` | {since} | {RELEASE_NOTES[name]} |" for name, since in RELEASES.items()]
    return "\n".join(rows)
