"""Timing primitives shared by every benchmark: samples, interleaved rounds, medians.

Wall time is ``perf_counter``; CPU time is ``process_time`` of this process.  The
servers run in other processes, so process CPU time is the client's alone.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence

import attrs

__all__ = ["Sample", "Settings", "interleaved", "median", "micro", "timed"]


@attrs.define(frozen=True, kw_only=True)
class Settings:
    """How hard to push: ``quick`` is for the smoke run, the default for real figures."""

    quick: bool = False
    #: The largest size of the ``scale`` curves (``--scale-max``; 50,000 takes ~15 minutes).
    scale_max: int = 10_000

    def pick(self, quick: int, full: int) -> int:
        return quick if self.quick else full

    @property
    def rounds(self) -> int:
        """Interleaved SDK/raw rounds per HTTP figure (the median is reported)."""
        return self.pick(3, 5)


@attrs.define(frozen=True)
class Sample:
    """One timed run of ``ops`` operations."""

    ops: int
    wall: float
    cpu: float

    @property
    def wall_per_op(self) -> float:
        return self.wall / self.ops

    @property
    def cpu_per_op(self) -> float:
        return self.cpu / self.ops

    @property
    def rate(self) -> float:
        return self.ops / self.wall


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


async def timed(run: Callable[[], Awaitable[int]]) -> Sample:
    """Time one run; ``run`` returns how many operations it did."""
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    ops = await run()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return Sample(ops, wall, cpu)


async def interleaved(
    rounds: int,
    sdk: Callable[[], Awaitable[int]],
    raw: Callable[[], Awaitable[int]],
) -> tuple[list[Sample], list[Sample]]:
    """Alternate SDK and raw runs (swapping who goes first) so drift hits both alike."""
    sdk_samples: list[Sample] = []
    raw_samples: list[Sample] = []
    for i in range(rounds):
        if i % 2 == 0:
            sdk_samples.append(await timed(sdk))
            raw_samples.append(await timed(raw))
        else:
            raw_samples.append(await timed(raw))
            sdk_samples.append(await timed(sdk))
    return sdk_samples, raw_samples


def micro(
    candidates: dict[str, Callable[[], object]], *, number: int, repeat: int
) -> dict[str, float]:
    """timeit-style: seconds per call, the median of ``repeat`` loops of ``number`` calls.

    Candidates take turns loop by loop, so a noisy moment is shared among them.
    Loops are timed in process CPU time, not wall time: on a shared machine a
    descheduled moment would otherwise be charged to whichever candidate ran.  The
    cyclic garbage collector is off while a loop runs, as in ``timeit``: a collection
    walks every object in the process, so whichever candidate happened to trigger it
    would pay for what the others left (the objects one candidate keeps made the
    others' loops up to twice as slow).  Collections are measured where they belong,
    in the HTTP rows, which time whole calls with the collector on.
    """
    loops: dict[str, list[float]] = {name: [] for name in candidates}
    for fn in candidates.values():  # warm up caches and lazily built hooks
        for _ in range(min(number, 200)):
            fn()
    for _ in range(repeat):
        for name, fn in candidates.items():
            gc.collect()
            gc.disable()
            try:
                t0 = time.process_time()
                for _ in range(number):
                    fn()
                loops[name].append((time.process_time() - t0) / number)
            finally:
                gc.enable()
    return {name: median(values) for name, values in loops.items()}
