"""Test support: an in-process fake of Coder's AI Tasks API and a controllable clock.

Example::

    from coder_tasks_async.testing import FakeClock, FakeCoder

    clock = FakeClock()
    async with FakeCoder(clock=clock) as fake:
        ...  # talk HTTP to fake.url with header Coder-Session-Token: fake.token
        clock.advance(3.0)  # the task is now active

``FakeCoder(server_version=...)`` takes a profile name from :data:`PROFILES`
(``"v2.26"`` … ``"latest"``) or a release version; each profile answers the way
that Coder release does (docs/compatibility.md).

The fake depends on nothing of the SDK except the ``Clock`` protocol, so it can
judge the SDK independently.
"""

from __future__ import annotations

from ._clock import EPOCH, FakeClock, MonotonicClock
from ._conversation import Timings
from ._faults import Fault, FaultSet
from ._profile import PROFILES
from ._server import FakeCoder, RecordedRequest
from ._standalone import serve
from ._state import FakeTask, FakeUser

__all__ = [
    "EPOCH",
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
    "serve",
]
