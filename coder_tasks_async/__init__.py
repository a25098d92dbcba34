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
    from ._client import CoderTasksClient
    from ._clock import Clock, SystemClock
    from ._errors import (
        AgentBusyError,
        AmbiguousRequestError,
        AuthenticationError,
        BadRequestError,
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
    from ._fanout import Outcome, TaskRequest, create_many, delete_many, get_many, map_bounded
    from ._follow import LogEvent, LogEventKind, LogFollower
    from ._logcursor import LogCursor
    from ._many import ManyFollower, ManyWatcher
    from ._models import (
        Task,
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
    )
    from ._polling import PollPolicy
    from ._ratelimit import RateLimiter
    from ._retry import RetryPolicy
    from ._templates import Template, TemplateVersion
    from ._transport import Timeouts
    from ._watch import TaskWatcher

# Names load on first use (PEP 562): `coder-tasks --help` and other light users of
# the package must not pay for importing aiohttp.
_LAZY: dict[str, str] = {
    "CoderTasksClient": "_client",
    "Clock": "_clock",
    "SystemClock": "_clock",
    "AgentBusyError": "_errors",
    "AmbiguousRequestError": "_errors",
    "AuthenticationError": "_errors",
    "BadRequestError": "_errors",
    "ClientClosedError": "_errors",
    "CoderAPIError": "_errors",
    "CoderDecodeError": "_errors",
    "CoderError": "_errors",
    "CoderTimeoutError": "_errors",
    "CoderTransportError": "_errors",
    "ConflictError": "_errors",
    "NotFoundError": "_errors",
    "PermissionDeniedError": "_errors",
    "RateLimitError": "_errors",
    "RouteNotFoundError": "_errors",
    "ServerError": "_errors",
    "TaskNotActiveError": "_errors",
    "TaskNotReadyError": "_errors",
    "UnsupportedByServer": "_errors",
    "ValidationError": "_errors",
    "WaitTimeoutError": "_errors",
    "Outcome": "_fanout",
    "TaskRequest": "_fanout",
    "create_many": "_fanout",
    "delete_many": "_fanout",
    "get_many": "_fanout",
    "map_bounded": "_fanout",
    "LogEvent": "_follow",
    "LogEventKind": "_follow",
    "LogFollower": "_follow",
    "LogCursor": "_logcursor",
    "ManyFollower": "_many",
    "ManyWatcher": "_many",
    "Task": "_models",
    "TaskLogEntry": "_models",
    "TaskLogs": "_models",
    "TaskLogType": "_models",
    "TasksList": "_models",
    "TaskState": "_models",
    "TaskStateEntry": "_models",
    "TaskStatus": "_models",
    "WorkspaceAgentHealth": "_models",
    "WorkspaceAgentLifecycle": "_models",
    "WorkspaceBuild": "_models",
    "WorkspaceStatus": "_models",
    "PollPolicy": "_polling",
    "RateLimiter": "_ratelimit",
    "RetryPolicy": "_retry",
    "Template": "_templates",
    "TemplateVersion": "_templates",
    "Timeouts": "_transport",
    "TaskWatcher": "_watch",
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
    "AgentBusyError",
    "AmbiguousRequestError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "Clock",
    "CoderAPIError",
    "CoderDecodeError",
    "CoderError",
    "CoderTasksClient",
    "CoderTimeoutError",
    "CoderTransportError",
    "ConflictError",
    "LogCursor",
    "LogEvent",
    "LogEventKind",
    "LogFollower",
    "ManyFollower",
    "ManyWatcher",
    "NotFoundError",
    "Outcome",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "RateLimiter",
    "RetryPolicy",
    "RouteNotFoundError",
    "ServerError",
    "SystemClock",
    "Task",
    "TaskLogEntry",
    "TaskLogType",
    "TaskLogs",
    "TaskNotActiveError",
    "TaskNotReadyError",
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
    "ValidationError",
    "WaitTimeoutError",
    "WorkspaceAgentHealth",
    "WorkspaceAgentLifecycle",
    "WorkspaceBuild",
    "WorkspaceStatus",
    "__version__",
    "create_many",
    "delete_many",
    "get_many",
    "map_bounded",
]
