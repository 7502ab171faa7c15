"""graph.batch_norm (inference): a per-channel block folds the statistics into a scale and a
shift (scale = weight * rsqrt(var + epsilon), shift = bias - mean * scale), then one spatial
block computes x * scale[c] + shift[c] over the input."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, memref
from mlir.dialects import math as mathd

from strata.conversions.graph_ops import reference, register
from strata.conversions.tprog_builder import emit_block
from strata.dialects.tprog import IterType
from strata.irutil import float_constant


@register("graph.batch_norm")
def lower_batch_norm(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    x, weight, bias, mean, var = ins
    shape = list(out.type.shape)
    channels = shape[1]
    element = out.type.element_type
    per_channel = ir.MemRefType.get([channels], element)
    scale = memref.AllocOp(per_channel, [], []).result
    shift = memref.AllocOp(per_channel, [], []).result

    def fold(v: list[ir.Value]) -> None:
        epsilon = float_constant(element, op.opview.epsilon)
        variance = memref.LoadOp(var, v).result
        rstd = mathd.RsqrtOp(arith.AddFOp(variance, epsilon).result).result
        s = arith.MulFOp(memref.LoadOp(weight, v).result, rstd).result
        m = arith.MulFOp(memref.LoadOp(mean, v).result, s).result
        memref.StoreOp(s, scale, v)
        memref.StoreOp(arith.SubFOp(memref.LoadOp(bias, v).result, m).result, shift, v)

    def apply(v: list[ir.Value]) -> None:
        y = arith.MulFOp(memref.LoadOp(x, v).result, memref.LoadOp(scale, [v[1]]).result).result
        memref.StoreOp(arith.AddFOp(y, memref.LoadOp(shift, [v[1]]).result).result, out, v)

    emit_block(f"{name}_fold", ["c"], [channels], [IterType.SPATIAL], fold)
    emit_block(
        name, [f"i{d}" for d in range(len(shape))], shape, [IterType.SPATIAL] * len(shape), apply
    )


@reference("graph.batch_norm")
def batch_norm_reference(op: ir.Operation, x: np.ndarray, *params: np.ndarray) -> np.ndarray:
    """(x - mean) / sqrt(var + epsilon) * weight + bias, per channel (dimension 1)."""
    compute = np.promote_types(x.dtype, np.float32)
    at_channels = (1, -1) + (1,) * (x.ndim - 2)
    weight, bias, mean, var = (p.astype(compute).reshape(at_channels) for p in params)
    y = (x.astype(compute) - mean) / np.sqrt(var + op.opview.epsilon) * weight + bias
    return y.astype(x.dtype)
