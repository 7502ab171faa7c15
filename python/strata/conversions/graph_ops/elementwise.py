"""Elementwise ops with numpy broadcasting: one spatial block over the output."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mlir import ir
from mlir.dialects import arith, memref

from strata.conversions.graph_ops import broadcast_index, register
from strata.conversions.tprog_builder import emit_block
from strata.dialects.tprog import IterType
from strata.irutil import float_constant

Scalar = Callable[[list[ir.Value], ir.Type], ir.Value]

SCALAR: dict[str, Scalar] = {
    "graph.add": lambda x, t: arith.AddFOp(x[0], x[1]).result,
    "graph.sub": lambda x, t: arith.SubFOp(x[0], x[1]).result,
    "graph.mul": lambda x, t: arith.MulFOp(x[0], x[1]).result,
    "graph.relu": lambda x, t: arith.MaximumFOp(x[0], float_constant(t, 0.0)).result,
}


@register(*SCALAR)
def lower_elementwise(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    shape = list(out.type.shape)
    scalar = SCALAR[op.name]

    def body(v: list[ir.Value]) -> None:
        loaded = [memref.LoadOp(b, broadcast_index(b.type.shape, v)).result for b in ins]
        memref.StoreOp(scalar(loaded, out.type.element_type), out, v)

    emit_block(
        name, [f"i{d}" for d in range(len(shape))], shape, [IterType.SPATIAL] * len(shape), body
    )
