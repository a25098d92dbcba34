"""The telemetry seam: OpenTelemetry spans and metrics when the application uses
OpenTelemetry, and nothing at all otherwise.  This module never imports
``opentelemetry``; :mod:`.otel` does, once telemetry is switched on.

**When it is on.**  With ``tracer_provider=`` or ``meter_provider=`` given to the
client, always.  Otherwise as soon as the process uses OpenTelemetry's API: when
``opentelemetry.trace`` or ``opentelemetry.metrics`` is imported, as any setup of a
provider (or ``opentelemetry-instrument``) does.  The client then uses the global
providers through OpenTelemetry's own proxies, so a provider set after the client
was made is used too.  Being merely *installed* does not switch it on: importing
``opentelemetry.trace`` costs about 40 ms, which a program that never configured
OpenTelemetry (a CLI run, a cron job) should not pay for spans nobody records.  Until
then each request pays one look into ``sys.modules``.

**What it records** (:mod:`.otel`): one ``CLIENT`` span per physical HTTP request,
with the HTTP client semantic conventions, and the ``http.client.request.duration``
histogram; the upper layers add one ``INTERNAL`` parent span per follow or fan-out
(an :class:`Activity`), whose events mark resets, pauses and rate-limit waits.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Protocol

    from yarl import URL

    from .otel import Instruments

__all__ = [
    "GLOBAL_TELEMETRY",
    "NO_ACTIVITY",
    "AttributeValue",
    "Telemetry",
    "error_type",
    "event_on_current_span",
]

#: What an attribute of a span or an event may hold here.
AttributeValue = str | int | float | bool


if TYPE_CHECKING:
    # Interfaces for the type checkers only (no Protocol classes built at import):
    # ``Activity`` and ``RequestSpan``, imported under ``TYPE_CHECKING`` elsewhere.

    class RequestSpan(Protocol):
        """The span of one physical request (:meth:`Telemetry.active` ``.request(...)``)."""

        def headers(self) -> Mapping[str, str]:
            """The trace-context headers to send with the request (``traceparent``, ...)."""
            ...

        def redirected(self, status: int, url: URL) -> None:
            """The request was answered ``status`` and is re-sent to ``url``: this span ends
            and the next physical request gets a span of its own (one more resend)."""
            ...

        def end(self, status: int | None, error: str | None) -> None:
            """The request ended: answered ``status``, or failed (``error``: its ``error.type``)."""
            ...

    class Activity(Protocol):
        """A span that is the parent of the requests one follow or one fan-out sends.

        The tiny interface the polling and fan-out layers call (never OpenTelemetry
        itself).  Inactive telemetry hands out :data:`NO_ACTIVITY`, whose methods do
        nothing.

        Example (inside the SDK)::

            activity = telemetry.activity("follow_logs", {"coder.follow.settled": True})
            with activity.step():  # requests sent in here are its children
                ...
            activity.event("coder.follow.reset", {"coder.task.id": "..."})
            activity.end()
        """

        def step(self) -> AbstractContextManager[object]:
            """Make this the current span while the block runs (and tasks it starts)."""
            ...

        def event(self, name: str, attributes: Mapping[str, AttributeValue] | None = None) -> None:
            """Add a timestamped event (a reset, a pause, a rate-limit wait)."""
            ...

        def set(self, key: str, value: AttributeValue) -> None:
            """Set an attribute (learnt on the way, such as the task's id or the end reason)."""
            ...

        def end(self, error: BaseException | None = None) -> None:
            """End the span (once; later calls do nothing); ``error`` marks it failed."""
            ...


def error_type(error: BaseException | type[BaseException]) -> str:
    """The ``error.type`` of an exception: its fully qualified class name (the SDK's own
    errors under their public name), e.g. ``aiohttp.client_exceptions.ClientOSError`` or
    ``coder_tasks_async.CoderTimeoutError``; low cardinality, as the conventions ask.
    """
    cls = error if isinstance(error, type) else type(error)
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    if module.startswith("coder_tasks_async."):
        module = "coder_tasks_async"
    return f"{module}.{cls.__qualname__}"


def event_on_current_span(name: str, attributes: Mapping[str, AttributeValue]) -> None:
    """Add an event to the current span (a fan-out's, for a rate-limit wait), if
    OpenTelemetry is in use; nothing is imported otherwise."""
    if "opentelemetry.trace" in sys.modules:
        from opentelemetry import trace

        trace.get_current_span().add_event(name, attributes)


#: One shared do-nothing context manager (``nullcontext`` may be entered again and again).
_NOTHING = nullcontext()


class _NoActivity:
    """The activity of inactive telemetry: every method does nothing."""

    __slots__ = ()

    def step(self) -> AbstractContextManager[object]:
        return _NOTHING

    def event(self, name: str, attributes: Mapping[str, AttributeValue] | None = None) -> None:
        pass

    def set(self, key: str, value: AttributeValue) -> None:
        pass

    def end(self, error: BaseException | None = None) -> None:
        pass


#: The activity handed out while telemetry is off.
NO_ACTIVITY: Activity = _NoActivity()


class Telemetry:
    """Where one client's spans and metrics go (see the module docstring).

    ``tracer_provider``/``meter_provider`` are OpenTelemetry providers; ``None``
    means the global one.
    """

    __slots__ = ("_meter_provider", "_tracer_provider", "otel")

    def __init__(self, tracer_provider: object = None, meter_provider: object = None) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        #: The OpenTelemetry instruments, once telemetry is on (``None`` before).
        self.otel: Instruments | None = None

    def __repr__(self) -> str:
        return f"Telemetry(on={self.otel is not None})"

    def active(self) -> Instruments | None:
        """The instruments to record with, or ``None`` while telemetry is off.

        Called for every request: while OpenTelemetry is not in use this is one look
        into ``sys.modules`` per module name, and nothing is imported.
        """
        otel = self.otel
        if otel is not None:
            return otel
        modules = sys.modules
        if (
            self._tracer_provider is None
            and self._meter_provider is None
            and "opentelemetry.trace" not in modules
            and "opentelemetry.metrics" not in modules
        ):
            return None
        from .otel import Instruments

        otel = self.otel = Instruments(self._tracer_provider, self._meter_provider)
        return otel

    def activity(
        self, name: str, attributes: Mapping[str, AttributeValue] | None = None
    ) -> Activity:
        """A parent span named ``name`` (started now), or :data:`NO_ACTIVITY` while off."""
        otel = self.active()
        return NO_ACTIVITY if otel is None else otel.activity(name, attributes)


#: The telemetry of code that has no client at hand (``map_bounded`` over any function).
GLOBAL_TELEMETRY = Telemetry()
