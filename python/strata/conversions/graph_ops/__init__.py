"""Lowerings of `graph` ops to tensor programs, and their numpy semantics, one module per family.

`LOWERINGS` maps an op name to `lower(op, ins, out, block_name)`, which emits, at the current
insertion point, the loop nests and blocks computing `op` from buffers `ins` into buffer `out`.
`REFERENCES` maps an op name to `reference(op, *arrays) -> array`, its numpy semantics (used by
`graph-fold-constants` and the reference interpreter). A new op adds both, next to each other, in
its family's module; `convert-graph-to-tprog` does not change.
Lowerings may reuse loop names across their nests: the pass makes names unique per function.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

import numpy as np
from mlir import ir

from strata.irutil import index_constant

Lowering = Callable[[ir.Operation, Sequence[ir.Value], ir.Value, str], None]
Reference = Callable[..., np.ndarray]
LOWERINGS: dict[str, Lowering] = {}
REFERENCES: dict[str, Reference] = {}
_MODULES = (
    "elementwise",
    "matmul",
    "conv",
    "normalization",
    "layout",
    "reduction",
    "pooling",
    "batch_norm",
    "movement",
)
_loaded = False


def register(*names: str) -> Callable[[Lowering], Lowering]:
    def add(fn: Lowering) -> Lowering:
        for name in names:
            LOWERINGS[name] = fn
        return fn

    return add


def reference(*names: str) -> Callable[[Reference], Reference]:
    """Register `fn(op, *arrays) -> array`, the numpy semantics of the ops `names`."""

    def add(fn: Reference) -> Reference:
        for name in names:
            REFERENCES[name] = fn
        return fn

    return add


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _MODULES:
            importlib.import_module(f"strata.conversions.graph_ops.{module}")


def lowering_for(op_name: str) -> Lowering | None:
    _load()
    return LOWERINGS.get(op_name)


def reference_for(op_name: str) -> Reference | None:
    """The numpy semantics of `op_name`, or None when it has none yet."""
    _load()
    return REFERENCES.get(op_name)


def broadcast_index(shape: Sequence[int], out_vars: Sequence[ir.Value]) -> list[ir.Value]:
    """Index into an operand of `shape` broadcast (numpy rules) to the iteration space `out_vars`:
    a size-1 dimension reads index 0 (the constant is made only where needed)."""
    offset = len(out_vars) - len(shape)
    return [index_constant(0) if d == 1 else out_vars[offset + i] for i, d in enumerate(shape)]


def memref_type(tensor_type: ir.Type) -> ir.MemRefType:
    return ir.MemRefType.get(list(tensor_type.shape), tensor_type.element_type)
