"""The OpenTelemetry instruments of one client (imported only once telemetry is on,
see :mod:`.telemetry`).

Spans follow the stable HTTP client semantic conventions: one ``CLIENT`` span per
physical request (a retry or a followed redirect is a new span with
``http.request.resend_count``), named ``METHOD route-template`` (``GET
/api/v2/tasks/{user}/{task}``, Coder's own route patterns, low cardinality),
with ``http.request.method``, ``server.address``, ``server.port``, ``url.full``
(credentials and the token scrubbed), ``url.template``, ``http.response.status_code``,
``error.type`` on failure, and ``coder.task.id`` when the request names a task by
its id.  A span runs from asking for a connection slot to the body read (or the
failure).  The ``http.client.request.duration`` histogram (seconds) gets the same
low-cardinality attributes, without the URL and the task.

The current trace context is sent along (``traceparent``, through the global
propagator), so a Coder deployment that traces shows its spans under these.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context, metrics, propagate, trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, SpanKind, StatusCode

from .._version import __version__
from .telemetry import NO_ACTIVITY, AttributeValue, error_type

if TYPE_CHECKING:
    from yarl import URL

    from .._wire.redact import Redactor
    from .telemetry import Activity

try:  # what the global meter provider is until one is set (not a public name)
    from opentelemetry.metrics._internal import _ProxyMeterProvider
except ImportError:  # moved: then measurements always go to the proxy (correct, dearer)
    _UNSET_METERS: tuple[type, ...] = (NoOpMeterProvider,)
else:
    _UNSET_METERS = (NoOpMeterProvider, _ProxyMeterProvider)
_UNSET_TRACERS = (NoOpTracerProvider, ProxyTracerProvider)

__all__ = ["DURATION", "SCHEMA_URL", "Instruments", "OtelActivity", "OtelRequestSpan", "url_full"]

#: The semantic conventions' version these spans and metrics follow.
SCHEMA_URL = "https://opentelemetry.io/schemas/1.27.0"
#: The name of the request duration histogram (semantic conventions).
DURATION = "http.client.request.duration"
#: The conventions' advised buckets for it (seconds).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_SCOPE = "coder_tasks_async"
#: Query parameters whose values are credentials: Coder's own token parameter and the
#: ones the conventions name.  The SDK sends none of them; a URL from elsewhere (a
#: redirect's target) might.
_SECRET_PARAMS = frozenset(
    {"coder_session_token", "AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"}
)
_REDACTED = "REDACTED"


def url_full(url: URL, redactor: Redactor) -> str:
    """``url`` as ``url.full`` may show it: userinfo as ``REDACTED:REDACTED``, the values of
    credential query parameters as ``REDACTED``, and the client's token nowhere."""
    if url.user is not None or url.password is not None:
        url = url.with_user(_REDACTED).with_password(_REDACTED)
    if url.query_string and any(key in _SECRET_PARAMS for key in url.query):
        url = url.with_query(
            [(k, _REDACTED if k in _SECRET_PARAMS else v) for k, v in url.query.items()]
        )
    return redactor.text(str(url))


class Instruments:
    """The tracer and the duration histogram of one client (global providers by default).

    On the global providers they are OpenTelemetry's proxies, which turn into the real
    thing once a provider is set.  Until then (the API imported, no SDK configured)
    every request would build a no-op span and measurement for nothing: each request
    asks first whether a global provider is set (two calls), and costs nothing more
    while none is.
    """

    __slots__ = ("_global_meter", "_global_tracer", "duration", "tracer")

    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        self.tracer = trace.get_tracer(_SCOPE, __version__, tracer_provider, SCHEMA_URL)
        meter = metrics.get_meter(_SCOPE, __version__, meter_provider, SCHEMA_URL)
        self.duration = meter.create_histogram(
            DURATION,
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=_BUCKETS,
        )
        self._global_tracer = tracer_provider is None
        self._global_meter = meter_provider is None

    def request(
        self,
        method: str,
        url: URL,
        route: str | None,
        resends: int,
        task_id: str | None,
        redactor: Redactor,
    ) -> OtelRequestSpan | None:
        """Start the span of one physical request; ``None`` while there is nobody to
        record it (global providers, none of them set)."""
        tracing = not (
            self._global_tracer and isinstance(trace.get_tracer_provider(), _UNSET_TRACERS)
        )
        measuring = not (
            self._global_meter and isinstance(metrics.get_meter_provider(), _UNSET_METERS)
        )
        if not (tracing or measuring):
            return None
        return OtelRequestSpan(
            self, method, url, route, resends, task_id, redactor, tracing=tracing
        )

    def activity(
        self, name: str, attributes: Mapping[str, AttributeValue] | None = None
    ) -> Activity:
        """Start a parent span (a follow, a fan-out); a do-nothing one while no global
        tracer provider is set."""
        if self._global_tracer and isinstance(trace.get_tracer_provider(), _UNSET_TRACERS):
            return NO_ACTIVITY
        return OtelActivity(self.tracer.start_span(name, attributes=attributes))


class OtelRequestSpan:
    """The span of one physical request and its duration measurement (without a span
    when only metrics are recorded: ``tracing=False``)."""

    __slots__ = (
        "_base", "_name", "_otel", "_redactor", "_resends", "_span", "_start", "_task_id",
    )  # fmt: skip

    def __init__(
        self,
        otel: Instruments,
        method: str,
        url: URL,
        route: str | None,
        resends: int,
        task_id: str | None,
        redactor: Redactor,
        *,
        tracing: bool = True,
    ) -> None:
        self._otel = otel
        self._span: trace.Span | None = None if tracing else trace.INVALID_SPAN
        self._redactor = redactor
        self._task_id = task_id
        #: The low-cardinality attributes, shared by the span and the histogram.
        self._base: dict[str, AttributeValue] = {
            "http.request.method": method,
            "server.address": url.host or "",
            "server.port": url.port or 0,
        }
        if route:
            self._base["url.template"] = route
        self._name = f"{method} {route}" if route else method
        self._open(url, resends)

    def _open(self, url: URL, resends: int) -> None:
        self._resends = resends
        self._start = time.perf_counter()
        if self._span is trace.INVALID_SPAN:
            return  # measuring only
        attributes = dict(self._base)
        attributes["url.full"] = url_full(url, self._redactor)
        if resends:
            attributes["http.request.resend_count"] = resends
        if self._task_id is not None:
            attributes["coder.task.id"] = self._task_id
        # Given at the start, as the conventions ask: samplers may decide on them.
        self._span = self._otel.tracer.start_span(
            self._name, kind=SpanKind.CLIENT, attributes=attributes
        )

    def headers(self) -> dict[str, str]:
        """``traceparent`` (and whatever else the global propagator sends) for this span."""
        carrier: dict[str, str] = {}
        span = self._span
        if span is not None and span.get_span_context().is_valid:
            propagate.inject(carrier, context=trace.set_span_in_context(span))
        return carrier

    def redirected(self, status: int, url: URL) -> None:
        """This request was redirected: its span ends, the next hop's starts."""
        self.end(status, None)
        self._open(url, self._resends + 1)

    def end(self, status: int | None, error: str | None) -> None:
        """End the span and record the duration: answered ``status`` (400 or more is an
        error), or failed with the ``error.type`` ``error``."""
        outcome: dict[str, AttributeValue] = {}
        if status is not None:
            outcome["http.response.status_code"] = status
            if status >= 400 and error is None:
                error = str(status)
        if error is not None:
            outcome["error.type"] = error
        span = self._span
        assert span is not None
        if span.is_recording():
            span.set_attributes(outcome)
            if error is not None:
                span.set_status(StatusCode.ERROR)
        span.end()
        self._otel.duration.record(time.perf_counter() - self._start, {**self._base, **outcome})


class OtelActivity:
    """A parent span: a follow or a fan-out (see :class:`.telemetry.Activity`)."""

    __slots__ = ("_ended", "_span")

    def __init__(self, span: trace.Span) -> None:
        self._span = span
        self._ended = False

    @contextmanager
    def step(self) -> Iterator[object]:
        token = context.attach(trace.set_span_in_context(self._span))
        try:
            yield self._span
        finally:
            context.detach(token)

    def event(self, name: str, attributes: Mapping[str, AttributeValue] | None = None) -> None:
        self._span.add_event(name, attributes)

    def set(self, key: str, value: AttributeValue) -> None:
        self._span.set_attribute(key, value)

    def end(self, error: BaseException | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        if error is not None:
            self._span.set_attribute("error.type", error_type(error))
            self._span.set_status(StatusCode.ERROR)
        self._span.end()
