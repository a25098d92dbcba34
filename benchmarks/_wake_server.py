"""The server of the ``wake`` benchmark, run as a separate process by ``benchmarks/_wake.py``.

``python benchmarks/_wake_server.py --group NAME=COUNT ... [--refuse-ws]``

A real-time :class:`FakeCoder` (the SDK's own fake, serving the workspace watch
streams) with fast lifecycle timings: tasks are ``active`` at once and each agent
reply takes ``REPLY_SECONDS``.  Every ``--group`` is a user of its own owning
``COUNT`` tasks, created up front, so the requests of one client (one token) are
counted apart from every other client's.

Besides the fake, a small control app on another loopback port answers
``GET /counts``: per user, the requests the fake answered (``requests``) and the
watch streams it opened (``streams``; an open stream is not a request), counted
by one of the fake's request observers.

Prints ``URL=``, ``CONTROL=``, ``WALL0_NS=`` (the fake's wall clock, in Unix
nanoseconds, at monotonic time 0: the fake's clock is ``time.monotonic``, so a
timestamp it writes maps back onto this machine's monotonic clock), one
``TOKEN_<NAME>=`` per group, then ``READY``; serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections import Counter
from collections.abc import Sequence

from aiohttp import web

from coder_tasks_async.testing import FakeCoder, RecordedRequest, Timings

CHUNK_INTERVAL = 0.1
CHUNKS = 5
#: Seconds an agent reply takes (grows ``CHUNKS`` times, then is final).
REPLY_SECONDS = CHUNK_INTERVAL * CHUNKS
PROMPT = "Fix the flaky TestLogin in internal/auth/login_test.go and open a pull request."


class Census:
    """Requests and stream opens per user, fed by the fake's request observer."""

    def __init__(self, names: dict[str, str]) -> None:
        self._names = names  # token -> group name
        self.requests: Counter[str] = Counter()
        self.streams: Counter[str] = Counter()
        self.routes: dict[str, Counter[str]] = {}

    def __call__(self, recorded: RecordedRequest) -> None:
        who = self._names.get(recorded.headers.get("Coder-Session-Token", ""), "unknown")
        route = recorded.route or "other"
        if route.startswith("watch_"):
            self.streams[who] += 1
        else:
            self.requests[who] += 1
        self.routes.setdefault(who, Counter())[route] += 1

    def snapshot(self) -> dict[str, dict[str, object]]:
        names = set(self.requests) | set(self.streams)
        return {
            n: {
                "requests": self.requests[n],
                "streams": self.streams[n],
                "routes": dict(self.routes.get(n, {})),
            }
            for n in names
        }


async def serve(groups: dict[str, int], *, refuse_ws: bool = False) -> None:
    timings = Timings(pending=0.0, initializing=0.0, chunk_interval=CHUNK_INTERVAL, chunks=CHUNKS)
    async with FakeCoder(timings=timings, record_requests=False) as fake:
        # Only the event stream: its followers take the server-sent-events twin.
        fake.watch.faults.refuse_ws = refuse_ws
        tokens: dict[str, str] = {}
        for name, count in groups.items():
            user = fake.add_user(name)
            tokens[user.token] = name
            for i in range(count):
                fake.state.create_task(user, f"{PROMPT} ({name} #{i})", None, None)
        census = Census(tokens)
        fake.request_observers.append(census)

        async def counts(_: web.Request) -> web.Response:
            body = {"users": census.snapshot(), "open_streams": fake.watch.open_streams}
            return web.json_response(body)

        app = web.Application()
        app.router.add_get("/counts", counts)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        try:
            print(f"URL={fake.url}", flush=True)
            print(f"CONTROL=http://{host}:{port}", flush=True)
            print(f"WALL0_NS={fake.state.wall_ns(0.0)}", flush=True)
            for token, name in tokens.items():
                print(f"TOKEN_{name.upper()}={token}", flush=True)
            print("READY", flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
        finally:
            await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--group", action="append", default=[], help="NAME=COUNT (a user)")
    parser.add_argument("--refuse-ws", action="store_true", help="serve no websocket watch")
    args = parser.parse_args(argv)
    groups = {}
    for spec in args.group:
        name, _, count = spec.partition("=")
        groups[name] = int(count)
    asyncio.run(serve(groups, refuse_ws=args.refuse_ws))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
