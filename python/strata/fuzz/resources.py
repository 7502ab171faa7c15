"""Resource use of compiled code: RSS growth over repeated calls and compiles of the MLP (the
target: under 1 MB over 10,000 calls)."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass


def rss_kb() -> int:
    """This process's resident set size, in kB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True)
class ResourceReport:
    calls: int
    call_growth_kb: int
    compiles: int
    compile_growth_kb: int

    def summary(self) -> str:
        return (
            f"resources: RSS growth {self.call_growth_kb} kB over {self.calls} calls "
            f"(target < 1024 kB), {self.compile_growth_kb} kB over {self.compiles} compiles "
            "of the MLP"
        )

    @property
    def ok(self) -> bool:
        return self.call_growth_kb < 1024


def measure_resources(calls: int = 10_000, compiles: int = 50) -> ResourceReport:
    import numpy as np

    import strata
    from strata.models.mlp import MLPWeights, build_mlp

    weights = MLPWeights.default()
    x = np.random.default_rng(0).standard_normal((1, 784)).astype(np.float32)
    for _ in range(3):  # warm up: pass registry, dialects, uniqued types, allocator pools
        compiled = strata.compile(build_mlp(1, weights))
        compiled(x)
    for _ in range(1000):
        compiled(x)
    gc.collect()
    before = rss_kb()
    for _ in range(calls):
        compiled(x)
    gc.collect()
    call_growth = rss_kb() - before
    del compiled
    gc.collect()
    before = rss_kb()
    for _ in range(compiles):
        strata.compile(build_mlp(1, weights))(x)
    gc.collect()
    return ResourceReport(calls, call_growth, compiles, rss_kb() - before)
