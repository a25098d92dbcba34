"""Start a server in a separate process and read its ``KEY=value`` lines from stdout."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

__all__ = ["ServerProcess", "bench_server", "standalone_fake"]

_HERE = Path(__file__).resolve().parent
_START_TIMEOUT = 60.0


class ServerProcess:
    """``with ServerProcess([...], expect=("URL", "TOKEN")) as srv: srv.info["URL"]``."""

    def __init__(self, args: list[str], *, expect: tuple[str, ...] = ("URL", "TOKEN")) -> None:
        self.args = [sys.executable, *args]
        self.expect = expect
        self.info: dict[str, str] = {}
        self._proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return self.info["URL"]

    @property
    def token(self) -> str:
        return self.info["TOKEN"]

    def __enter__(self) -> ServerProcess:
        proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        self._proc = proc
        assert proc.stdout is not None
        deadline = time.monotonic() + _START_TIMEOUT
        try:
            while not all(key in self.info for key in self.expect):
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"server exited early ({proc.wait()}): {self.args}")
                key, _, value = line.strip().partition("=")  # a bare "READY" counts too
                self.info[key] = value
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start in {_START_TIMEOUT}s: {self.args}")
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def standalone_fake() -> ServerProcess:
    """The SDK's own standalone fake (``python -m coder_tasks_async.testing``), real time."""
    return ServerProcess(["-m", "coder_tasks_async.testing", "--port", "0"])


def bench_server(*args: str) -> ServerProcess:
    """``benchmarks/_server.py``: pre-populated fakes and static-body servers."""
    return ServerProcess([str(_HERE / "_server.py"), *args], expect=("URL", "TOKEN", "READY"))
