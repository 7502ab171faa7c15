"""graph.conv2d: zero padding into a local buffer, then, for groups == 1, im2col and a batched
matmul (W[O, C*KH*KW] @ col[N, C*KH*KW, OH*OW]) that convert-tprog-to-hwprim tensorizes like any
other matmul; grouped (depthwise) convolutions are one direct reduction block."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, memref

from strata.conversions.graph_ops import reference, register
from strata.conversions.graph_ops.matmul import lower_matmul
from strata.conversions.tprog_builder import emit_block
from strata.dialects.tprog import IterType
from strata.irutil import float_constant, index_constant

S, R = IterType.SPATIAL, IterType.REDUCTION


def _affine(terms: Sequence[tuple[ir.Value, int]], const: int = 0) -> ir.Value:
    """sum(value * coefficient) + const on index values (arith; folded by canonicalize)."""
    total = index_constant(const) if const or not terms else None
    for value, coef in terms:
        term = value if coef == 1 else arith.MulIOp(value, index_constant(coef)).result
        total = term if total is None else arith.AddIOp(total, term).result
    return total


def _pad(x: ir.Value, padding: Sequence[int], name: str) -> ir.Value:
    """`x` with zero rows/columns around H and W, in a local buffer (or `x` without padding)."""
    top, left, bottom, right = padding
    if not any(padding):
        return x
    n, c, h, w = x.type.shape
    shape = [n, c, h + top + bottom, w + left + right]
    element = x.type.element_type
    padded = memref.AllocOp(ir.MemRefType.get(shape, element), [], []).result

    def zero(v: list[ir.Value]) -> None:
        memref.StoreOp(float_constant(element, 0.0), padded, v)

    def copy(v: list[ir.Value]) -> None:
        value = memref.LoadOp(x, v).result
        at = [v[0], v[1], _affine([(v[2], 1)], top), _affine([(v[3], 1)], left)]
        memref.StoreOp(value, padded, at)

    names = ["n", "c", "h", "w"]
    emit_block(f"{name}_pad_zero", names, shape, [S] * 4, zero)
    emit_block(f"{name}_pad", names, [n, c, h, w], [S] * 4, copy)
    return padded


def _collapse(value: ir.Value, groups: list[list[int]]) -> ir.Value:
    shape = list(value.type.shape)
    collapsed = []
    for group in groups:
        size = 1
        for d in group:
            size *= shape[d]
        collapsed.append(size)
    result = ir.MemRefType.get(collapsed, value.type.element_type)
    reassociation = ir.ArrayAttr.get(
        [
            ir.ArrayAttr.get([ir.IntegerAttr.get(ir.IntegerType.get_signless(64), d) for d in g])
            for g in groups
        ]
    )
    return memref.collapse_shape(result, value, reassociation)


@register("graph.conv2d")
def lower_conv2d(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    view = op.opview
    x, weight = ins
    (sh, sw), (dh, dw), groups = view.strides, view.dilation, view.groups
    xp = _pad(x, view.padding, name)
    n, c, _, _ = x.type.shape
    o, cg, kh, kw = weight.type.shape
    _, _, oh, ow = out.type.shape
    element = out.type.element_type
    if groups == 1:
        rows = c * kh * kw
        col = memref.AllocOp(ir.MemRefType.get([n, rows, oh * ow], element), [], []).result

        def im2col(v: list[ir.Value]) -> None:
            b, ci, ki, kj, i, j = v
            value = memref.LoadOp(
                xp, [b, ci, _affine([(i, sh), (ki, dh)]), _affine([(j, sw), (kj, dw)])]
            ).result
            row = _affine([(ci, kh * kw), (ki, kw), (kj, 1)])
            memref.StoreOp(value, col, [b, row, _affine([(i, ow), (j, 1)])])

        emit_block(
            f"{name}_im2col",
            ["n", "c", "kh", "kw", "oh", "ow"],
            [n, c, kh, kw, oh, ow],
            [S] * 6,
            im2col,
        )
        lower_matmul(
            op, [_collapse(weight, [[0], [1, 2, 3]]), col], _collapse(out, [[0], [1], [2, 3]]), name
        )
        return

    per_group = o // groups

    def body(v: list[ir.Value]) -> None:
        b, co, i, j, ci, ki, kj = v
        channel = _affine([(arith.DivUIOp(co, index_constant(per_group)).result, cg), (ci, 1)])
        xv = memref.LoadOp(
            xp, [b, channel, _affine([(i, sh), (ki, dh)]), _affine([(j, sw), (kj, dw)])]
        ).result
        wv = memref.LoadOp(weight, [co, ci, ki, kj]).result
        acc = memref.LoadOp(out, [b, co, i, j]).result
        memref.StoreOp(arith.AddFOp(acc, arith.MulFOp(xv, wv).result).result, out, [b, co, i, j])

    def init(v: list[ir.Value]) -> None:
        memref.StoreOp(float_constant(element, 0.0), out, v[:4])

    emit_block(
        name,
        ["n", "o", "oh", "ow", "ci", "kh", "kw"],
        [n, o, oh, ow, cg, kh, kw],
        [S, S, S, S, R, R, R],
        body,
        init,
    )


@reference("graph.conv2d")
def conv2d_reference(op: ir.Operation, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    view = op.opview
    return conv2d_numpy(x, weight, view.strides, view.padding, view.dilation, view.groups)


def conv2d_numpy(
    x: np.ndarray,
    weight: np.ndarray,
    strides: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    groups: int,
) -> np.ndarray:
    """PyTorch's conv2d (no bias): one einsum per kernel tap over the strided, dilated window
    positions of the zero-padded input, per group; accumulated in at least float32."""
    (sh, sw), (dh, dw) = strides, dilation
    top, left, bottom, right = padding
    compute = np.promote_types(x.dtype, np.float32)
    xp = np.pad(x.astype(compute), ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, c, h, w = xp.shape
    o, cg, kh, kw = weight.shape
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (w - dw * (kw - 1) - 1) // sw + 1
    xg = xp.reshape(n, groups, cg, h, w)
    wg = weight.astype(compute).reshape(groups, o // groups, cg, kh, kw)
    out = np.zeros((n, groups, o // groups, oh, ow), dtype=compute)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            out += np.einsum("ngchw,goc->ngohw", xg[..., rows, cols], wg[..., i, j])
    return out.reshape(n, o, oh, ow).astype(x.dtype)
