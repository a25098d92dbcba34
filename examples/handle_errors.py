"""Handling errors: which exception means what, and what the server said.

CoderError
├── CoderAPIError (status, message, detail, validations, method, url)
│   ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
│   ├── NotFoundError 404, ConflictError 409, RateLimitError 429, ServerError 5xx
├── CoderTransportError (connection, TLS) > CoderTimeoutError, AmbiguousRequestError
├── CoderDecodeError, UnsupportedByServerError, TaskNotReadyError, WaitTimeoutError
└── ClientClosedError
ValueError / TypeError: bad arguments, refused before any request

python examples/handle_errors.py
"""

from __future__ import annotations

import anyio
from _connect import connect

from coder_tasks_async import (
    AuthenticationError,
    CoderAPIError,
    CoderTasksClient,
    CoderTransportError,
    ConflictError,
    NotFoundError,
    RetryPolicy,
    TaskStatus,
)


async def main() -> None:
    async with connect() as (coder, template_version):
        try:
            await coder.get_task("no-such-task")
        except NotFoundError as exc:
            print(f"404 {exc.method} {exc.url}: {exc.message}")

        task = await coder.create_task("Write the docs", template_version_id=template_version)
        try:
            await coder.create_task("Again", template_version_id=template_version, name=task.name)
        except ConflictError as exc:
            print(f"409: {exc.message}")
            for v in exc.validations:
                print(f"  {v.field}: {v.detail}")
        finally:
            # Coder refuses a delete while the start build runs (409): wait it out.
            await coder.wait_for(task, until=lambda t: t.status != TaskStatus.PENDING, timeout=300)
            await coder.delete_task(task)

        try:
            await coder.create_task("x", template_version_id=template_version, name="Not valid!")
        except ValueError as exc:
            print(f"refused before sending: {exc}")

        fake_token = "0123456789-abcdefghijklmnopqrstuv"
        async with CoderTasksClient(coder.url, token=fake_token) as stranger:
            try:
                await stranger.list_tasks()
            except AuthenticationError as exc:
                print(f"401: {exc.message} ({exc.detail})")

        # Nothing listens on port 9; RetryPolicy.none() skips the retries with backoff.
        nowhere = CoderTasksClient("http://127.0.0.1:9", token=fake_token, retry=RetryPolicy.none())
        async with nowhere:
            try:
                await nowhere.list_tasks()
            except CoderAPIError as exc:  # the server answered, with an error status
                print(f"HTTP {exc.status}: {exc.message}")
            except CoderTransportError as exc:  # no usable answer at all
                print(f"transport: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    anyio.run(main)
