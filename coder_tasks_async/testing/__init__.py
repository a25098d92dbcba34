"""Test support: an in-process fake of Coder's AI Tasks API and a controllable clock.

Example::

    from coder_tasks_async.testing import FakeClock, FakeCoder

    clock = FakeClock()
    async with FakeCoder(clock=clock) as fake:
        ...  # talk HTTP to fake.url with header Coder-Session-Token: fake.token
        clock.advance(3.0)  # the task is now active

The fake depends on nothing of the SDK except the ``Clock`` protocol, so it can
judge the SDK independently.
"""

from __future__ import annotations

from ._clock import EPOCH, FakeClock, MonotonicClock
from ._conversation import Timings
from ._faults import Fault, FaultSet
from ._server import FakeCoder, RecordedRequest
from ._standalone import serve
from ._state import FakeTask, FakeUser

__all__ = [
    "EPOCH",
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
