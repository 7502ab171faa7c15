"""graph.softmax, graph.log_softmax and graph.layer_norm: reductions with their elementwise
producers/consumers.

Each lowers to a few blocks over the input: reduction blocks into local buffers (one element per
row, the reduced dimensions dropped), then spatial blocks over the output. Loop `i<d>` iterates
input dimension d as a spatial variable, `r<d>` as a reduction variable. f16/bf16 inputs are
computed in f32 (row buffers, exponentials, statistics) and rounded into the output, as PyTorch
does on CPU.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, memref
from mlir.dialects import math as mathd

from strata.conversions.graph_ops import mathfn, reference, register
from strata.conversions.tprog_builder import BodyBuilder, emit_block
from strata.dialects.tprog import IterType
from strata.irutil import float_constant
from strata.transforms.tprog.nest import LOOP_KIND

S, R = IterType.SPATIAL, IterType.REDUCTION


def REASSOC() -> ir.Attribute:  # noqa: N802 - reads as the flag it is
    """Fast-math flags of reduction steps: reassociation only (no finite-math assumptions)."""
    return ir.Attribute.parse("#arith.fastmath<reassoc>")


def _row_buffer(shape: Sequence[int], reduced: Sequence[int]) -> ir.Value:
    """A local f32 buffer with one element per row: `shape` without the `reduced` dimensions.
    Freed by upstream's buffer-deallocation-pipeline."""
    kept = [d for i, d in enumerate(shape) if i not in reduced]
    return memref.AllocOp(ir.MemRefType.get(kept, ir.F32Type.get()), [], []).result


def _load(buffer: ir.Value, index: Sequence[ir.Value]) -> ir.Value:
    """buffer[index] as f32."""
    return mathfn.widen(memref.LoadOp(buffer, list(index)).result)


def _store(value: ir.Value, buffer: ir.Value, index: Sequence[ir.Value]) -> None:
    """buffer[index] = value (f32), rounded to the buffer's element type."""
    memref.StoreOp(mathfn.narrow(value, buffer.type.element_type), buffer, list(index))


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


def _f32(value: float) -> ir.Value:
    return float_constant(ir.F32Type.get(), value)


def _max_blocks(name: str, x: ir.Value, row_max: ir.Value, shape: list[int], axis: int) -> None:
    """row_max = max of x along `axis` (NaN-propagating)."""
    reduced = [axis]

    def init(v: list[ir.Value]) -> None:
        memref.StoreOp(_f32(-math.inf), row_max, _rows(v, reduced))

    def body(v: list[ir.Value]) -> None:
        value = _load(x, v)
        _accumulate(
            row_max,
            _rows(v, reduced),
            lambda m: arith.MaximumFOp(m, value, fastmath=REASSOC()).result,
        )

    _reduction(name, shape, reduced, body, init)


def _sum_block(
    name: str, row_sum: ir.Value, shape: list[int], axis: int, term: Callable[..., ir.Value]
) -> None:
    """row_sum = sum along `axis` of term(v)."""
    reduced = [axis]

    def init(v: list[ir.Value]) -> None:
        memref.StoreOp(_f32(0.0), row_sum, _rows(v, reduced))

    def body(v: list[ir.Value]) -> None:
        value = term(v)
        _accumulate(
            row_sum, _rows(v, reduced), lambda s: arith.AddFOp(s, value, fastmath=REASSOC()).result
        )

    _reduction(name, shape, reduced, body, init)


@register("graph.softmax")
def lower_softmax(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    """exp(x - max) / sum(exp(x - max)) along `axis`: max and sum are reductions into row
    buffers; the exponentials go to `out`, divided in place."""
    (x,) = ins
    shape = list(out.type.shape)
    axis = op.opview.axis % len(shape)
    reduced = [axis]
    row_max = _row_buffer(shape, reduced)
    row_sum = _row_buffer(shape, reduced)

    def exp_body(v: list[ir.Value]) -> None:
        shifted = arith.SubFOp(_load(x, v), _load(row_max, _rows(v, reduced))).result
        _store(mathfn.exp(shifted), out, v)

    def div_body(v: list[ir.Value]) -> None:
        total = _load(row_sum, _rows(v, reduced))
        _store(arith.DivFOp(_load(out, v), total).result, out, v)

    _max_blocks(f"{name}_max", x, row_max, shape, axis)
    _spatial(f"{name}_exp", shape, exp_body)
    _sum_block(f"{name}_sum", row_sum, shape, axis, lambda v: _load(out, v))
    _spatial(f"{name}_div", shape, div_body)


@register("graph.log_softmax")
def lower_log_softmax(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    """x - (max + log(sum(exp(x - max)))) along `axis`: the max and the sum of exponentials
    (computed inside the reduction, nothing stored) go to row buffers; one log per row turns the
    sum into the log-sum-exp, which a spatial block subtracts."""
    (x,) = ins
    shape = list(out.type.shape)
    axis = op.opview.axis % len(shape)
    reduced = [axis]
    row_max = _row_buffer(shape, reduced)
    row_lse = _row_buffer(shape, reduced)
    rows = [d for i, d in enumerate(shape) if i != axis]

    def exp_term(v: list[ir.Value]) -> ir.Value:
        shifted = arith.SubFOp(_load(x, v), _load(row_max, _rows(v, reduced))).result
        return mathfn.exp(shifted)

    def lse_body(v: list[ir.Value]) -> None:
        total = mathfn.log(_load(row_lse, v))
        _store(arith.AddFOp(_load(row_max, v), total).result, row_lse, v)

    def out_body(v: list[ir.Value]) -> None:
        lse = _load(row_lse, _rows(v, reduced))
        _store(arith.SubFOp(_load(x, v), lse).result, out, v)

    _max_blocks(f"{name}_max", x, row_max, shape, axis)
    _sum_block(f"{name}_sum", row_lse, shape, axis, exp_term)
    _spatial(f"{name}_lse", rows, lse_body)
    _spatial(f"{name}_out", shape, out_body)


@register("graph.layer_norm")
def lower_layer_norm(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    """(x - mean) * rsqrt(var + epsilon) * weight + bias over the trailing rank(weight) dims:
    mean and the (two-pass) variance are reductions into row buffers, each term scaled by
    1/count as it is added."""
    x, weight, bias = ins
    shape = list(out.type.shape)
    k = len(weight.type.shape)
    reduced = list(range(len(shape) - k, len(shape)))
    row_mean = _row_buffer(shape, reduced)
    row_var = _row_buffer(shape, reduced)

    def inv_count() -> ir.Value:
        return _f32(1.0 / math.prod(shape[d] for d in reduced))

    def centered(v: list[ir.Value]) -> ir.Value:
        mean = memref.LoadOp(row_mean, _rows(v, reduced)).result
        return arith.SubFOp(_load(x, v), mean).result

    def zero_init(buffer: ir.Value) -> BodyBuilder:
        return lambda v: memref.StoreOp(_f32(0.0), buffer, _rows(v, reduced))

    def mean_body(v: list[ir.Value]) -> None:
        term = arith.MulFOp(_load(x, v), inv_count()).result
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
        epsilon = _f32(op.opview.epsilon)
        rstd = mathd.RsqrtOp(arith.AddFOp(var, epsilon).result).result
        trailing = v[len(shape) - k :]
        scale = arith.MulFOp(rstd, _load(weight, trailing)).result
        y = arith.MulFOp(centered(v), scale).result
        _store(arith.AddFOp(y, _load(bias, trailing)).result, out, v)

    _reduction(f"{name}_mean", shape, reduced, mean_body, zero_init(row_mean))
    _reduction(f"{name}_var", shape, reduced, var_body, zero_init(row_var))
    _spatial(f"{name}_out", shape, out_body)


# ---- numpy semantics (PyTorch's), computed in float64 and rounded to the input's dtype ----


@reference("graph.softmax")
def softmax_reference(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    axis = op.opview.axis
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        e = np.exp(x64 - x64.max(axis=axis, keepdims=True))
        return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)


@reference("graph.log_softmax")
def log_softmax_reference(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    axis = op.opview.axis
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        shifted = x64 - x64.max(axis=axis, keepdims=True)
        lse = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return (shifted - lse).astype(x.dtype)


@reference("graph.layer_norm")
def layer_norm_reference(
    op: ir.Operation, x: np.ndarray, weight: np.ndarray, bias: np.ndarray
) -> np.ndarray:
    axes = tuple(range(x.ndim - weight.ndim, x.ndim))
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        mean = x64.mean(axis=axes, keepdims=True)
        var = x64.var(axis=axes, keepdims=True)  # biased, as PyTorch's layer_norm
        y = (x64 - mean) / np.sqrt(var + op.opview.epsilon)
        return (y * weight.astype(np.float64) + bias.astype(np.float64)).astype(x.dtype)
