"""Test support: an in-process fake of Coder's AI Tasks API and a controllable clock.

Example::

    from coder_tasks_async.testing import FakeClock, FakeCoder

    clock = FakeClock()
    async with FakeCoder(clock=clock) as fake:
        ...  # talk HTTP to fake.url with header Coder-Session-Token: fake.token
        clock.advance(3.0)  # the task is now active

``FakeCoder(server_version=...)`` takes a profile name from :data:`PROFILES`
(``"v2.26"`` … ``"latest"``, the default) or a release version; each profile answers
the way that Coder release does (docs/compatibility.md).

The fake depends on nothing of the SDK except the ``Clock`` protocol, so it can
judge the SDK independently.  Names load on first use: ``PROFILES`` costs no import
of the server (``coder-tasks --help`` lists them).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._clock import EPOCH, FakeClock, MonotonicClock, WallClock
    from ._conversation import Timings
    from ._faults import Fault, FaultSet
    from ._releases import NEWEST, PROFILES
    from ._server import FakeCoder, RecordedRequest
    from ._standalone import serve
    from ._state import FakeTask, FakeUser

_LAZY: dict[str, str] = {
    "EPOCH": "_clock",
    "FakeClock": "_clock",
    "MonotonicClock": "_clock",
    "WallClock": "_clock",
    "Timings": "_conversation",
    "Fault": "_faults",
    "FaultSet": "_faults",
    "NEWEST": "_releases",
    "PROFILES": "_releases",
    "FakeCoder": "_server",
    "RecordedRequest": "_server",
    "serve": "_standalone",
    "FakeTask": "_state",
    "FakeUser": "_state",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "EPOCH",
    "NEWEST",
    "PROFILES",
    "FakeClock",
    "FakeCoder",
    "FakeTask",
    "FakeUser",
    "Fault",
    "FaultSet",
    "MonotonicClock",
    "RecordedRequest",
    "Timings",
    "WallClock",
    "serve",
]
