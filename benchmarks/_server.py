"""Benchmark-specific servers, run as separate processes by ``benchmarks/run.py``.

``python benchmarks/_server.py fake --tasks 1000 [--chunk-interval S --chunks N]``
    A real-time :class:`FakeCoder` (the SDK's own fake, so every body has the
    contract's shape) with ``--tasks`` tasks created up front through its state and
    lifecycle timings of zero, so they are ``active`` as soon as it prints ``READY``.
    With a long ``--chunks`` the agent keeps working: the last reply grows every
    ``--chunk-interval`` seconds, as a busy agent's does.

``python benchmarks/_server.py logs --entries 10000 [--content-chars 40]``
    A plain aiohttp app serving ``GET /api/experimental/tasks/{user}/{task}/logs``: a
    fixed conversation of ``--entries`` entries shaped like
    ``tests/fixtures/v2.28/task_logs.json``, whose last (output) entry changes on every
    request (a counter is appended to its content and its time moves), as a
    working agent's newest reply does.  Bodies are spliced from a pre-encoded
    prefix, so the server stays cheap.  ``--content-chars N`` keeps only the first
    line of each message, cut to N characters (a conversation of short entries,
    where the per-entry work weighs most).

``python benchmarks/_server.py task``
    A plain aiohttp app serving ``GET /api/experimental/tasks/{user}/{task}``: the
    ``tests/fixtures/v2.28/task.json`` task with a working agent whose status message, state
    timestamp and ``updated_at`` move on every request, so no two bodies are alike
    (what a client polling a fleet of busy tasks receives).

All print ``URL=``, ``TOKEN=`` and extra ``KEY=value`` lines, then ``READY``, and
serve until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from coder_tasks_async.testing import FakeCoder, Timings

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "v2.28"
PROMPT = "Fix the flaky TestLogin in internal/auth/login_test.go and open a pull request."
TOKEN = "benchmark0-abcdefghijklmnopqrstuv"
_JSON = "application/json; charset=utf-8"


def _announce(**values: object) -> None:
    for key, value in values.items():
        print(f"{key}={value}", flush=True)
    print("READY", flush=True)


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


# -- a pre-populated FakeCoder -------------------------------------------------------


async def serve_fake(tasks: int, chunk_interval: float, chunks: int) -> None:
    timings = Timings(pending=0.0, initializing=0.0, chunk_interval=chunk_interval, chunks=chunks)
    async with FakeCoder(timings=timings, record_requests=False) as fake:
        for i in range(tasks):
            fake.state.create_task(fake.user, f"{PROMPT} (#{i})", None, None)
        _announce(
            URL=fake.url,
            TOKEN=fake.token,
            TEMPLATE_VERSION_ID=fake.template_version_id,
            TASKS=tasks,
        )
        await _until_signalled()


# -- a static 10,000-entry conversation ------------------------------------------


def _rfc3339_ns(t: datetime, nanos: int) -> str:
    return f"{t:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def build_entries(count: int, content_chars: int = 0) -> list[dict[str, Any]]:
    """``count`` entries cycling through the fixture's messages, ids dense, last is output.

    ``content_chars``: keep only each message's first line, cut to that many characters.
    """
    fixture = json.loads((FIXTURES / "task_logs.json").read_text())["logs"]
    start = datetime(2025, 10, 27, 14, 0, 0, tzinfo=UTC)
    entries = []
    for i in range(count):
        model = fixture[i % len(fixture)]
        if i == count - 1:
            model = next(e for e in reversed(fixture) if e["type"] == "output")
        at = start + timedelta(seconds=i)
        content = model["content"]
        if content_chars:
            content = content.splitlines()[0][:content_chars]
        entries.append(
            {
                "id": i,
                "content": content,
                "type": model["type"],
                "time": _rfc3339_ns(at, 114_201_553 + i % 1000),
            }
        )
    return entries


def _encode(value: Any) -> bytes:
    # Compact, non-ASCII kept as UTF-8: the way coderd's json.Encoder writes it.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class ChangingLogs:
    """Encodes the conversation once; every response rewrites only the last entry."""

    def __init__(self, count: int, content_chars: int = 0) -> None:
        entries = build_entries(count, content_chars)
        self._last = entries[-1]
        self._prefix = b'{"logs":[' + b",".join(_encode(e) for e in entries[:-1]) + b","
        self._epoch = datetime(2025, 10, 27, 14, 0, 0, tzinfo=UTC) + timedelta(seconds=count)
        self.version = 0

    def body(self) -> bytes:
        self.version += 1
        last = dict(self._last)
        last["content"] = f"{last['content']}\n● step {self.version}"
        last["time"] = _rfc3339_ns(self._epoch + timedelta(seconds=self.version), 553)
        return self._prefix + _encode(last) + b"]}\n"


def _authorized(request: web.Request) -> bool:
    return request.headers.get("Coder-Session-Token") == TOKEN


async def _serve_app(app: web.Application, **announce: object) -> None:
    """Serve ``app`` on a free loopback port, announce it (plus ``announce``), until signalled."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        _announce(URL=f"http://{host}:{port}", TOKEN=TOKEN, **announce)
        await _until_signalled()
    finally:
        await runner.cleanup()


# -- one task whose body changes on every request ------------------------------------


class ChangingTask:
    """The fixture task; every body has a new status message and newer timestamps.

    The fields that move are the last ones of the object, so a body is a fixed,
    pre-encoded prefix plus a small tail encoded per request.
    """

    def __init__(self, fixture: dict[str, Any]) -> None:
        task = dict(fixture)
        self._state = dict(task.pop("current_state"), state="working", uri="")
        task.pop("updated_at")
        self._prefix = _encode(task)[:-1] + b","
        self._epoch = datetime.fromisoformat(fixture["updated_at"])
        self.version = 0

    def body(self) -> bytes:
        self.version += 1
        at = self._epoch + timedelta(milliseconds=7 * self.version)
        stamp = f"{at:%Y-%m-%dT%H:%M:%S.%f}Z"
        state = dict(self._state, timestamp=stamp, message=f"Step {self.version}: running tests")
        tail = {"current_state": state, "updated_at": stamp}
        return self._prefix + _encode(tail)[1:] + b"\n"


async def serve_task() -> None:
    fixture = json.loads((FIXTURES / "task.json").read_text())
    task = ChangingTask(fixture)

    async def get_task(request: web.Request) -> web.Response:
        if not _authorized(request):
            return web.json_response({"message": "unauthorized"}, status=401)
        if request.match_info["task"] != fixture["id"]:
            return web.json_response({"message": "not found"}, status=404)
        return web.Response(body=task.body(), headers=headers)

    # coderd names its release on every response; the fixture is from v2.28.
    headers = {"Content-Type": _JSON, "X-Coder-Build-Version": "v2.28.0"}
    app = web.Application()
    app.router.add_get("/api/experimental/tasks/{user}/{task}", get_task)
    await _serve_app(app, TASK_ID=fixture["id"])


async def serve_logs(entries: int, content_chars: int) -> None:
    logs = ChangingLogs(entries, content_chars)
    fixture_task = (FIXTURES / "task.json").read_bytes()

    async def get_logs(request: web.Request) -> web.Response:
        if not _authorized(request):
            return web.json_response({"message": "unauthorized"}, status=401)
        return web.Response(body=logs.body(), headers={"Content-Type": _JSON})

    async def get_task(request: web.Request) -> web.Response:
        if not _authorized(request):
            return web.json_response({"message": "unauthorized"}, status=401)
        return web.Response(body=fixture_task, headers={"Content-Type": _JSON})

    app = web.Application()
    app.router.add_get("/api/experimental/tasks/{user}/{task}/logs", get_logs)
    app.router.add_get("/api/experimental/tasks/{user}/{task}", get_task)
    await _serve_app(app, TASK_ID=json.loads(fixture_task)["id"], ENTRIES=entries)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="mode", required=True)
    fake = sub.add_parser("fake", help="a FakeCoder with tasks created up front")
    fake.add_argument("--tasks", type=int, default=1000)
    fake.add_argument("--chunk-interval", type=float, default=1.0)
    fake.add_argument("--chunks", type=int, default=4)
    logs = sub.add_parser("logs", help="a large conversation whose last entry keeps changing")
    logs.add_argument("--entries", type=int, default=10_000)
    logs.add_argument("--content-chars", type=int, default=0)
    sub.add_parser("task", help="one task whose body changes on every request")
    args = parser.parse_args(argv)
    if args.mode == "fake":
        asyncio.run(serve_fake(args.tasks, args.chunk_interval, args.chunks))
    elif args.mode == "task":
        asyncio.run(serve_task())
    else:
        asyncio.run(serve_logs(args.entries, args.content_chars))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
