"""What OpenTelemetry costs a request: ``get_task`` with OpenTelemetry not in use, with its
API imported but no SDK configured (spans go to OpenTelemetry's no-op), and with the SDK
configured (a ``BatchSpanProcessor`` whose exporter drops the spans, and a metric reader).

What is imported is per process, so each mode runs in processes of its own (this file,
run as a script), interleaved round by round, against one standalone fake; each process
warms up, then times its requests (CPU of that process: the client's alone).  The
figures are the median CPU per request and throughput, as ratios to "not in use".
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

from _launch import standalone_fake
from _measure import Settings, median, timed
from _raw import run_workers
from _report import Row, fmt_time

from coder_tasks_async import CoderTasksClient

__all__ = ["bench_otel"]

MODES = ("off", "api", "sdk")
_LABELS = {"api": "API, no SDK", "sdk": "SDK configured"}
_CONCURRENCY = (1, 64)


def bench_otel(settings: Settings) -> list[Row]:
    totals = {1: settings.pick(400, 2000), 64: settings.pick(1000, 4000)}
    cpu: dict[tuple[str, int], list[float]] = {(m, c): [] for m in MODES for c in _CONCURRENCY}
    rate: dict[tuple[str, int], list[float]] = {(m, c): [] for m in MODES for c in _CONCURRENCY}
    from _http import active_task  # not at the top: the measured processes run this file

    with standalone_fake() as srv:
        task_id = str(asyncio.run(active_task(srv)))
        for i in range(settings.rounds):
            for mode in MODES if i % 2 == 0 else MODES[::-1]:
                args = [sys.executable, __file__, mode, srv.url, srv.token, task_id]
                args += [str(totals[c]) for c in _CONCURRENCY]
                done = subprocess.run(args, capture_output=True, text=True, check=True)
                for c, (per_op, per_s) in zip(_CONCURRENCY, json.loads(done.stdout), strict=True):
                    cpu[mode, c].append(per_op)
                    rate[mode, c].append(per_s)
    rows: list[Row] = []
    for c in _CONCURRENCY:
        off_cpu, off_rate = median(cpu["off", c]), median(rate["off", c])
        for mode in ("api", "sdk"):
            mode_cpu, mode_rate = median(cpu[mode, c]), median(rate[mode, c])
            data = {"cpu_s": mode_cpu, "off_cpu_s": off_cpu, "rps": mode_rate, "off_rps": off_rate}
            rows.append(
                Row(
                    bench="otel",
                    figure=f"get_task client CPU/req c={c}, {_LABELS[mode]}",
                    sdk=fmt_time(mode_cpu),
                    baseline=f"{fmt_time(off_cpu)} (not in use)",
                    ratio=mode_cpu / off_cpu,
                    unit="x CPU not in use",
                    data=data,
                )
            )
            rows.append(
                Row(
                    bench="otel",
                    figure=f"get_task throughput c={c}, {_LABELS[mode]}",
                    sdk=f"{mode_rate:,.0f} req/s",
                    baseline=f"{off_rate:,.0f} req/s (not in use)",
                    ratio=mode_rate / off_rate,
                    unit="x req/s not in use",
                    data=data,
                )
            )
    return rows


_exported: list[int] = []


def _configure_sdk() -> Any:
    """Global SDK providers, as a service sets them up (spans batched, then dropped);
    returns the tracer provider."""
    from collections.abc import Sequence

    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class _Drop(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            _exported.append(len(spans))
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(_Drop()))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    return provider


async def _measure(url: str, token: str, task_id: str, totals: list[int]) -> list[Any]:
    out = []
    async with CoderTasksClient(url, token=token, api="experimental", max_concurrency=64) as sdk:
        for concurrency, total in zip(_CONCURRENCY, totals, strict=True):
            get = partial(sdk.get_task, task_id)
            await run_workers(concurrency, max(total // 5, 2 * concurrency), get)  # warm up
            sample = await timed(partial(run_workers, concurrency, total, get))
            out.append((sample.cpu_per_op, sample.rate))
    return out


def _main(mode: str, url: str, token: str, task_id: str, *totals: str) -> None:
    provider = None
    if mode == "api":
        import opentelemetry.trace  # noqa: F401  (in use, but no provider set)
    elif mode == "sdk":
        provider = _configure_sdk()
    figures = asyncio.run(_measure(url, token, task_id, [int(t) for t in totals]))
    # The premise of each mode: what was imported, and that the SDK did get the spans.
    loaded = any(m.split(".")[0] == "opentelemetry" for m in sys.modules)
    assert loaded == (mode != "off"), (mode, loaded)
    if provider is not None:
        provider.force_flush()
        assert sum(_exported) >= sum(int(t) for t in totals), sum(_exported)
    print(json.dumps(figures))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    _main(*sys.argv[1:])
