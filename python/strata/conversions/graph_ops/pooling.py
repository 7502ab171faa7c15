"""graph.max_pool2d, graph.avg_pool2d and graph.adaptive_avg_pool2d: separable window reductions.

A 2-D window reduces over its rows, then over its columns (max and sum are separable): a
reduction over the window's rows of each input column into a local buffer, then over the
window's columns into the output. The reduction loop of each is outside the innermost spatial
loop, which walks contiguous (rows) or strided (columns) memory and vectorizes; each buffer is
set to the reduction's identity by an init block of its own (TensorIR's decomposed reduction).
Padding: out-of-range rows read a clamped row replaced by the identity (`arith.select`, uniform
in the innermost loop); the column buffer has identity columns around the data instead, so the
column reduction has no bounds checks. A global pool (1x1 adaptive output) is one reduction over
the collapsed H*W dimension, innermost and vectorized.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from mlir import ir
from mlir.dialects import arith, memref

from strata.conversions.graph_ops import reference, register
from strata.conversions.tprog_builder import emit_block
from strata.dialects.tprog import IterType
from strata.irutil import float_constant, index_constant
from strata.transforms.tprog.nest import LOOP_KIND

S, R = IterType.SPATIAL, IterType.REDUCTION
Combine = Callable[[ir.Value, ir.Value], ir.Value]


def _mul(value: ir.Value, coef: int) -> ir.Value:
    return value if coef == 1 else arith.MulIOp(value, index_constant(coef)).result


def _add(value: ir.Value, const: int) -> ir.Value:
    return value if const == 0 else arith.AddIOp(value, index_constant(const)).result


@dataclass(frozen=True)
class _Axis:
    """One spatial dimension of the windows: output position `o` and tap `k` (0 <= k < taps)
    read input position start(o) + k * dilation, where start(o) = o * stride - pad, or for an
    adaptive pool floor(o * size / out), with the window ending at ceil((o + 1) * size / out)."""

    size: int
    out: int
    taps: int
    stride: int = 1
    pad: int = 0
    dilation: int = 1
    adaptive: bool = False

    @staticmethod
    def adaptive_axis(size: int, out: int) -> _Axis:
        taps = max(-(-(o + 1) * size // out) - o * size // out for o in range(out))
        return _Axis(size, out, taps, adaptive=True)

    def _bounds(self, o: int) -> tuple[int, int]:
        """The input range [lo, hi) of window `o`, before clipping to the input."""
        if self.adaptive:
            return o * self.size // self.out, -(-(o + 1) * self.size // self.out)
        lo = o * self.stride - self.pad
        return lo, lo + (self.taps - 1) * self.dilation + 1

    @property
    def is_identity(self) -> bool:
        return self.taps == 1 and self.out == self.size and self.pad == 0 and self.stride == 1

    @property
    def clipped(self) -> bool:
        """Whether some tap falls outside the input (padding, or a short adaptive window)."""
        if self.adaptive:
            return any(self._bounds(o)[1] - self._bounds(o)[0] < self.taps for o in range(self.out))
        return self.pad > 0 or self._bounds(self.out - 1)[1] > self.size

    def start(self, o: ir.Value) -> ir.Value:
        if self.adaptive:
            return arith.DivUIOp(_mul(o, self.size), index_constant(self.out)).result
        return _add(_mul(o, self.stride), -self.pad)

    def end(self, o: ir.Value) -> ir.Value:
        """The end of window `o`, clipped to the input."""
        if self.adaptive:
            numerator = _add(_mul(o, self.size), self.size + self.out - 1)
            return arith.DivUIOp(numerator, index_constant(self.out)).result
        end = _add(self.start(o), (self.taps - 1) * self.dilation + 1)
        return arith.MinSIOp(end, index_constant(self.size)).result

    def position(self, o: ir.Value, k: ir.Value) -> ir.Value:
        return arith.AddIOp(self.start(o), _mul(k, self.dilation)).result

    def in_range(self, o: ir.Value, k: ir.Value, position: ir.Value) -> ir.Value:
        """Whether tap `k` of window `o` (at `position`) reads the input."""
        if self.adaptive:
            return arith.CmpIOp(arith.CmpIPredicate.ult, position, self.end(o)).result
        checks = []
        if self.pad > 0:
            zero = index_constant(0)
            checks.append(arith.CmpIOp(arith.CmpIPredicate.sge, position, zero).result)
        if self._bounds(self.out - 1)[1] > self.size:
            size = index_constant(self.size)
            checks.append(arith.CmpIOp(arith.CmpIPredicate.slt, position, size).result)
        return checks[0] if len(checks) == 1 else arith.AndIOp(*checks).result

    def clamp(self, position: ir.Value) -> ir.Value:
        """`position` moved into the input, for a load whose value is then discarded."""
        if not self.adaptive and self.pad > 0:
            position = arith.MaxSIOp(position, index_constant(0)).result
        return arith.MinSIOp(position, index_constant(self.size - 1)).result

    def count(self, o: ir.Value) -> ir.Value:
        """The number of input elements in window `o` (an index value)."""
        lo = self.start(o)
        if not self.adaptive and self.pad > 0:
            lo = arith.MaxSIOp(lo, index_constant(0)).result
        return arith.SubIOp(self.end(o), lo).result

    def column_offset(self) -> int:
        """Where input column 0 sits in the column buffer (identity columns before it)."""
        return 0 if self.adaptive else self.pad

    def buffer_position(self, o: ir.Value, k: ir.Value) -> ir.Value:
        """position(o, k) in the column buffer: o * stride + k * dilation for fixed windows."""
        if self.adaptive:
            return self.position(o, k)
        return arith.AddIOp(_mul(o, self.stride), _mul(k, self.dilation)).result

    def column_width(self) -> int:
        if self.adaptive:
            return self.size
        return max(self.size + self.pad, self._bounds(self.out - 1)[1] + self.pad)


@dataclass(frozen=True)
class _Reduce:
    """max or mean: the combining step and its identity. A mean divides each term by the
    window's size along each axis as it is added: its number of taps, or with `per_window`
    the number of input elements in that window (which differ where windows are clipped)."""

    combine: Combine
    identity: float
    mean: bool = False
    per_window: bool = False


def _inverse_count(axis: _Axis, o: ir.Value, element: ir.Type) -> ir.Value:
    count = arith.IndexCastOp(ir.IntegerType.get_signless(32), axis.count(o)).result
    one = float_constant(element, 1.0)
    return arith.DivFOp(one, arith.SIToFPOp(element, count).result).result


class _Emitter:
    """The scalar steps shared by both passes of one pooling op."""

    def __init__(self, reduce: _Reduce, element: ir.Type):
        self.reduce, self.element = reduce, element

    def identity(self) -> ir.Value:
        return float_constant(self.element, self.reduce.identity)

    def fill(self, buffer: ir.Value, block: str) -> None:
        emit_block(
            block,
            ["n", "c", "h", "w"],
            list(buffer.type.shape),
            [S] * 4,
            lambda v: memref.StoreOp(self.identity(), buffer, v),
        )

    def accumulate(self, buffer: ir.Value, index: list[ir.Value], term: ir.Value) -> None:
        acc = memref.LoadOp(buffer, index).result
        memref.StoreOp(self.reduce.combine(acc, term), buffer, index)

    def scaled(self, term: ir.Value, axis: _Axis, o: ir.Value) -> ir.Value:
        """A mean's term divided by window `o`'s size along `axis`."""
        if not self.reduce.mean or axis.taps == 1:
            return term
        if self.reduce.per_window and axis.clipped:
            return arith.MulFOp(term, _inverse_count(axis, o, self.element)).result
        return arith.MulFOp(term, float_constant(self.element, 1.0 / axis.taps)).result


def _pool(x: ir.Value, out: ir.Value, rows: _Axis, cols: _Axis, reduce: _Reduce, name: str) -> None:
    """out[n, c, i, j] = reduce over the window (rows i, columns j) of x, in two passes."""
    n, c = x.type.shape[:2]
    emit = _Emitter(reduce, out.type.element_type)
    # Rows that are not pooled need no pass when the columns need no identity columns.
    if rows.is_identity and (cols.adaptive or not cols.clipped):
        _column_pass(x, out, cols, emit, name)
        return
    # Pass 1: over the window's rows, into `tmp` (or straight into `out` when the columns are
    # not pooled), at column offset `offset`; identity columns around the data pad the columns.
    if cols.is_identity:
        tmp, offset = out, 0
    else:
        offset = cols.column_offset()
        shape = [n, c, rows.out, cols.column_width()]
        tmp = memref.AllocOp(ir.MemRefType.get(shape, emit.element), [], []).result

    def row_body(v: list[ir.Value]) -> None:
        b, ch, i, k, w = v
        position = rows.position(i, k)
        load_at = rows.clamp(position) if rows.clipped else position
        term = memref.LoadOp(x, [b, ch, load_at, w]).result
        if rows.clipped:
            term = arith.SelectOp(rows.in_range(i, k, position), term, emit.identity()).result
        emit.accumulate(tmp, [b, ch, i, _add(w, offset)], emit.scaled(term, rows, i))

    emit.fill(tmp, f"{name}_rows_init" if tmp is not out else f"{name}_init")
    emit_block(
        f"{name}_rows" if tmp is not out else name,
        ["n", "c", "oh", "kh", "w"],
        [n, c, rows.out, rows.taps, cols.size],
        [S, S, S, R, S],
        row_body,
    )
    if tmp is not out:
        _column_pass(tmp, out, cols, emit, name)


def _column_pass(src: ir.Value, out: ir.Value, cols: _Axis, emit: _Emitter, name: str) -> None:
    """Pass 2: over the window's columns, from `src` (the row pass's buffer, or the input when
    rows are not pooled) into `out`."""
    n, c, oh, _ = out.type.shape

    def col_body(v: list[ir.Value]) -> None:
        b, ch, i, k, j = v
        position = cols.buffer_position(j, k)
        if cols.adaptive and cols.clipped:
            term = memref.LoadOp(src, [b, ch, i, cols.clamp(position)]).result
            term = arith.SelectOp(cols.in_range(j, k, position), term, emit.identity()).result
        else:
            term = memref.LoadOp(src, [b, ch, i, position]).result
        emit.accumulate(out, [b, ch, i, j], emit.scaled(term, cols, j))

    emit.fill(out, f"{name}_init")
    emit_block(
        name,
        ["n", "c", "oh", "kw", "ow"],
        [n, c, oh, cols.taps, cols.out],
        [S, S, S, R, S],
        col_body,
    )


def _global_mean(x: ir.Value, out: ir.Value, name: str) -> None:
    """out[n, c] = mean of x[n, c] over H*W: one reassociable reduction, innermost."""
    n, c, h, w = x.type.shape
    element = out.type.element_type
    flat = memref.collapse_shape(
        ir.MemRefType.get([n, c, h * w], element), x, _reassociation([[0], [1], [2, 3]])
    )
    zero = index_constant(0)
    reassoc = ir.Attribute.parse("#arith.fastmath<reassoc>")

    def init(v: list[ir.Value]) -> None:
        memref.StoreOp(float_constant(element, 0.0), out, [v[0], v[1], zero, zero])

    def body(v: list[ir.Value]) -> None:
        at = [v[0], v[1], zero, zero]
        term = arith.MulFOp(
            memref.LoadOp(flat, v).result, float_constant(element, 1.0 / (h * w))
        ).result
        acc = memref.LoadOp(out, at).result
        memref.StoreOp(arith.AddFOp(acc, term, fastmath=reassoc).result, out, at)

    block = emit_block(name, ["n", "c", "r"], [n, c, h * w], [S, S, R], body, init)
    block.operation.parent.attributes[LOOP_KIND] = ir.StringAttr.get("vectorized")


def _reassociation(groups: list[list[int]]) -> ir.ArrayAttr:
    i64 = ir.IntegerType.get_signless(64)
    return ir.ArrayAttr.get(
        [ir.ArrayAttr.get([ir.IntegerAttr.get(i64, d) for d in g]) for g in groups]
    )


def _regular_axes(op: ir.Operation, x: ir.Value) -> tuple[_Axis, _Axis]:
    view = op.opview
    _, _, h, w = x.type.shape
    top, left, _, _ = view.padding
    dilation = view.dilation if op.name == "graph.max_pool2d" else [1, 1]
    out = op.results[0].type.shape
    return (
        _Axis(h, out[2], view.kernel[0], view.strides[0], top, dilation[0]),
        _Axis(w, out[3], view.kernel[1], view.strides[1], left, dilation[1]),
    )


def _maximum(a: ir.Value, b: ir.Value) -> ir.Value:
    return arith.MaximumFOp(a, b).result


def _addf(a: ir.Value, b: ir.Value) -> ir.Value:
    return arith.AddFOp(a, b).result


@register("graph.max_pool2d")
def lower_max_pool2d(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    """The maximum over each window; padding is -inf (never wins), NaN propagates."""
    (x,) = ins
    rows, cols = _regular_axes(op, x)
    _pool(x, out, rows, cols, _Reduce(_maximum, -math.inf), name)


@register("graph.avg_pool2d")
def lower_avg_pool2d(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    """The mean over each window: the padded window's size with `count_include_pad` (or without
    padding), else the number of input elements in it."""
    (x,) = ins
    rows, cols = _regular_axes(op, x)
    per_window = not op.opview.count_include_pad
    _pool(x, out, rows, cols, _Reduce(_addf, 0.0, mean=True, per_window=per_window), name)


@register("graph.adaptive_avg_pool2d")
def lower_adaptive_avg_pool2d(
    op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str
) -> None:
    """PyTorch's adaptive mean: window o of `out` over `size` spans
    [floor(o * size / out), ceil((o + 1) * size / out)); windows divided by their own size."""
    (x,) = ins
    _, _, h, w = x.type.shape
    _, _, oh, ow = out.type.shape
    if (oh, ow) == (1, 1):
        _global_mean(x, out, name)
        return
    rows, cols = _Axis.adaptive_axis(h, oh), _Axis.adaptive_axis(w, ow)
    _pool(x, out, rows, cols, _Reduce(_addf, 0.0, mean=True, per_window=True), name)


# ---- numpy semantics ----


def _windows(
    x: np.ndarray, kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int]
) -> np.ndarray:
    """The windows of a padded NCHW array: N x C x OH x OW x KH x KW (a view)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilation
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    view = np.lib.stride_tricks.sliding_window_view(x, span, axis=(2, 3))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]


def _pad(x: np.ndarray, padding: Sequence[int], value: float) -> np.ndarray:
    top, left, bottom, right = padding
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _compute_type(x: np.ndarray) -> np.dtype:
    return np.promote_types(x.dtype, np.float32)


@reference("graph.max_pool2d")
def max_pool2d_reference(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    v = op.opview
    windows = _windows(_pad(x, v.padding, -np.inf), v.kernel, v.strides, v.dilation)
    return windows.max(axis=(4, 5))


@reference("graph.avg_pool2d")
def avg_pool2d_reference(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    v = op.opview
    padded = _pad(x.astype(_compute_type(x)), v.padding, 0.0)
    total = _windows(padded, v.kernel, v.strides, (1, 1)).sum(axis=(4, 5))
    if v.count_include_pad:
        count: np.ndarray | int = v.kernel[0] * v.kernel[1]
    else:
        ones = _pad(np.ones((1, 1, *x.shape[2:])), v.padding, 0.0)
        count = _windows(ones, v.kernel, v.strides, (1, 1)).sum(axis=(4, 5))
    return (total / count).astype(x.dtype)


@reference("graph.adaptive_avg_pool2d")
def adaptive_avg_pool2d_reference(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    oh, ow = op.results[0].type.shape[2:]
    h, w = x.shape[2:]
    out = np.empty((*x.shape[:2], oh, ow), dtype=x.dtype)
    for i in range(oh):
        r0, r1 = i * h // oh, -(-(i + 1) * h // oh)
        for j in range(ow):
            c0, c1 = j * w // ow, -(-(j + 1) * w // ow)
            window = x[:, :, r0:r1, c0:c1].astype(_compute_type(x))
            out[:, :, i, j] = window.mean(axis=(2, 3))
    return out
