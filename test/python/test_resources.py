"""Compiling and running in a loop does not leak: RSS stays flat over 10,000 calls and over 50
compiles of the MLP (the compiled modules are freed with their JIT engines)."""

from __future__ import annotations

import ctypes
import gc
import os

import numpy as np
import strata
from strata.models.mlp import MLPWeights, build_mlp

WEIGHTS = MLPWeights.default()
X = np.random.default_rng(0).standard_normal((1, 784)).astype(np.float32)


def rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_ten_thousand_calls_do_not_grow_rss() -> None:
    compiled = strata.compile(build_mlp(1, WEIGHTS))
    for _ in range(1000):  # warm up allocator pools
        compiled(X)
    gc.collect()
    before = rss_kb()
    for _ in range(10_000):
        compiled(X)
    gc.collect()
    assert rss_kb() - before < 1024, "10,000 calls grew RSS by 1 MB or more"


def test_fifty_compiles_do_not_grow_rss() -> None:
    """Each compile JITs ~400 kB of weights; a leaked engine would add MBs over 50."""
    for _ in range(5):  # warm up caches (passes, dialects, type uniquing)
        strata.compile(build_mlp(1, WEIGHTS))(X)
    gc.collect()
    before = rss_kb()
    for _ in range(50):
        compiled = strata.compile(build_mlp(1, WEIGHTS))
        compiled(X)
        del compiled
    gc.collect()
    assert rss_kb() - before < 4096, "50 compiles grew RSS by 4 MB or more"


def test_compiles_do_not_create_ctypes_types() -> None:
    """Regression: every compiled function made new memref descriptor classes, whose pointer
    types ctypes caches forever (about 25 kB leaked per compile of the MLP)."""
    strata.compile(build_mlp(1, WEIGHTS))(X)
    cached = len(ctypes._pointer_type_cache)  # type: ignore[attr-defined]
    for _ in range(5):
        strata.compile(build_mlp(1, WEIGHTS))(X)
    assert len(ctypes._pointer_type_cache) == cached  # type: ignore[attr-defined]
