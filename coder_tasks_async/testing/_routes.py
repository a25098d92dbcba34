"""The fake server's routes: one table, from which everything else is derived.

Each row names a route, its method and path pattern, the first release that has it and
the :class:`~._handlers.Api` method that answers it.  Dispatch (:func:`match_route`),
the routes a release serves (:func:`routes_of`) and the route names faults can target
(:data:`FAULT_ROUTES`) all read this table, so a new route is one row and one handler.

Task routes (``tree="tasks"``) live below both task trees: ``/api/experimental/tasks``
on every release, ``/api/v2/tasks`` from v2.29 (docs/compatibility.md §1).
"""

from __future__ import annotations

import attrs

from ._jsonio import Reply, error
from ._profile import Profile

__all__ = ["FAULT_ROUTES", "ROUTES", "Match", "Route", "match_route", "routes_of"]


@attrs.define(frozen=True, slots=True)
class Route:
    """One route of the fake."""

    #: What tests, faults and :class:`RecordedRequest` call it.
    name: str
    method: str
    #: ``{x}`` matches one non-empty segment; task routes are relative to a tasks tree.
    pattern: str
    #: The first release with the route (``"v2.26"`` for every release the fake knows).
    since: str
    #: The :class:`~._handlers.Api` method that answers it.
    handler: str
    #: ``"tasks"`` (below both task trees) or ``"api"`` (an absolute path).
    tree: str = "api"
    #: Who may call it: a user's session token, or a workspace agent's token.
    auth: str = "user"
    #: A long-lived stream (the workspace watch): no fault rules, its own rate-limit key.
    stream: bool = False

    @property
    def segments(self) -> tuple[str, ...]:
        """The pattern split into path segments (without the leading empty one)."""
        return tuple(self.pattern.strip("/").split("/")) if self.pattern != "/" else ()


_TASKS = "tasks"
ROUTES: tuple[Route, ...] = (
    # name, method, pattern, since, handler
    Route("list", "GET", "/", "v2.26", "list_tasks", tree=_TASKS),
    Route("create", "POST", "/{user}", "v2.26", "create_task", tree=_TASKS),
    Route("get", "GET", "/{user}/{task}", "v2.26", "get_task", tree=_TASKS),
    Route("delete", "DELETE", "/{user}/{task}", "v2.27", "delete_task", tree=_TASKS),
    Route("send", "POST", "/{user}/{task}/send", "v2.27", "send_input", tree=_TASKS),
    Route("logs", "GET", "/{user}/{task}/logs", "v2.27", "get_logs", tree=_TASKS),
    Route("update_input", "PATCH", "/{user}/{task}/input", "v2.29", "update_input", tree=_TASKS),
    Route("pause", "POST", "/{user}/{task}/pause", "v2.31.1", "pause_task", tree=_TASKS),
    Route("resume", "POST", "/{user}/{task}/resume", "v2.31.1", "resume_task", tree=_TASKS),
    Route("list_templates", "GET", "/api/v2/templates", "v2.26", "list_templates"),
    Route(
        "get_template_version",
        "GET",
        "/api/v2/templates/{template}/versions/{version}",
        "v2.26",
        "get_template_version",
    ),
    Route(
        "list_presets", "GET", "/api/v2/templateversions/{version}/presets", "v2.26", "list_presets"
    ),
    Route("get_build", "GET", "/api/v2/workspacebuilds/{build}", "v2.26", "get_build"),
    Route(
        "upload_snapshot",
        "POST",
        "/api/v2/workspaceagents/me/tasks/{task}/log-snapshot",
        "v2.30",
        "upload_snapshot",
        auth="agent",
    ),
    Route(
        "watch_ws", "GET", "/api/v2/workspaces/{workspace}/watch-ws", "v2.26", "watch", stream=True
    ),
    Route(
        "watch_sse", "GET", "/api/v2/workspaces/{workspace}/watch", "v2.26", "watch", stream=True
    ),
)

#: What :class:`~coder_tasks_async.testing.Fault` may target: every answered route, or ``*``.
FAULT_ROUTES: tuple[str, ...] = (*(r.name for r in ROUTES if not r.stream), "*")

_TREES: dict[tuple[str, ...], str] = {
    ("api", "experimental", "tasks"): "experimental",
    ("api", "v2", "tasks"): "v2",
}
#: The release that added ``/api/v2/tasks`` (GA); the experimental tree is on every release.
_STABLE_TREE_SINCE = "v2.29"


@attrs.define(frozen=True, slots=True)
class Match:
    """A routed request: the route, its full pattern and the values of its ``{params}``."""

    route: Route
    pattern: str
    params: dict[str, str]


def routes_of(profile: Profile) -> tuple[Route, ...]:
    """The routes a release serves."""
    return tuple(r for r in ROUTES if profile.since(r.since))


def _bind(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for want, got in zip(pattern, segments, strict=True):
        if want.startswith("{"):
            if not got:
                return None
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params


def match_route(segments: list[str], method: str, profile: Profile) -> Match | Reply:
    """Route decoded path segments (without the leading empty one) as coderd's chi tree does:
    404 ``Route not found.`` for an unknown path, 405 for a known path with another method."""
    tree = _TREES.get(tuple(segments[:3]))
    if tree is not None:
        if tree == "v2" and not profile.since(_STABLE_TREE_SINCE):
            return error(404, "Route not found.")
        rest = segments[3:]
        if rest == [""]:
            rest = []  # "/tasks/" is served like "/tasks"
        prefix = "/api/experimental/tasks" if tree == "experimental" else "/api/v2/tasks"
        candidates = [r for r in ROUTES if r.tree == _TASKS]
    else:
        rest, prefix = segments, ""
        candidates = [r for r in ROUTES if r.tree != _TASKS]
    found: list[tuple[Route, dict[str, str]]] = []
    for route in candidates:
        params = _bind(route.segments, rest)
        if params is not None and profile.since(route.since):
            found.append((route, params))
    if not found:
        return error(404, "Route not found.")
    for route, params in found:
        if route.method == method:
            pattern = prefix + route.pattern if route.pattern != "/" else prefix
            return Match(route, pattern, params)
    return error(405, "Method not allowed.")
