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

# The public API, declared once: these imports.  Type checkers read them; the
# lazy-loading table and ``__all__`` below are generated from them
# (``python tests/unit/test_exported_members.py --write``) and a test fails when
# they drift.  Names load on first use (PEP 562) so that `coder-tasks --help` and
# other light users of the package never pay for importing aiohttp.
if TYPE_CHECKING:
    from ._client import CoderTasksClient as CoderTasksClient
    from ._endpoints.calls import ApiChoice as ApiChoice
    from ._fanout.client_methods import TaskRequest as TaskRequest
    from ._fanout.client_methods import create_many as create_many
    from ._fanout.client_methods import delete_many as delete_many
    from ._fanout.client_methods import get_many as get_many
    from ._fanout.map_bounded import map_bounded as map_bounded
    from ._fanout.outcome import Failure as Failure
    from ._fanout.outcome import Outcome as Outcome
    from ._fanout.outcome import Progress as Progress
    from ._fanout.outcome import Success as Success
    from ._fanout.ratelimit import RateLimiter as RateLimiter
    from ._http.clock import Clock as Clock
    from ._http.clock import SystemClock as SystemClock
    from ._http.hooks import ResponseHook as ResponseHook
    from ._polling.conditions import StopConditions as StopConditions
    from ._polling.conditions import Until as Until
    from ._polling.events import EntryEvent as EntryEvent
    from ._polling.events import LogEvent as LogEvent
    from ._polling.events import LogEventKind as LogEventKind
    from ._polling.events import PausedEvent as PausedEvent
    from ._polling.events import ResetEvent as ResetEvent
    from ._polling.fleet import FleetFollower as FleetFollower
    from ._polling.follow import EndReason as EndReason
    from ._polling.follow import LogFollower as LogFollower
    from ._polling.logcursor import LogCursor as LogCursor
    from ._polling.many_tasks import ManyFollower as ManyFollower
    from ._polling.many_tasks import ManyWatcher as ManyWatcher
    from ._polling.settle import SendOutcome as SendOutcome
    from ._polling.tracker import ConversationTracker as ConversationTracker
    from ._polling.watch import TaskWatcher as TaskWatcher
    from ._stores.base import CursorStore as CursorStore
    from ._stores.base import Lease as Lease
    from ._stores.postgres import PostgresCursorStore as PostgresCursorStore
    from ._stores.sqlite import SQLiteCursorStore as SQLiteCursorStore
    from ._wire.errors import AgentBusyConflict as AgentBusyConflict
    from ._wire.errors import AgentBusyError as AgentBusyError
    from ._wire.errors import AgentBusyServerError as AgentBusyServerError
    from ._wire.errors import AmbiguousRequestError as AmbiguousRequestError
    from ._wire.errors import AuthenticationError as AuthenticationError
    from ._wire.errors import BadRequestError as BadRequestError
    from ._wire.errors import BuildFailedError as BuildFailedError
    from ._wire.errors import ClientClosedError as ClientClosedError
    from ._wire.errors import CoderAPIError as CoderAPIError
    from ._wire.errors import CoderDecodeError as CoderDecodeError
    from ._wire.errors import CoderError as CoderError
    from ._wire.errors import CoderTimeoutError as CoderTimeoutError
    from ._wire.errors import CoderTransportError as CoderTransportError
    from ._wire.errors import ConflictError as ConflictError
    from ._wire.errors import LeaseLostError as LeaseLostError
    from ._wire.errors import NotFoundError as NotFoundError
    from ._wire.errors import PermissionDeniedError as PermissionDeniedError
    from ._wire.errors import RateLimitError as RateLimitError
    from ._wire.errors import RouteNotFoundError as RouteNotFoundError
    from ._wire.errors import ServerError as ServerError
    from ._wire.errors import StoreSchemaError as StoreSchemaError
    from ._wire.errors import TaskNotActiveBadRequest as TaskNotActiveBadRequest
    from ._wire.errors import TaskNotActiveConflict as TaskNotActiveConflict
    from ._wire.errors import TaskNotActiveError as TaskNotActiveError
    from ._wire.errors import TaskNotReadyError as TaskNotReadyError
    from ._wire.errors import TaskPausedError as TaskPausedError
    from ._wire.errors import UnsupportedByServerError as UnsupportedByServerError
    from ._wire.errors import ValidationError as ValidationError
    from ._wire.errors import WaitTimeoutError as WaitTimeoutError
    from ._wire.models import SETTLED_STATES as SETTLED_STATES
    from ._wire.models import ProvisionerJob as ProvisionerJob
    from ._wire.models import ProvisionerJobStatus as ProvisionerJobStatus
    from ._wire.models import Task as Task
    from ._wire.models import TaskList as TaskList
    from ._wire.models import TaskLogEntry as TaskLogEntry
    from ._wire.models import TaskLogs as TaskLogs
    from ._wire.models import TaskLogType as TaskLogType
    from ._wire.models import TasksList as TasksList
    from ._wire.models import TaskState as TaskState
    from ._wire.models import TaskStateEntry as TaskStateEntry
    from ._wire.models import TaskStatus as TaskStatus
    from ._wire.models import WorkspaceAgentHealth as WorkspaceAgentHealth
    from ._wire.models import WorkspaceAgentLifecycle as WorkspaceAgentLifecycle
    from ._wire.models import WorkspaceBuild as WorkspaceBuild
    from ._wire.models import WorkspaceStatus as WorkspaceStatus
    from ._wire.models import WorkspaceTransition as WorkspaceTransition
    from ._wire.protocol import ApiTree as ApiTree
    from ._wire.protocol import TaskRef as TaskRef
    from ._wire.settings import PollPolicy as PollPolicy
    from ._wire.settings import RetryPolicy as RetryPolicy
    from ._wire.settings import Timeouts as Timeouts
    from ._wire.templates import Preset as Preset
    from ._wire.templates import Template as Template
    from ._wire.templates import TemplateVersion as TemplateVersion

# --- generated from the imports above; do not edit by hand -------------------
_LAZY: dict[str, str] = {
    "AgentBusyConflict": "_wire.errors",
    "AgentBusyError": "_wire.errors",
    "AgentBusyServerError": "_wire.errors",
    "AmbiguousRequestError": "_wire.errors",
    "ApiChoice": "_endpoints.calls",
    "ApiTree": "_wire.protocol",
    "AuthenticationError": "_wire.errors",
    "BadRequestError": "_wire.errors",
    "BuildFailedError": "_wire.errors",
    "ClientClosedError": "_wire.errors",
    "Clock": "_http.clock",
    "CoderAPIError": "_wire.errors",
    "CoderDecodeError": "_wire.errors",
    "CoderError": "_wire.errors",
    "CoderTasksClient": "_client",
    "CoderTimeoutError": "_wire.errors",
    "CoderTransportError": "_wire.errors",
    "ConflictError": "_wire.errors",
    "ConversationTracker": "_polling.tracker",
    "CursorStore": "_stores.base",
    "EndReason": "_polling.follow",
    "EntryEvent": "_polling.events",
    "Failure": "_fanout.outcome",
    "FleetFollower": "_polling.fleet",
    "Lease": "_stores.base",
    "LeaseLostError": "_wire.errors",
    "LogCursor": "_polling.logcursor",
    "LogEvent": "_polling.events",
    "LogEventKind": "_polling.events",
    "LogFollower": "_polling.follow",
    "ManyFollower": "_polling.many_tasks",
    "ManyWatcher": "_polling.many_tasks",
    "NotFoundError": "_wire.errors",
    "Outcome": "_fanout.outcome",
    "PausedEvent": "_polling.events",
    "PermissionDeniedError": "_wire.errors",
    "PollPolicy": "_wire.settings",
    "PostgresCursorStore": "_stores.postgres",
    "Preset": "_wire.templates",
    "Progress": "_fanout.outcome",
    "ProvisionerJob": "_wire.models",
    "ProvisionerJobStatus": "_wire.models",
    "RateLimitError": "_wire.errors",
    "RateLimiter": "_fanout.ratelimit",
    "ResetEvent": "_polling.events",
    "ResponseHook": "_http.hooks",
    "RetryPolicy": "_wire.settings",
    "RouteNotFoundError": "_wire.errors",
    "SETTLED_STATES": "_wire.models",
    "SQLiteCursorStore": "_stores.sqlite",
    "SendOutcome": "_polling.settle",
    "ServerError": "_wire.errors",
    "StopConditions": "_polling.conditions",
    "StoreSchemaError": "_wire.errors",
    "Success": "_fanout.outcome",
    "SystemClock": "_http.clock",
    "Task": "_wire.models",
    "TaskList": "_wire.models",
    "TaskLogEntry": "_wire.models",
    "TaskLogType": "_wire.models",
    "TaskLogs": "_wire.models",
    "TaskNotActiveBadRequest": "_wire.errors",
    "TaskNotActiveConflict": "_wire.errors",
    "TaskNotActiveError": "_wire.errors",
    "TaskNotReadyError": "_wire.errors",
    "TaskPausedError": "_wire.errors",
    "TaskRef": "_wire.protocol",
    "TaskRequest": "_fanout.client_methods",
    "TaskState": "_wire.models",
    "TaskStateEntry": "_wire.models",
    "TaskStatus": "_wire.models",
    "TaskWatcher": "_polling.watch",
    "TasksList": "_wire.models",
    "Template": "_wire.templates",
    "TemplateVersion": "_wire.templates",
    "Timeouts": "_wire.settings",
    "UnsupportedByServerError": "_wire.errors",
    "Until": "_polling.conditions",
    "ValidationError": "_wire.errors",
    "WaitTimeoutError": "_wire.errors",
    "WorkspaceAgentHealth": "_wire.models",
    "WorkspaceAgentLifecycle": "_wire.models",
    "WorkspaceBuild": "_wire.models",
    "WorkspaceStatus": "_wire.models",
    "WorkspaceTransition": "_wire.models",
    "create_many": "_fanout.client_methods",
    "delete_many": "_fanout.client_methods",
    "get_many": "_fanout.client_methods",
    "map_bounded": "_fanout.map_bounded",
}
__all__ = [
    "SETTLED_STATES",
    "AgentBusyConflict",
    "AgentBusyError",
    "AgentBusyServerError",
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
    "CursorStore",
    "EndReason",
    "EntryEvent",
    "Failure",
    "FleetFollower",
    "Lease",
    "LeaseLostError",
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
    "PostgresCursorStore",
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
    "SQLiteCursorStore",
    "SendOutcome",
    "ServerError",
    "StopConditions",
    "StoreSchemaError",
    "Success",
    "SystemClock",
    "Task",
    "TaskList",
    "TaskLogEntry",
    "TaskLogType",
    "TaskLogs",
    "TaskNotActiveBadRequest",
    "TaskNotActiveConflict",
    "TaskNotActiveError",
    "TaskNotReadyError",
    "TaskPausedError",
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
    "UnsupportedByServerError",
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
# --- end of generated code ---------------------------------------------------

#: Old spellings of public names: still importable, with a DeprecationWarning.
_RENAMED = {"UnsupportedByServer": "UnsupportedByServerError"}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        if name in _RENAMED:
            from ._wire.deprecation import renamed

            renamed(name, _RENAMED[name], stacklevel=2)
            return __getattr__(_RENAMED[name])
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    _claim()
    globals()[name] = value  # later lookups skip this function
    return value


def _claim() -> None:
    """Show the loaded public classes and functions as ``coder_tasks_async.X``.

    Tracebacks and reprs then name the public path (as httpx's and openai's do), and
    pickles refer to it, which resolves through this module's lazy loading.  attrs
    models get their annotations resolved first: those are looked up in the module
    that ``__module__`` names.
    """
    import sys
    from types import FunctionType

    for name, module in _LAZY.items():
        loaded = sys.modules.get(f"{__name__}.{module}")
        obj = None if loaded is None else getattr(loaded, name)
        if isinstance(obj, type) and obj.__module__ != __name__:
            if hasattr(obj, "__attrs_attrs__"):
                import attrs

                attrs.resolve_types(obj)
            obj.__module__ = __name__
        elif isinstance(obj, FunctionType):
            obj.__module__ = __name__


def __dir__() -> list[str]:
    return sorted(__all__)
