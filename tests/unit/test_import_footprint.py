"""What importing the client costs: the layers a program does not use stay unimported.

``from coder_tasks_async import CoderTasksClient`` must not load the polling or
fan-out layers, anyio or cattrs (issue 15: import time), nor the templates' models, the
watch streams or the environment reader (issue 27).  Each loads on first use.
"""

from __future__ import annotations

import subprocess
import sys

_LAZY = (
    "coder_tasks_async._polling",
    "coder_tasks_async._fanout.map_bounded",
    "coder_tasks_async._fanout.ratelimit",
    "anyio",
    "cattrs",
    "coder_tasks_async._stores",
    "sqlite3",
    "asyncpg",
    "coder_tasks_async._wire.templates",
    "coder_tasks_async._http.streams",
    "coder_tasks_async._environment",
)


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_importing_the_client_loads_no_polling_fanout_anyio_or_cattrs() -> None:
    loaded = _modules_after("from coder_tasks_async import CoderTasksClient")
    assert "coder_tasks_async._client" in loaded
    for prefix in _LAZY:
        assert not any(m == prefix or m.startswith(prefix + ".") for m in loaded), prefix


def test_the_layers_load_when_a_method_needs_them() -> None:
    code = (
        "from coder_tasks_async import CoderTasksClient\n"
        "client = CoderTasksClient('http://127.0.0.1:9', token='t')\n"
        "follower = client.follow_logs('00000000-0000-0000-0000-000000000001')\n"
        "assert type(follower).__name__ == 'LogFollower'\n"
    )
    loaded = _modules_after(code)
    assert "coder_tasks_async._polling.follow" in loaded
    assert "coder_tasks_async._polling.conditions" in loaded


def test_templates_streams_and_the_environment_load_when_used() -> None:
    loaded = _modules_after(_RUN)  # it follows a task: a watch stream may be opened
    assert "coder_tasks_async._http.streams" in loaded
    assert "coder_tasks_async._wire.templates" not in loaded
    code = (
        "import asyncio\n"
        "from coder_tasks_async import CoderTasksClient\n"
        "from coder_tasks_async.testing import FakeCoder\n"
        "async def main():\n"
        "    async with FakeCoder() as fake:\n"
        "        async with CoderTasksClient.from_env(url=fake.url, token=fake.token) as coder:\n"
        "            (template,) = await coder.list_templates(has_ai_task=True)\n"
        "            assert type(template).__name__ == 'Template'\n"
        "asyncio.run(main())\n"
    )
    loaded = _modules_after(code)
    assert "coder_tasks_async._wire.templates" in loaded
    assert "coder_tasks_async._environment" in loaded


def test_the_stores_load_their_database_module_only_when_used() -> None:
    loaded = _modules_after("import coder_tasks_async\ncoder_tasks_async.CursorStore")
    assert "sqlite3" not in loaded and "asyncpg" not in loaded
    loaded = _modules_after("from coder_tasks_async import SQLiteCursorStore")
    assert "sqlite3" in loaded and "asyncpg" not in loaded
    loaded = _modules_after("from coder_tasks_async import PostgresCursorStore")
    assert "asyncpg" not in loaded  # imported when the first connection is made


#: A run that sends requests (a retry among them), follows a task and fans out.
_RUN = """
import asyncio, sys
from coder_tasks_async import CoderTasksClient, map_bounded
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

async def main():
    clock = FakeClock()
    async with FakeCoder(clock=clock) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=clock) as coder:
            task = await coder.create_task("x", template_version_id=fake.template_version_id)
            fake.faults.add(Fault(route="get", kind="status", times=1))
            await coder.get_many([task])
            await map_bounded(coder.get_task, [task.id])
            async with coder.follow_logs(task) as follower:
                await anext(follower)

asyncio.run(main())
"""


def test_opentelemetry_installed_but_unused_is_never_imported() -> None:
    # The test extra installs the SDK: being installed must not be enough.
    loaded = _modules_after(
        "import importlib.util\n"
        "assert importlib.util.find_spec('opentelemetry') is not None\n" + _RUN
    )
    assert "coder_tasks_async._polling.follow" in loaded  # the run did follow
    assert not [m for m in loaded if m.split(".")[0] == "opentelemetry"]
    assert "coder_tasks_async._http.otel" not in loaded


def test_without_opentelemetry_the_sdk_works_the_same() -> None:
    # Made unimportable, as when the extra is not installed.
    loaded = _modules_after("import sys\nsys.modules['opentelemetry'] = None\n" + _RUN)
    assert "coder_tasks_async._polling.follow" in loaded
    assert "coder_tasks_async._http.otel" not in loaded


def test_the_api_alone_costs_no_sdk() -> None:
    # An application (or a library) imported the API but configured no provider: spans
    # go to OpenTelemetry's no-op, and nothing of its SDK is loaded.
    loaded = _modules_after("import opentelemetry.trace\n" + _RUN)
    assert "coder_tasks_async._http.otel" in loaded
    assert not [m for m in loaded if m.startswith("opentelemetry.sdk")]
