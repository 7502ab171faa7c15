"""Strata: a Python-first machine-learning compiler built on MLIR.

Levels: computational graph (`graph`) -> tensor programs (`tprog`) -> library calls (`libcall`) /
hardware primitives (`hwprim`) -> LLVM IR. Heavy modules load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "compile",
    "CompileError",
    "GraphBuilder",
    "Pipeline",
    "make_context",
    "parse_module",
    "lower_to_llvm",
    "set_num_threads",
    "tune",
    "Schedule",
    "simulate",
    "bisect",
]

_LAZY = {
    "compile": "strata.compiler",
    "parse_module": "strata.compiler",
    "lower_to_llvm": "strata.compiler",
    "CompileError": "strata.diagnostics",
    "GraphBuilder": "strata.frontends.builder",
    "Pipeline": "strata.pipelines",
    "make_context": "strata.dialects",
    "set_num_threads": "strata.runtime.threads",
    "tune": "strata.tuning.tuner",
    "Schedule": "strata.transforms.tprog.schedule",
    "simulate": "strata.interpreter",
    "bisect": "strata.bisection",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'strata' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)
