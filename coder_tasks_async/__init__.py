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

from ._endpoints.tasks import ApiChoice
from ._facade import CoderTasksClient
from ._fanout.bounded import TaskRequest, map_bounded
from ._fanout.deprecated import create_many, delete_many, get_many
from ._fanout.outcome import Failure, Outcome, Progress, Success
from ._fanout.ratelimit import RateLimiter
from ._http.clock import Clock, SystemClock
from ._http.hooks import ResponseHook
from ._polling.conditions import StopConditions, Until
from ._polling.follow import LogEvent, LogEventKind, LogFollower
from ._polling.logcursor import LogCursor, Step, StepKind
from ._polling.many import ManyFollower, ManyWatcher
from ._polling.watch import TaskWatcher
from ._version import __version__
from ._wire.errors import (
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
from ._wire.models import (
    SETTLED_STATES,
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
from ._wire.protocol import ApiTree, TaskRef
from ._wire.settings import PollPolicy, RetryPolicy, Timeouts

__all__ = [
    "SETTLED_STATES",
    "AgentBusyError",
    "AmbiguousRequestError",
    "ApiChoice",
    "ApiTree",
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
    "Failure",
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
    "Progress",
    "RateLimitError",
    "RateLimiter",
    "ResponseHook",
    "RetryPolicy",
    "RouteNotFoundError",
    "ServerError",
    "Step",
    "StepKind",
    "StopConditions",
    "Success",
    "SystemClock",
    "Task",
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
    "Timeouts",
    "UnsupportedByServer",
    "Until",
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
