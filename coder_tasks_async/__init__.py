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
from ._follow import EndReason, LogFollower
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
from ._tracker import (
    ConversationTracker,
    EntryEvent,
    LogEvent,
    LogEventKind,
    PausedEvent,
    ResetEvent,
)
from ._transport import Timeouts
from ._version import __version__
from ._watch import TaskWatcher

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
    "ConversationTracker",
    "EndReason",
    "EntryEvent",
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
    "RateLimitError",
    "RateLimiter",
    "ResetEvent",
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
