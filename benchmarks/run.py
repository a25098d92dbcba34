"""Benchmarks: the SDK against raw aiohttp + orjson, side by side, in one run.

Usage::

    python benchmarks/run.py                          # everything (~8-12 minutes)
    python benchmarks/run.py --quick                  # fewer rounds (smoke test)
    python benchmarks/run.py --only get_task,structuring --json results.json
    python benchmarks/run.py --json results.json --svg chart.svg   # also draw the ratios
    python benchmarks/run.py --from-json results.json --svg chart.svg   # draw a saved run

See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import attrs
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bulk import bench_bulk
from _chart import describe, svg_chart
from _cli import bench_cli
from _fleet import bench_fleet
from _follow import CHUNK_INTERVAL, bench_follow
from _http import bench_create_fanout, bench_get_task, bench_get_task_changing, bench_list_tasks
from _idle import bench_idle
from _imports import bench_imports
from _launch import bench_server, standalone_fake
from _logs import bench_logs, bench_logs_short
from _measure import Settings
from _otel import bench_otel
from _report import Row, render, render_ranges, write_json
from _scale import bench_scale
from _shared import bench_shared
from _structuring import bench_structuring
from _wake import bench_wake, plan_for, wake_server

Bench = Callable[[Settings], list[Row]]


def _get_task(settings: Settings) -> list[Row]:
    with standalone_fake() as srv:
        rows = asyncio.run(bench_get_task(srv, settings))
    with bench_server("task") as srv:
        return rows + asyncio.run(bench_get_task_changing(srv, settings))


def _list_tasks(settings: Settings) -> list[Row]:
    with bench_server("fake", "--tasks", "1000") as srv:
        return asyncio.run(bench_list_tasks(srv, settings))


def _logs(settings: Settings) -> list[Row]:
    with bench_server("logs", "--entries", "10000") as srv:
        rows = asyncio.run(bench_logs(srv, settings))
    # The same call on a conversation of short entries (first line, <= 40 characters).
    with bench_server("logs", "--entries", "10000", "--content-chars", "40") as srv:
        return rows + asyncio.run(bench_logs_short(srv, settings))


def _create(settings: Settings) -> list[Row]:
    with standalone_fake() as srv:
        return asyncio.run(bench_create_fanout(srv, settings))


def _structuring(settings: Settings) -> list[Row]:
    return bench_structuring(settings)


def _follow(settings: Settings) -> list[Row]:
    # Agents that never finish: every task's last reply keeps growing during the run.
    args = ("--tasks", "1000", "--chunk-interval", str(CHUNK_INTERVAL), "--chunks", "100000")
    with bench_server("fake", *args) as srv:
        return asyncio.run(bench_follow(srv, settings))


def _shared(settings: Settings) -> list[Row]:
    # Agents that never finish: every follower polls at its fastest pace all along.
    args = ("--tasks", "3", "--chunk-interval", str(CHUNK_INTERVAL), "--chunks", "100000")
    with bench_server("fake", *args) as srv:
        return asyncio.run(bench_shared(srv, settings))


def _wake(settings: Settings) -> list[Row]:
    # Real time on purpose: minutes of idling, measured with the default PollPolicy.
    with wake_server(plan_for(settings)) as srv:
        return asyncio.run(bench_wake(srv, settings))


BENCHMARKS: dict[str, Bench] = {
    "imports": bench_imports,
    "cli": bench_cli,
    "structuring": _structuring,
    "bulk": bench_bulk,
    "get_task": _get_task,
    "list_tasks": _list_tasks,
    "get_logs": _logs,
    "create_fanout": _create,
    "follow": _follow,
    "shared": _shared,
    "idle": bench_idle,
    "wake": _wake,
    "fleet": bench_fleet,
    "otel": bench_otel,
    "scale": bench_scale,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the SDK against raw aiohttp + orjson.")
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated subset of: {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke test)")
    parser.add_argument("--svg", type=Path, default=None, help="also draw the ratios here (SVG)")
    parser.add_argument(
        "--from-json", type=Path, default=None, help="run nothing: draw --svg from a --json file"
    )
    parser.add_argument(
        "--ranges",
        type=Path,
        nargs="+",
        default=None,
        help="run nothing: the ratio ranges of saved --json runs (the README table's source)",
    )
    parser.add_argument(
        "--scale-max",
        type=int,
        default=10_000,
        help="largest follow_many size of the scale curves (50000 adds ~15 minutes)",
    )
    args = parser.parse_args(argv)
    if args.from_json is not None:
        if args.svg is None:
            parser.error("--from-json draws a chart: give --svg PATH")
        saved = orjson.loads(args.from_json.read_bytes())
        args.svg.write_text(svg_chart(saved["rows"], describe(saved["meta"])))
        return 0
    if args.ranges is not None:
        print(render_ranges([orjson.loads(p.read_bytes())["rows"] for p in args.ranges]))
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    settings = Settings(quick=args.quick, scale_max=args.scale_max)
    rows: list[Row] = []
    started = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += BENCHMARKS[name](settings)
        print(f"  {name} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    print(render(rows))
    failed = [r for r in rows if r.passed is False]
    checked = [r for r in rows if r.passed is not None]
    print(f"\ntargets: {len(checked) - len(failed)}/{len(checked)} met", end="")
    print(f" ({'quick run, indicative only' if args.quick else 'full run'})")
    meta = {
        "quick": args.quick,
        "scale_max": args.scale_max,
        "benchmarks": names,
        "seconds": round(time.perf_counter() - started, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d"),
    }
    if args.json is not None:
        write_json(rows, args.json, meta)
    if args.svg is not None:
        args.svg.write_text(svg_chart([attrs.asdict(r) for r in rows], describe(meta)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
