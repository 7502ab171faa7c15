"""Lowerings of `graph` ops to tensor programs, one module per op family.

`LOWERINGS` maps an op name to `lower(op, ins, out, block_name)`, which emits, at the current
insertion point, the loop nests and blocks computing `op` from buffers `ins` into buffer `out`.
A new op adds a module here and registers its lowering; `convert-graph-to-tprog` does not change.
Lowerings may reuse loop names across their nests: the pass makes names unique per function.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

from mlir import ir

from strata.irutil import index_constant

Lowering = Callable[[ir.Operation, Sequence[ir.Value], ir.Value, str], None]
LOWERINGS: dict[str, Lowering] = {}
_MODULES = ("elementwise", "matmul", "conv", "normalization", "layout")
_loaded = False


def register(*names: str) -> Callable[[Lowering], Lowering]:
    def add(fn: Lowering) -> Lowering:
        for name in names:
            LOWERINGS[name] = fn
        return fn

    return add


def lowering_for(op_name: str) -> Lowering | None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _MODULES:
            importlib.import_module(f"strata.conversions.graph_ops.{module}")
    return LOWERINGS.get(op_name)


def broadcast_index(shape: Sequence[int], out_vars: Sequence[ir.Value]) -> list[ir.Value]:
    """Index into an operand of `shape` broadcast (numpy rules) to the iteration space `out_vars`:
    a size-1 dimension reads index 0 (the constant is made only where needed)."""
    offset = len(out_vars) - len(shape)
    return [index_constant(0) if d == 1 else out_vars[offset + i] for i, d in enumerate(shape)]


def memref_type(tensor_type: ir.Type) -> ir.MemRefType:
    return ir.MemRefType.get(list(tensor_type.shape), tensor_type.element_type)
