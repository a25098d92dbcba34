"""``fake-server``: run :class:`~coder_tasks_async.testing.FakeCoder` standalone, in real time."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Annotated

import anyio
import typer

from . import _output as out
from ._app import app, run, usage_error

if TYPE_CHECKING:
    from ..testing import Timings

__all__ = ["fake_server", "scaled_timings"]


def scaled_timings(speed: float) -> Timings:
    """The default :class:`Timings` with every duration divided by ``speed``."""
    # Imported here: the fake server's modules would slow every other command's start.
    from ..testing import Timings

    base = Timings()
    return Timings(
        pending=base.pending / speed,
        initializing=base.initializing / speed,
        chunk_interval=base.chunk_interval / speed,
        chunks=base.chunks,
    )


@app.command("fake-server")
def fake_server(
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free one).")] = 0,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    server_version: Annotated[
        str, typer.Option("--server-version", help="Coder version to imitate (v2.26 to v2.31+).")
    ] = "v2.28.0",
    rate_limit: Annotated[
        int | None,
        typer.Option("--rate-limit", help="Requests per minute per user and route (default off)."),
    ] = None,
    speed: Annotated[
        float, typer.Option("--speed", help="Run the task lifecycle this many times faster.")
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed for names and ids.")] = 0,
) -> None:
    """Run a fake Coder Tasks API server until Ctrl-C or SIGTERM.

    Prints URL=, TOKEN=, TEMPLATE_VERSION= and PRESET= lines on stdout for scripts,
    and the matching `export` line on stderr for people.
    """
    if speed <= 0:
        usage_error("--speed must be positive")
    if rate_limit is not None and rate_limit <= 0:
        usage_error("--rate-limit must be positive")

    async def main() -> None:
        from ..testing import FakeCoder

        # Own signal handling: stopping a server on purpose is a success (exit 0).
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            fake = FakeCoder(
                host=host,
                port=port,
                server_version=server_version,
                rate_limit=rate_limit,
                timings=scaled_timings(speed),
                seed=seed,
                # Recording would only grow in a long-running server.
                record_requests=False,
            )
            try:
                await fake.start()
            except OSError as exc:  # address in use, no such interface...
                out.print_error(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}")
                raise typer.Exit(1) from None
            try:
                for key, value in (
                    ("URL", fake.url),
                    ("TOKEN", fake.token),
                    ("TEMPLATE_VERSION", fake.template_version_id),
                    ("PRESET", fake.preset_id),
                ):
                    print(f"{key}={value}", flush=True)
                out.err_console.print(
                    f"export CODER_URL={fake.url} CODER_SESSION_TOKEN={fake.token} "
                    f"CODER_TASK_TEMPLATE_VERSION={fake.template_version_id}\n"
                    "[dim]Fake Coder is running; Ctrl-C to stop.[/]",
                    highlight=False,
                )
                async for _ in signals:
                    break
            finally:
                await fake.close()

    run(main)
