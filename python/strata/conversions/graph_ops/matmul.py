"""graph.matmul: one block over the output and the contracted dimension."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, memref

from strata.conversions.graph_ops import broadcast_index, reference, register
from strata.conversions.tprog_builder import emit_block
from strata.dialects.tprog import IterType
from strata.irutil import float_constant

S, R = IterType.SPATIAL, IterType.REDUCTION


@register("graph.matmul")
def lower_matmul(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, block_name: str) -> None:
    """numpy.matmul: batch dims broadcast, 1-D operands promoted; k is the reduction."""
    lhs, rhs = ins
    a, b = list(lhs.type.shape), list(rhs.type.shape)
    out_shape = list(out.type.shape)
    lhs_vec, rhs_vec = len(a) == 1, len(b) == 1
    n_batch = len(out_shape) - (0 if lhs_vec else 1) - (0 if rhs_vec else 1)
    names = (
        [f"b{d}" for d in range(n_batch)]
        + ([] if lhs_vec else ["i"])
        + ([] if rhs_vec else ["j"])
        + ["k"]
    )
    dom = out_shape + [a[-1]]
    element = out.type.element_type
    quantized = isinstance(element, ir.IntegerType)

    def split(
        v: list[ir.Value],
    ) -> tuple[list[ir.Value], ir.Value | None, ir.Value | None, ir.Value]:
        batch = v[:n_batch]
        i = None if lhs_vec else v[n_batch]
        j = None if rhs_vec else v[len(out_shape) - 1]
        return batch, i, j, v[-1]

    def body(v: list[ir.Value]) -> None:
        batch, i, j, k = split(v)
        lhs_idx = [k] if lhs_vec else [*broadcast_index(a[:-2], batch), i, k]
        rhs_idx = [k] if rhs_vec else [*broadcast_index(b[:-2], batch), k, j]
        x = memref.LoadOp(lhs, lhs_idx).result
        y = memref.LoadOp(rhs, rhs_idx).result
        acc = memref.LoadOp(out, v[:-1]).result
        if quantized:  # i8 x i8, sign-extended, accumulated in i32
            x, y = arith.ExtSIOp(element, x).result, arith.ExtSIOp(element, y).result
            memref.StoreOp(arith.AddIOp(acc, arith.MulIOp(x, y).result).result, out, v[:-1])
        else:
            memref.StoreOp(arith.AddFOp(acc, arith.MulFOp(x, y).result).result, out, v[:-1])

    def init(v: list[ir.Value]) -> None:
        zero = arith.ConstantOp(element, 0).result if quantized else float_constant(element, 0.0)
        memref.StoreOp(zero, out, v[:-1])

    emit_block(block_name, names, dom, [S] * len(out_shape) + [R], body, init)


@reference("graph.matmul")
def matmul_reference(op: ir.Operation, lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """numpy.matmul, accumulated in at least float32; i8 operands accumulate into int32."""
    if lhs.dtype == np.int8:
        return np.matmul(lhs.astype(np.int32), rhs.astype(np.int32))
    compute = np.promote_types(lhs.dtype, np.float32)
    return np.matmul(lhs.astype(compute), rhs.astype(compute)).astype(lhs.dtype)
