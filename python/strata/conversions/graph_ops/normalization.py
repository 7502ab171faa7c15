"""graph.softmax and graph.layer_norm: reductions with their elementwise producers/consumers.

Each lowers to a few blocks over the input: reduction blocks into local buffers (one element per
row, the reduced dimensions dropped), then spatial blocks over the output. Loop `i<d>` iterates
input dimension d as a spatial variable, `r<d>` as a reduction variable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from mlir import ir
from mlir.dialects import arith, memref
from mlir.dialects import math as mathd

from strata.conversions.graph_ops import mathfn, register
from strata.conversions.tprog_builder import BodyBuilder, emit_block
from strata.dialects.tprog import IterType
from strata.irutil import float_constant
from strata.transforms.tprog.nest import LOOP_KIND

S, R = IterType.SPATIAL, IterType.REDUCTION


def REASSOC() -> ir.Attribute:  # noqa: N802 - reads as the flag it is
    """Fast-math flags of reduction steps: reassociation only (no finite-math assumptions)."""
    return ir.Attribute.parse("#arith.fastmath<reassoc>")


def _row_buffer(shape: Sequence[int], reduced: Sequence[int], element: ir.Type) -> ir.Value:
    """A local buffer with one element per row: `shape` without the `reduced` dimensions.
    Freed by upstream's buffer-deallocation-pipeline."""
    kept = [d for i, d in enumerate(shape) if i not in reduced]
    return memref.AllocOp(ir.MemRefType.get(kept, element), [], []).result


def _reduction(
    name: str,
    shape: Sequence[int],
    reduced: Sequence[int],
    body: BodyBuilder,
    init: BodyBuilder,
) -> None:
    """A block over `shape` whose `reduced` dimensions are reduction variables, iterated
    innermost; `body`/`init` receive the variables in input dimension order."""
    kept = [d for d in range(len(shape)) if d not in reduced]
    order = kept + list(reduced)
    names = [f"i{d}" for d in kept] + [f"r{d}" for d in reduced]

    def in_input_order(build: BodyBuilder) -> BodyBuilder:
        def run(v: list[ir.Value]) -> None:
            by_dim = dict(zip(order, v))
            build([by_dim[d] for d in range(len(shape))])

        return run

    block = emit_block(
        name,
        names,
        [shape[d] for d in order],
        [S] * len(kept) + [R] * len(reduced),
        in_input_order(body),
        in_input_order(init),
    )
    # The accumulations are reassociable (REASSOC), so LLVM may vectorize the innermost loop.
    block.operation.parent.attributes[LOOP_KIND] = ir.StringAttr.get("vectorized")


def _spatial(name: str, shape: Sequence[int], body: BodyBuilder) -> None:
    emit_block(name, [f"i{d}" for d in range(len(shape))], shape, [S] * len(shape), body)


def _rows(v: Sequence[ir.Value], reduced: Sequence[int]) -> list[ir.Value]:
    """The index of a row buffer from the input's iteration variables."""
    return [x for d, x in enumerate(v) if d not in reduced]


def _accumulate(
    buffer: ir.Value, index: list[ir.Value], update: Callable[[ir.Value], ir.Value]
) -> None:
    """buffer[index] = update(buffer[index])."""
    memref.StoreOp(update(memref.LoadOp(buffer, index).result), buffer, index)


@register("graph.softmax")
def lower_softmax(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    """exp(x - max) / sum(exp(x - max)) along `axis`: max and sum are reductions into row
    buffers; the exponentials go to `out`, divided in place."""
    (x,) = ins
    shape = list(out.type.shape)
    axis = op.opview.axis % len(shape)
    element = out.type.element_type
    reduced = [axis]
    row_max = _row_buffer(shape, reduced, element)
    row_sum = _row_buffer(shape, reduced, element)

    def max_init(v: list[ir.Value]) -> None:
        memref.StoreOp(float_constant(element, -math.inf), row_max, _rows(v, reduced))

    def max_body(v: list[ir.Value]) -> None:
        value = memref.LoadOp(x, v).result
        _accumulate(
            row_max,
            _rows(v, reduced),
            lambda m: arith.MaximumFOp(m, value, fastmath=REASSOC()).result,
        )

    def exp_body(v: list[ir.Value]) -> None:
        shifted = arith.SubFOp(
            memref.LoadOp(x, v).result, memref.LoadOp(row_max, _rows(v, reduced)).result
        ).result
        memref.StoreOp(mathfn.exp(shifted), out, v)

    def sum_init(v: list[ir.Value]) -> None:
        memref.StoreOp(float_constant(element, 0.0), row_sum, _rows(v, reduced))

    def sum_body(v: list[ir.Value]) -> None:
        value = memref.LoadOp(out, v).result
        _accumulate(
            row_sum, _rows(v, reduced), lambda s: arith.AddFOp(s, value, fastmath=REASSOC()).result
        )

    def div_body(v: list[ir.Value]) -> None:
        total = memref.LoadOp(row_sum, _rows(v, reduced)).result
        memref.StoreOp(arith.DivFOp(memref.LoadOp(out, v).result, total).result, out, v)

    _reduction(f"{name}_max", shape, reduced, max_body, max_init)
    _spatial(f"{name}_exp", shape, exp_body)
    _reduction(f"{name}_sum", shape, reduced, sum_body, sum_init)
    _spatial(f"{name}_div", shape, div_body)


@register("graph.layer_norm")
def lower_layer_norm(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    """(x - mean) * rsqrt(var + epsilon) * weight + bias over the trailing rank(weight) dims:
    mean and the (two-pass) variance are reductions into row buffers, each term scaled by
    1/count as it is added."""
    x, weight, bias = ins
    shape = list(out.type.shape)
    k = len(weight.type.shape)
    reduced = list(range(len(shape) - k, len(shape)))
    element = out.type.element_type
    row_mean = _row_buffer(shape, reduced, element)
    row_var = _row_buffer(shape, reduced, element)

    def inv_count() -> ir.Value:
        return float_constant(element, 1.0 / math.prod(shape[d] for d in reduced))

    def centered(v: list[ir.Value]) -> ir.Value:
        mean = memref.LoadOp(row_mean, _rows(v, reduced)).result
        return arith.SubFOp(memref.LoadOp(x, v).result, mean).result

    def zero_init(buffer: ir.Value) -> BodyBuilder:
        return lambda v: memref.StoreOp(float_constant(element, 0.0), buffer, _rows(v, reduced))

    def mean_body(v: list[ir.Value]) -> None:
        term = arith.MulFOp(memref.LoadOp(x, v).result, inv_count()).result
        _accumulate(
            row_mean, _rows(v, reduced), lambda s: arith.AddFOp(s, term, fastmath=REASSOC()).result
        )

    def var_body(v: list[ir.Value]) -> None:
        c = centered(v)
        term = arith.MulFOp(arith.MulFOp(c, c).result, inv_count()).result
        _accumulate(
            row_var, _rows(v, reduced), lambda s: arith.AddFOp(s, term, fastmath=REASSOC()).result
        )

    def out_body(v: list[ir.Value]) -> None:
        var = memref.LoadOp(row_var, _rows(v, reduced)).result
        epsilon = float_constant(element, op.opview.epsilon)
        rstd = mathd.RsqrtOp(arith.AddFOp(var, epsilon).result).result
        trailing = v[len(shape) - k :]
        scale = arith.MulFOp(rstd, memref.LoadOp(weight, trailing).result).result
        y = arith.MulFOp(centered(v), scale).result
        memref.StoreOp(arith.AddFOp(y, memref.LoadOp(bias, trailing).result).result, out, v)

    _reduction(f"{name}_mean", shape, reduced, mean_body, zero_init(row_mean))
    _reduction(f"{name}_var", shape, reduced, var_body, zero_init(row_var))
    _spatial(f"{name}_out", shape, out_body)
