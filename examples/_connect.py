"""Where the examples run: your deployment when ``CODER_URL`` is set, else a FakeCoder.

With ``CODER_URL`` (plus ``CODER_SESSION_TOKEN``, or the config dir ``coder login``
writes) the examples use ``CoderTasksClient.from_env()`` and create tasks on the
template version ``CODER_TASK_TEMPLATE_VERSION`` (one with a ``coder_ai_task``
resource).  Without it they start an in-process FakeCoder, so they run anywhere.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from coder_tasks_async import CoderTasksClient
from coder_tasks_async.testing import FakeCoder, Timings


@asynccontextmanager
async def connect(server_version: str = "v2.28.0") -> AsyncIterator[tuple[CoderTasksClient, str]]:
    """Yield ``(client, template_version_id)``; the fake imitates ``server_version``."""
    if os.environ.get("CODER_URL"):
        template_version = os.environ.get("CODER_TASK_TEMPLATE_VERSION", "")
        if not template_version:
            raise SystemExit("set CODER_TASK_TEMPLATE_VERSION to an AI task template version id")
        async with CoderTasksClient.from_env() as coder:
            yield coder, template_version
        return
    # Real time, but quick: a task is active after 0.5 s and answers in 0.6 s.
    timings = Timings(pending=0.2, initializing=0.3, chunk_interval=0.2, chunks=3)
    async with FakeCoder(timings=timings, server_version=server_version) as fake:
        print(f"(CODER_URL is not set: using a FakeCoder at {fake.url})")
        async with CoderTasksClient(fake.url, token=fake.token) as coder:
            yield coder, str(fake.template_version_id)
