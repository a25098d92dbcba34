"""Error handling with the typed error hierarchy."""

from __future__ import annotations

from coder_tasks_async import (
    AmbiguousRequestError,
    CoderAPIError,
    CoderError,
    CoderTasksClient,
    NotFoundError,
    RateLimitError,
    Task,
    TaskNotReadyError,
    TaskState,
    TaskStatus,
    WaitTimeoutError,
)


async def careful_send(coder: CoderTasksClient, name: str, text: str) -> str:
    try:
        await coder.send_input(name, text, wait_ready=True, ready_timeout=60)
    except TaskNotReadyError as exc:
        paused: Task = exc.task
        return f"{paused.name} is {paused.status.value}"
    except WaitTimeoutError as exc:
        last: Task | None = exc.task
        return "never ready" if last is None else f"stuck in {last.status}"
    except AmbiguousRequestError as exc:
        return f"maybe delivered: {exc}"
    except RateLimitError as exc:
        wait: float | None = exc.retry_after
        return f"slow down for {wait}s"
    except NotFoundError:
        return "no such task"
    except CoderAPIError as exc:
        status: int = exc.status
        return f"{status} {exc.message} {exc.detail}"
    except CoderError as exc:
        return str(exc)
    return "sent"


async def wait_idle(coder: CoderTasksClient, name: str) -> TaskState | None:
    task = await coder.wait_for(name, until=[TaskState.IDLE, TaskStatus.ERROR], timeout=600)
    return task.state
