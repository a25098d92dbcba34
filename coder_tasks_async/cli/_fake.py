"""``fake-server``: run :class:`~coder_tasks_async.testing.FakeCoder` standalone, in real time.

``python -m coder_tasks_async.testing`` runs this same command (:func:`standalone`),
so both have one set of options and one help text.
"""

from __future__ import annotations

import ipaddress
import signal
import string
from typing import TYPE_CHECKING, Annotated

import typer

from .. import testing
from . import _terminal as out
from ._app import app
from ._runner import run, usage_error

if TYPE_CHECKING:
    from ..testing import FakeCoder, Timings

__all__ = ["KNOWN_VERSIONS", "fake_server", "scaled_timings", "standalone"]

#: The releases the fake imitates, oldest first; the newest is the default.  The fake's
#: own list (plain data: reading it loads no server, so --help stays light).
KNOWN_VERSIONS: tuple[str, ...] = testing.PROFILES
_TOKEN_CHARS = string.ascii_letters + string.digits


def known_versions() -> tuple[str, ...]:
    """The fake's release profiles, oldest first (:data:`KNOWN_VERSIONS`)."""
    return KNOWN_VERSIONS


def _fake_accepts(version: str) -> bool:
    """Whether FakeCoder imitates ``version`` (a profile name or a release such as v2.30.2)."""
    from ..testing import FakeCoder

    try:
        FakeCoder(server_version=version)
    except ValueError:
        return False
    return True


def scaled_timings(speed: float) -> Timings:
    """The default :class:`Timings` with every duration divided by ``speed``."""
    # Imported here: the fake server's modules would slow every other command's start.
    from ..testing import Timings

    return Timings().scaled(speed)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _set_token(fake: FakeCoder, token: str) -> None:
    """Give the default user ``token`` instead of the seed-derived one."""
    state = fake.state
    state.by_token.pop(fake.user.token, None)
    fake.user.token = token
    state.by_token[token] = fake.user


def random_token() -> str:
    """A fresh token in Coder's ``<10 id>-<22 secret>`` shape."""
    # Imported here: `secrets` loads hashlib and hmac, which `--help` does not need.
    import secrets

    pick = secrets.choice
    return (
        "".join(pick(_TOKEN_CHARS) for _ in range(10))
        + "-"
        + "".join(pick(_TOKEN_CHARS) for _ in range(22))
    )


@app.command("fake-server")
def fake_server(
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on (0: any free one).", metavar="PORT")
    ] = 0,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on (beyond loopback: anyone can connect).",
            metavar="ADDRESS",
        ),
    ] = "127.0.0.1",
    server_version: Annotated[
        str | None,
        typer.Option(
            "--server-version",
            help="Coder release to imitate (default: the newest known; "
            f"known: {', '.join(KNOWN_VERSIONS)}).",
            show_default=False,
            metavar="VERSION",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Session token to accept (default: a random one per run).",
            metavar="TOKEN",
        ),
    ] = None,
    rate_limit: Annotated[
        int | None,
        typer.Option(
            "--rate-limit",
            help="Requests per minute per user and route (default off).",
            metavar="N",
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed", help="Run the task lifecycle this many times faster.", metavar="FACTOR"
        ),
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed for names and ids.", metavar="N")] = 0,
    record_requests: Annotated[
        bool,
        typer.Option(
            "--record-requests", help="Keep every request in memory (grows without bound)."
        ),
    ] = False,
) -> None:
    """Run a fake Coder Tasks API server until Ctrl-C or SIGTERM.

    Prints URL=, TOKEN=, TEMPLATE_VERSION= and PRESET= lines on stdout for scripts,
    and the matching `export` line on stderr for people.

    Example: coder-tasks fake-server --speed 4 2>fake.env & sleep 2; eval "$(grep ^export fake.env)"
    """
    known = known_versions()
    version = server_version or known[-1]
    if version not in known and not _fake_accepts(version):
        usage_error(f"--server-version: unknown version {version!r}", f"known: {', '.join(known)}")
    if speed <= 0:
        usage_error("--speed must be positive")
    if rate_limit is not None and rate_limit <= 0:
        usage_error("--rate-limit must be positive")
    if token is not None and (not token.strip() or any(c in token for c in " \r\n\0")):
        usage_error("--token must be one word")
    if not _is_loopback(host):
        out.print_warning(
            f"listening on {host}: anyone who can reach it and has the token can use the fake"
        )

    async def main() -> None:
        import anyio

        from ..testing import FakeCoder

        # Own signal handling: stopping a server on purpose is a success (exit 0).
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            fake = FakeCoder(
                host=host,
                port=port,
                server_version=version,
                rate_limit=rate_limit,
                timings=scaled_timings(speed),
                seed=seed,
                record_requests=record_requests,
            )
            _set_token(fake, token or random_token())
            try:
                await fake.start()
            except OSError as exc:  # address in use, no such interface...
                out.print_error(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
                raise typer.Exit(1) from None
            try:
                for key, value in (
                    ("URL", fake.url),
                    ("TOKEN", fake.token),
                    ("TEMPLATE_VERSION", fake.template_version_id),
                    ("PRESET", fake.preset_id),
                ):
                    print(f"{key}={value}", flush=True)
                out.print_notice(
                    f"export CODER_URL={fake.url} CODER_SESSION_TOKEN={fake.token} "
                    f"CODER_TASK_TEMPLATE_VERSION={fake.template_version_id}"
                )
                out.print_notice(f"Fake Coder {version} is running; Ctrl-C to stop.", "dim")
                async for _ in signals:
                    break
            finally:
                await fake.close()

    run(main)


def standalone() -> None:
    """``python -m coder_tasks_async.testing``: the ``fake-server`` command on its own."""
    alone = typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    alone.command()(fake_server)
    alone(prog_name="python -m coder_tasks_async.testing")
