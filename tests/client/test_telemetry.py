"""OpenTelemetry: the spans and the duration histogram of every endpoint, retries,
failures, the parent spans of a follow and a fan-out, the providers' override, and no
token anywhere.  Read with the SDK's in-memory span exporter and metric reader; the
client talks real HTTP to FakeCoder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web
from helpers import FAST, redirect_loop, serve_app
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from coder_tasks_async import (
    CoderTasksClient,
    CoderTransportError,
    LogEventKind,
    NotFoundError,
    RateLimiter,
    RetryPolicy,
    SQLiteCursorStore,
    Task,
    map_bounded,
)
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

pytestmark = pytest.mark.anyio

TASKS = "/api/v2/tasks"
TASK = f"{TASKS}/{{user}}/{{task}}"


class Otel:
    """An SDK tracer provider and meter provider that keep everything in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    @property
    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def client_spans(self) -> list[ReadableSpan]:
        return [s for s in self.spans if s.kind is SpanKind.CLIENT]

    def durations(self) -> list[HistogramDataPoint]:
        data = self.reader.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == "http.client.request.duration" and metric.unit == "s"
            for point in metric.data.data_points
            if isinstance(point, HistogramDataPoint)
        ]


@pytest.fixture
def otel() -> Iterator[Otel]:
    providers = Otel()
    yield providers
    providers.tracer_provider.shutdown()
    providers.meter_provider.shutdown()


@pytest.fixture
async def traced(
    fake_coder: FakeCoder, fake_clock: FakeClock, otel: Otel
) -> AsyncIterator[CoderTasksClient]:
    """A client of the fake whose spans and metrics go to ``otel``."""
    async with CoderTasksClient(
        fake_coder.url,
        token=fake_coder.token,
        clock=fake_clock,
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
    ) as client:
        yield client


def assert_no_token(spans: Sequence[ReadableSpan], token: str) -> None:
    """Neither the token nor its secret half in a span's name, attributes, events, status."""
    secret = token.partition("-")[2] or token
    for span in spans:
        texts = [span.name, span.status.description or ""]
        texts += [str(v) for v in (span.attributes or {}).values()]
        for event in span.events:
            texts += [event.name, *(str(v) for v in (event.attributes or {}).values())]
        assert not [t for t in texts if token in t or secret in t], span.name


async def one_span(otel: Otel, call: Awaitable[Any]) -> ReadableSpan:
    """The one CLIENT span ``call`` makes (one request)."""
    otel.exporter.clear()
    await call
    (span,) = otel.client_spans()
    return span


async def test_each_endpoint_is_one_client_span_named_by_its_route(
    fake_coder: FakeCoder, traced: CoderTasksClient, otel: Otel
) -> None:
    url = fake_coder.url
    port = int(url.rsplit(":", 1)[1])
    (template,) = await traced.list_templates(has_ai_task=True)
    version = await traced.get_template_version(template, "v1")
    task = await traced.create_task("Fix it", template_version_id=version.id, name="fix-it")
    await traced.wait_for(task, until="idle", poll=FAST)
    pause = traced.pause_task(task)
    calls: list[tuple[str, str, Awaitable[Any], int, str | None]] = [
        ("GET", "/api/v2/templates", traced.list_templates(), 200, None),
        (
            "GET",
            "/api/v2/templates/{template}/versions/{templateversionname}",
            traced.get_template_version(template, "v1"),
            200,
            None,
        ),
        (
            "GET",
            "/api/v2/templateversions/{templateversion}/presets",
            traced.list_presets(version),
            200,
            None,
        ),
        ("GET", TASKS, traced.list_tasks(), 200, None),
        ("GET", TASK, traced.get_task(task.id), 200, str(task.id)),
        ("GET", f"{TASK}/logs", traced.get_logs(task), 200, str(task.id)),
        ("POST", f"{TASK}/send", traced.send_input(task, "Also the tests"), 204, str(task.id)),
        ("POST", f"{TASK}/pause", pause, 202, str(task.id)),
    ]
    spans: list[tuple[ReadableSpan, str, str, int, str | None]] = []
    for method, route, call, status, task_id in calls:
        spans.append((await one_span(otel, call), method, route, status, task_id))
    build = fake_coder.task(task.id).latest_build
    spans.append(
        (
            await one_span(otel, traced.get_workspace_build(build.id)),
            "GET",
            "/api/v2/workspacebuilds/{workspacebuild}",
            200,
            None,
        )
    )
    await traced.wait_for(task, until="paused", poll=FAST)
    for method, route, call, status, task_id in [
        ("PATCH", f"{TASK}/input", traced.update_input(task, "Fix it all"), 204, str(task.id)),
        ("POST", f"{TASK}/resume", traced.resume_task(task), 202, str(task.id)),
    ]:
        spans.append((await one_span(otel, call), method, route, status, task_id))
    await traced.wait_for(task, until="idle", poll=FAST)
    spans.append(
        (await one_span(otel, traced.delete_task(task)), "DELETE", TASK, 202, str(task.id))
    )
    otel.exporter.clear()
    created = await traced.create_task("Again", template_version_id=version.id)
    (create,) = otel.client_spans()
    spans.append((create, "POST", f"{TASKS}/{{user}}", 201, None))

    for span, method, route, status, task_id in spans:
        attributes = dict(span.attributes or {})
        assert span.name == f"{method} {route}"
        assert span.kind is SpanKind.CLIENT
        assert attributes.pop("url.full").startswith(f"{url}/api/v2/")  # type: ignore[union-attr]
        expected = {
            "http.request.method": method,
            "server.address": "127.0.0.1",
            "server.port": port,
            "url.template": route,
            "http.response.status_code": status,
        }
        if task_id is not None:
            expected["coder.task.id"] = task_id
        assert attributes == expected, span.name
        assert span.status.status_code is StatusCode.UNSET
    assert {s.name for s, *_ in spans} >= {f"DELETE {TASK}", f"PATCH {TASK}/input"}
    assert created.id != task.id
    assert_no_token(otel.spans, fake_coder.token)


async def test_a_name_is_not_a_task_id_and_the_url_is_the_one_sent(
    fake_coder: FakeCoder, traced: CoderTasksClient, otel: Otel
) -> None:
    task = await traced.create_task(
        "x", template_version_id=fake_coder.template_version_id, name="by-name"
    )
    span = await one_span(otel, traced.get_task("by-name"))
    attributes = span.attributes or {}
    assert attributes["url.full"] == f"{fake_coder.url}{TASKS}/me/by-name"
    assert "coder.task.id" not in attributes
    span = await one_span(otel, traced.get_logs(task.id))
    assert attributes is not span.attributes
    assert (span.attributes or {})["url.full"] == f"{fake_coder.url}{TASKS}/me/{task.id}/logs"


async def test_a_retry_is_a_second_span_with_a_resend_count_and_its_own_trace_context(
    fake_coder: FakeCoder, traced: CoderTasksClient, otel: Otel
) -> None:
    task = await traced.create_task("x", template_version_id=fake_coder.template_version_id)
    fake_coder.faults.add(Fault(route="get", kind="status", status=503, times=1))
    otel.exporter.clear()
    await traced.get_task(task.id)
    first, second = otel.client_spans()
    assert first.name == second.name == f"GET {TASK}"
    assert (first.attributes or {})["http.response.status_code"] == 503
    assert (first.attributes or {})["error.type"] == "503"
    assert first.status.status_code is StatusCode.ERROR
    assert "http.request.resend_count" not in (first.attributes or {})
    assert (second.attributes or {})["http.request.resend_count"] == 1
    assert "error.type" not in (second.attributes or {})
    # Each physical request carried its own span's context to the server.
    sent = [r.headers.get("traceparent") for r in list(fake_coder.requests)[-2:]]
    assert sent == [
        f"00-{s.context.trace_id:032x}-{s.context.span_id:016x}-{s.context.trace_flags:02x}"
        for s in (first, second)
    ]


async def test_a_failure_without_a_response_and_an_error_status(
    fake_coder: FakeCoder, traced: CoderTasksClient, otel: Otel
) -> None:
    task = await traced.create_task("x", template_version_id=fake_coder.template_version_id)
    fake_coder.faults.add(Fault(route="get", kind="reset", times=1))
    otel.exporter.clear()
    with pytest.raises(CoderTransportError):
        await traced.get_task(task.id, retry=RetryPolicy.none())
    (span,) = otel.client_spans()
    attributes = span.attributes or {}
    assert "http.response.status_code" not in attributes
    assert str(attributes["error.type"]).startswith("aiohttp.")  # the class aiohttp raised
    assert span.status.status_code is StatusCode.ERROR
    missing = uuid.uuid4()
    otel.exporter.clear()
    with pytest.raises(NotFoundError):
        await traced.get_task(missing)
    (span,) = otel.client_spans()
    assert (span.attributes or {})["error.type"] == "404"
    assert (span.attributes or {})["coder.task.id"] == str(missing)
    assert_no_token(otel.spans, fake_coder.token)


async def test_the_duration_histogram_has_the_conventional_attributes(
    fake_coder: FakeCoder, traced: CoderTasksClient, otel: Otel
) -> None:
    task = await traced.create_task("x", template_version_id=fake_coder.template_version_id)
    for _ in range(3):
        await traced.get_task(task.id)
    with pytest.raises(NotFoundError):
        await traced.get_task(uuid.uuid4())
    points = {
        (p.attributes or {}).get("http.response.status_code"): p
        for p in otel.durations()
        if (p.attributes or {}).get("url.template") == TASK
    }
    ok, missing = points[200], points[404]
    assert ok.count == 3 and missing.count == 1
    port = int(fake_coder.url.rsplit(":", 1)[1])
    assert dict(ok.attributes or {}) == {
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": port,
        "url.template": TASK,
        "http.response.status_code": 200,
    }
    assert (missing.attributes or {})["error.type"] == "404"
    assert 0 <= ok.min <= ok.max and ok.sum > 0  # seconds
    assert tuple(ok.explicit_bounds)[:3] == (0.005, 0.01, 0.025)  # the advised buckets


async def test_a_follow_is_a_parent_span_with_pause_and_reset_events(
    fake_coder: FakeCoder, traced: CoderTasksClient, otel: Otel
) -> None:
    task = await traced.create_task("x", template_version_id=fake_coder.template_version_id)
    kinds: list[LogEventKind] = []
    with anyio.fail_after(60):  # a safety net against a hang, not a timing assertion
        async with traced.follow_logs(task, settled=True, poll=FAST) as follower:
            async for event in follower:
                kinds.append(event.kind)
                if len(kinds) == 3:
                    await traced.pause_task(task)
                elif event.kind is LogEventKind.PAUSED:
                    await traced.resume_task(task)
                elif event.kind is LogEventKind.RESET:
                    break
    assert kinds[-2:] == [LogEventKind.PAUSED, LogEventKind.RESET]
    (follow,) = [s for s in otel.spans if s.name == "follow_logs"]
    assert follow.kind is SpanKind.INTERNAL
    assert dict(follow.attributes or {}) == {
        "coder.follow.settled": True,
        "coder.task.id": str(task.id),
        "coder.follow.end_reason": "closed",
    }
    assert [(e.name, dict(e.attributes or {})) for e in follow.events] == [
        ("coder.follow.pause", {"coder.task.id": str(task.id)}),
        ("coder.follow.reset", {"coder.task.id": str(task.id)}),
    ]
    polls = [s for s in otel.client_spans() if s.parent == follow.context]
    assert {s.name for s in polls} == {f"GET {TASK}", f"GET {TASK}/logs"}
    # The caller's own calls in the loop body are not the follower's.
    (pause,) = [s for s in otel.client_spans() if s.name.endswith("/pause")]
    assert pause.parent is None
    assert_no_token(otel.spans, fake_coder.token)


async def test_a_fan_out_is_a_parent_span_with_its_failures_and_rate_limit_pauses(
    fake_coder: FakeCoder, traced: CoderTasksClient, otel: Otel
) -> None:
    tasks = [
        await traced.create_task(f"t{i}", template_version_id=fake_coder.template_version_id)
        for i in range(2)
    ]
    otel.exporter.clear()
    outcomes = await traced.get_many([*tasks, uuid.uuid4()], concurrency=2)
    assert [o.ok for o in outcomes] == [True, True, False]
    (fan_out,) = [s for s in otel.spans if s.name == "get_many"]
    assert dict(fan_out.attributes or {}) == {
        "coder.fan_out.items": 3,
        "coder.fan_out.concurrency": 2,
        "coder.fan_out.failures": 1,
    }
    requests = otel.client_spans()
    assert len(requests) == 3 and all(s.parent == fan_out.context for s in requests)

    # Every get refused with 429: the limiter pauses, and the fan-out's span says so.
    fake_coder.faults.add(Fault(route="get", kind="rate_limit", retry_after=25))
    otel.exporter.clear()
    (outcome,) = await traced.get_many([tasks[0]], rate_limit=True)
    assert not outcome.ok
    (fan_out,) = [s for s in otel.spans if s.name == "get_many"]
    pauses = [e for e in fan_out.events if e.name == "coder.rate_limit.pause"]
    assert pauses and (pauses[0].attributes or {})["coder.pause.seconds"] == 25
    assert {(s.attributes or {})["error.type"] for s in otel.client_spans()} == {"429"}
    assert_no_token(otel.spans, fake_coder.token)


#: How each parent span is made: ``(client, the two tasks, a scratch directory)``.
Drive = Callable[[CoderTasksClient, list[Task], Path], Awaitable[object]]
_FAN_OUT = {"coder.fan_out.items": 2, "coder.fan_out.concurrency": 3, "coder.fan_out.failures": 0}
_FOLLOW = {"coder.follow.end_reason": "closed"}


async def _first_of(follower: Any) -> None:
    """Iterate ``follower`` (a follow's async context manager) once, then close it."""
    with anyio.fail_after(60):  # a safety net against a hang, not a timing assertion
        async with follower as events:
            await anext(events)


async def _follow_fleet(client: CoderTasksClient, tasks: list[Task], tmp: Path) -> None:
    store = SQLiteCursorStore(tmp / "cursors.sqlite3")
    try:
        await _first_of(client.follow_fleet(store, worker="w1", poll=FAST))
    finally:
        await store.aclose()


PARENTS: dict[str, tuple[str, Drive, dict[str, Any]]] = {
    "create_many": (
        "create_many",
        lambda c, tasks, _: c.create_many(
            ["a", "b"], template_version_id=tasks[0].template_version_id, concurrency=3
        ),
        _FAN_OUT,
    ),
    "delete_many": (
        "delete_many",
        lambda c, tasks, _: c.delete_many(tasks, concurrency=3),
        _FAN_OUT,
    ),
    "map_bounded": (
        "map_bounded",
        lambda c, tasks, _: map_bounded(c.get_task, [t.id for t in tasks], concurrency=3),
        _FAN_OUT,
    ),
    # A lambda names no client; the rate limiter does.
    "map_bounded-lambda-rate_limit": (
        "map_bounded",
        lambda c, tasks, _: map_bounded(
            lambda t: c.get_task(t.id), tasks, concurrency=3, rate_limit=RateLimiter(c)
        ),
        _FAN_OUT,
    ),
    "follow_many": (
        "follow_many",
        lambda c, tasks, _: _first_of(c.follow_many(tasks, poll=FAST)),
        _FOLLOW,
    ),
    "watch_many": (
        "watch_many",
        lambda c, tasks, _: _first_of(c.watch_many(tasks, poll=FAST)),
        _FOLLOW,
    ),
    "follow_fleet": ("follow_fleet", _follow_fleet, _FOLLOW),
}


@pytest.mark.parametrize("case", list(PARENTS))
async def test_each_follow_and_fan_out_is_a_parent_span_of_its_requests(
    case: str, fake_coder: FakeCoder, traced: CoderTasksClient, otel: Otel, tmp_path: Path
) -> None:
    # The client's own tracer provider and no global one: every span must reach ``otel``.
    name, drive, attributes = PARENTS[case]
    version = fake_coder.template_version_id
    tasks = [await traced.create_task(p, template_version_id=version) for p in ("t1", "t2")]
    otel.exporter.clear()
    await drive(traced, tasks, tmp_path)
    (parent,) = [s for s in otel.spans if s.kind is not SpanKind.CLIENT]
    assert (parent.name, parent.kind) == (name, SpanKind.INTERNAL)
    assert dict(parent.attributes or {}) == attributes
    requests = otel.client_spans()
    assert requests  # at least one request, and each of them its child
    assert [s.name for s in requests if s.parent != parent.context] == []
    assert_no_token(otel.spans, fake_coder.token)


async def test_a_redirect_hop_is_a_span_of_its_own_and_a_token_in_a_url_is_scrubbed(
    otel: Otel,
) -> None:
    token = "abcdefghij-" + "s" * 22
    task_id = "00000000-0000-0000-0000-000000000001"

    async def moved(request: web.Request) -> web.Response:
        # A hostile or broken server echoes the token into the URL it redirects to.
        raise web.HTTPTemporaryRedirect(f"{TASKS}/me/elsewhere?coder_session_token={token}")

    async def unknown(request: web.Request) -> web.Response:
        return web.json_response({"message": f"no {token}"}, status=404)

    app = web.Application()
    app.router.add_get(f"{TASKS}/me/{task_id}", moved)
    app.router.add_get(f"{TASKS}/{{user}}/{{task}}", unknown)
    async with serve_app(app) as port:
        async with CoderTasksClient(
            f"http://user:{token}@127.0.0.1:{port}",
            token=token,
            api="v2",
            retry=RetryPolicy.none(),
            tracer_provider=otel.tracer_provider,
            meter_provider=otel.meter_provider,
        ) as client:
            with pytest.raises(NotFoundError):
                await client.get_task(task_id)
    first, second = otel.client_spans()
    assert (first.attributes or {})["http.response.status_code"] == 307
    assert "http.request.resend_count" not in (first.attributes or {})
    assert (second.attributes or {})["http.request.resend_count"] == 1
    full = str((second.attributes or {})["url.full"])
    assert full.startswith(f"http://REDACTED:REDACTED@127.0.0.1:{port}/")
    assert full.endswith("?coder_session_token=REDACTED")
    assert_no_token(otel.spans, token)


async def test_a_redirect_loop_ends_on_the_span_of_the_sixth_redirect_not_an_unsent_hop(
    otel: Otel,
) -> None:
    providers = {"tracer_provider": otel.tracer_provider, "meter_provider": otel.meter_provider}
    async with redirect_loop(**providers) as (client, asked):
        with pytest.raises(CoderTransportError, match="more than 5 redirects"):
            await client.get_task(uuid.UUID(int=1))
    spans = otel.client_spans()
    assert len(asked) == len(spans) == 6  # the first request and 5 redirects followed, all sent
    assert [(s.attributes or {}).get("http.request.resend_count") for s in spans] == [
        None,
        *range(1, 6),
    ]
    *followed, last = spans
    assert all((s.attributes or {})["http.response.status_code"] == 307 for s in followed)
    assert (last.attributes or {})["error.type"] == "coder_tasks_async.CoderTransportError"
    assert last.status.status_code is StatusCode.ERROR


_GLOBAL = """
import asyncio, sys
from opentelemetry import trace, metrics
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from coder_tasks_async import CoderTasksClient
from coder_tasks_async.testing import FakeCoder

def providers():
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer = TracerProvider()
    tracer.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer, MeterProvider(metric_readers=[reader]), exporter, reader

def names(exporter):
    return sorted(s.name for s in exporter.get_finished_spans())

def histograms(reader):
    data = reader.get_metrics_data()
    return sorted(m.name for r in (data.resource_metrics if data else ())
                  for s in r.scope_metrics for m in s.metrics)

async def main():
    async with FakeCoder() as fake:
        zero_config = CoderTasksClient(fake.url, token=fake.token)
        # The global providers are set after the client was made: still used.
        g_tracer, g_meter, g_spans, g_metrics = providers()
        trace.set_tracer_provider(g_tracer)
        metrics.set_meter_provider(g_meter)
        o_tracer, o_meter, o_spans, o_metrics = providers()
        own = CoderTasksClient(fake.url, token=fake.token, tracer_provider=o_tracer,
                               meter_provider=o_meter)
        async with zero_config, own:
            await zero_config.list_tasks()
            await own.list_templates()
        print(names(g_spans), histograms(g_metrics))
        print(names(o_spans), histograms(o_metrics))

asyncio.run(main())
"""


def test_the_global_providers_by_default_and_the_given_ones_instead() -> None:
    # Its own process: a global provider can be set once per process.
    done = subprocess.run(
        [sys.executable, "-c", _GLOBAL],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OTEL_SDK_DISABLED": ""},
    )
    assert done.returncode == 0, done.stderr
    global_line, own_line = done.stdout.splitlines()[-2:]
    assert global_line == "['GET /api/v2/tasks'] ['http.client.request.duration']"
    assert own_line == "['GET /api/v2/templates'] ['http.client.request.duration']"
