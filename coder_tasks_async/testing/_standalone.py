"""Run the fake as a standalone server (``python -m coder_tasks_async.testing``)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from ._profile import NEWEST, PROFILES
from ._server import FakeCoder

__all__ = ["main", "serve"]


async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    server_version: str = NEWEST,
    rate_limit: int | None = None,
    seed: int = 0,
    record_requests: bool = False,
    out: TextIO | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve a real-time :class:`FakeCoder` until SIGINT/SIGTERM (or ``stop`` is set).

    ``server_version`` is a profile from ``PROFILES`` or a release version.
    Prints ``URL=<url>`` and ``TOKEN=<token>`` lines to ``out`` (stdout by default)
    so a parent process can read them.  Request recording is off by default
    because a long-running benchmark target would only accumulate it.
    """
    out = out if out is not None else sys.stdout
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # e.g. not the main thread
            pass
    try:
        async with FakeCoder(
            host=host,
            port=port,
            server_version=server_version,
            rate_limit=rate_limit,
            seed=seed,
            record_requests=record_requests,
        ) as fake:
            print(f"URL={fake.url}", file=out, flush=True)
            print(f"TOKEN={fake.token}", file=out, flush=True)
            await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m coder_tasks_async.testing",
        description="Run a fake Coder AI Tasks API server in real time.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--server-version",
        "--profile",
        dest="server_version",
        default=NEWEST,
        help=f"release to imitate: one of {', '.join(PROFILES)}, or a version like v2.30.2",
    )
    parser.add_argument(
        "--rate-limit", type=int, default=None, help="requests/minute; off if unset"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record-requests", action="store_true")
    args = parser.parse_args(argv)
    asyncio.run(
        serve(
            host=args.host,
            port=args.port,
            server_version=args.server_version,
            rate_limit=args.rate_limit if args.rate_limit and args.rate_limit > 0 else None,
            seed=args.seed,
            record_requests=args.record_requests,
        )
    )
    return 0
