"""graph.reshape and graph.transpose: copy blocks (a reshape reads the input at the row-major
position of each output element; a transpose at the permuted index)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, memref

from strata.conversions.graph_ops import reference, register
from strata.conversions.tprog_builder import emit_block
from strata.dialects.tprog import IterType
from strata.irutil import index_constant


def _copy(name: str, out: ir.Value, read) -> None:
    shape = list(out.type.shape)

    def body(v: list[ir.Value]) -> None:
        memref.StoreOp(read(v), out, v)

    emit_block(
        name, [f"i{d}" for d in range(len(shape))], shape, [IterType.SPATIAL] * len(shape), body
    )


@register("graph.reshape")
def lower_reshape(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    (x,) = ins
    src, dst = list(x.type.shape), list(out.type.shape)

    def read(v: list[ir.Value]) -> ir.Value:
        linear = None  # row-major position of the output element
        for d, value in enumerate(v):
            stride = math.prod(dst[d + 1 :])
            term = value if stride == 1 else arith.MulIOp(value, index_constant(stride)).result
            linear = term if linear is None else arith.AddIOp(linear, term).result
        linear = linear if linear is not None else index_constant(0)
        index = []
        for d in range(len(src)):
            stride = math.prod(src[d + 1 :])
            q = linear if stride == 1 else arith.DivUIOp(linear, index_constant(stride)).result
            index.append(q if d == 0 else arith.RemUIOp(q, index_constant(src[d])).result)
        return memref.LoadOp(x, index).result

    _copy(name, out, read)


@register("graph.transpose")
def lower_transpose(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    (x,) = ins
    permutation = op.opview.permutation
    inverse = [permutation.index(d) for d in range(len(permutation))]
    _copy(name, out, lambda v: memref.LoadOp(x, [v[inverse[d]] for d in range(len(v))]).result)


@reference("graph.reshape")
def reshape_reference(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    return x.reshape(list(op.results[0].type.shape))


@reference("graph.transpose")
def transpose_reference(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    return np.transpose(x, op.opview.permutation).copy()
