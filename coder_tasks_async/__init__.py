"""coder-tasks-async: the async Python SDK for Coder's AI Tasks API.

Example::

    import anyio
    from coder_tasks_async import CoderTasksClient

    async def main() -> None:
        async with CoderTasksClient.from_env() as coder:
            for task in await coder.list_tasks():
                print(task.name, task.status, task.state)

    anyio.run(main)
"""

from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:
    from ._endpoints.tasks import ApiChoice
    from ._facade import CoderTasksClient
    from ._fanout.bounded import TaskRequest, map_bounded
    from ._fanout.deprecated import create_many, delete_many, get_many
    from ._fanout.outcome import Failure, Outcome, Progress, Success
    from ._fanout.ratelimit import RateLimiter
    from ._http.clock import Clock, SystemClock
    from ._http.hooks import ResponseHook
    from ._polling.conditions import StopConditions, Until
    from ._polling.events import EntryEvent, LogEvent, LogEventKind, PausedEvent, ResetEvent
    from ._polling.follow import EndReason, LogFollower
    from ._polling.logcursor import LogCursor
    from ._polling.many import ManyFollower, ManyWatcher
    from ._polling.tracker import ConversationTracker
    from ._polling.watch import TaskWatcher
    from ._wire.errors import (
        AgentBusyError,
        AmbiguousRequestError,
        AuthenticationError,
        BadRequestError,
        BuildFailedError,
        ClientClosedError,
        CoderAPIError,
        CoderDecodeError,
        CoderError,
        CoderTimeoutError,
        CoderTransportError,
        ConflictError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        RouteNotFoundError,
        ServerError,
        TaskNotActiveError,
        TaskNotReadyError,
        UnsupportedByServer,
        ValidationError,
        WaitTimeoutError,
    )
    from ._wire.models import (
        SETTLED_STATES,
        ProvisionerJob,
        ProvisionerJobStatus,
        Task,
        TaskList,
        TaskLogEntry,
        TaskLogs,
        TaskLogType,
        TasksList,
        TaskState,
        TaskStateEntry,
        TaskStatus,
        WorkspaceAgentHealth,
        WorkspaceAgentLifecycle,
        WorkspaceBuild,
        WorkspaceStatus,
        WorkspaceTransition,
    )
    from ._wire.protocol import ApiTree, TaskRef
    from ._wire.settings import PollPolicy, RetryPolicy, Timeouts
    from ._wire.templates import Preset, Template, TemplateVersion

# Names load on first use (PEP 562): `coder-tasks --help` and other light users of
# the package must not pay for importing aiohttp.
_LAZY: dict[str, str] = {
    "ApiChoice": "_endpoints.tasks",
    "CoderTasksClient": "_facade",
    "Failure": "_fanout.outcome",
    "Outcome": "_fanout.outcome",
    "Progress": "_fanout.outcome",
    "Success": "_fanout.outcome",
    "TaskRequest": "_fanout.bounded",
    "create_many": "_fanout.deprecated",
    "delete_many": "_fanout.deprecated",
    "get_many": "_fanout.deprecated",
    "map_bounded": "_fanout.bounded",
    "RateLimiter": "_fanout.ratelimit",
    "Clock": "_http.clock",
    "SystemClock": "_http.clock",
    "ResponseHook": "_http.hooks",
    "StopConditions": "_polling.conditions",
    "Until": "_polling.conditions",
    "EntryEvent": "_polling.events",
    "LogEvent": "_polling.events",
    "LogEventKind": "_polling.events",
    "PausedEvent": "_polling.events",
    "ResetEvent": "_polling.events",
    "EndReason": "_polling.follow",
    "LogFollower": "_polling.follow",
    "ConversationTracker": "_polling.tracker",
    "LogCursor": "_polling.logcursor",
    "ManyFollower": "_polling.many",
    "ManyWatcher": "_polling.many",
    "TaskWatcher": "_polling.watch",
    "AgentBusyError": "_wire.errors",
    "AmbiguousRequestError": "_wire.errors",
    "AuthenticationError": "_wire.errors",
    "BadRequestError": "_wire.errors",
    "BuildFailedError": "_wire.errors",
    "ClientClosedError": "_wire.errors",
    "CoderAPIError": "_wire.errors",
    "CoderDecodeError": "_wire.errors",
    "CoderError": "_wire.errors",
    "CoderTimeoutError": "_wire.errors",
    "CoderTransportError": "_wire.errors",
    "ConflictError": "_wire.errors",
    "NotFoundError": "_wire.errors",
    "PermissionDeniedError": "_wire.errors",
    "RateLimitError": "_wire.errors",
    "RouteNotFoundError": "_wire.errors",
    "ServerError": "_wire.errors",
    "TaskNotActiveError": "_wire.errors",
    "TaskNotReadyError": "_wire.errors",
    "UnsupportedByServer": "_wire.errors",
    "ValidationError": "_wire.errors",
    "WaitTimeoutError": "_wire.errors",
    "SETTLED_STATES": "_wire.models",
    "ProvisionerJob": "_wire.models",
    "ProvisionerJobStatus": "_wire.models",
    "Task": "_wire.models",
    "TaskList": "_wire.models",
    "TaskLogEntry": "_wire.models",
    "TaskLogs": "_wire.models",
    "TaskLogType": "_wire.models",
    "TasksList": "_wire.models",
    "TaskState": "_wire.models",
    "TaskStateEntry": "_wire.models",
    "TaskStatus": "_wire.models",
    "WorkspaceAgentHealth": "_wire.models",
    "WorkspaceAgentLifecycle": "_wire.models",
    "WorkspaceBuild": "_wire.models",
    "WorkspaceStatus": "_wire.models",
    "WorkspaceTransition": "_wire.models",
    "ApiTree": "_wire.protocol",
    "TaskRef": "_wire.protocol",
    "PollPolicy": "_wire.settings",
    "RetryPolicy": "_wire.settings",
    "Timeouts": "_wire.settings",
    "Preset": "_wire.templates",
    "Template": "_wire.templates",
    "TemplateVersion": "_wire.templates",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "SETTLED_STATES",
    "AgentBusyError",
    "AmbiguousRequestError",
    "ApiChoice",
    "ApiTree",
    "AuthenticationError",
    "BadRequestError",
    "BuildFailedError",
    "ClientClosedError",
    "Clock",
    "CoderAPIError",
    "CoderDecodeError",
    "CoderError",
    "CoderTasksClient",
    "CoderTimeoutError",
    "CoderTransportError",
    "ConflictError",
    "ConversationTracker",
    "EndReason",
    "EntryEvent",
    "Failure",
    "LogCursor",
    "LogEvent",
    "LogEventKind",
    "LogFollower",
    "ManyFollower",
    "ManyWatcher",
    "NotFoundError",
    "Outcome",
    "PausedEvent",
    "PermissionDeniedError",
    "PollPolicy",
    "Preset",
    "Progress",
    "ProvisionerJob",
    "ProvisionerJobStatus",
    "RateLimitError",
    "RateLimiter",
    "ResetEvent",
    "ResponseHook",
    "RetryPolicy",
    "RouteNotFoundError",
    "ServerError",
    "StopConditions",
    "Success",
    "SystemClock",
    "Task",
    "TaskList",
    "TaskLogEntry",
    "TaskLogType",
    "TaskLogs",
    "TaskNotActiveError",
    "TaskNotReadyError",
    "TaskRef",
    "TaskRequest",
    "TaskState",
    "TaskStateEntry",
    "TaskStatus",
    "TaskWatcher",
    "TasksList",
    "Template",
    "TemplateVersion",
    "Timeouts",
    "UnsupportedByServer",
    "Until",
    "ValidationError",
    "WaitTimeoutError",
    "WorkspaceAgentHealth",
    "WorkspaceAgentLifecycle",
    "WorkspaceBuild",
    "WorkspaceStatus",
    "WorkspaceTransition",
    "__version__",
    "create_many",
    "delete_many",
    "get_many",
    "map_bounded",
]
