"""Timing with warm-up and repetitions, and an idle gap between systems (thread pools of
OpenBLAS, libgomp and libomp keep spinning after a call and would slow the next system)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

IDLE_GAP_S = 0.3


@dataclass(frozen=True)
class Sample:
    median_s: float
    min_s: float


def measure(fn: Callable[[], object], *, min_time_s: float = 0.3, max_reps: int = 2000) -> Sample:
    """Warm up, then time single calls until `min_time_s` has passed (at least 5 calls)."""
    for _ in range(3):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < min_time_s and len(times) < max_reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    time.sleep(IDLE_GAP_S)
    return Sample(statistics.median(times), min(times))
