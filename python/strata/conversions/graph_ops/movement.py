"""graph.slice, graph.concat, graph.broadcast_to and graph.gather: copy blocks over the output
(concat: one over each operand), reading the input at the index each op's semantics gives."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, memref

from strata.conversions.graph_ops import broadcast_index, reference, register
from strata.conversions.tprog_builder import emit_block
from strata.dialects.tprog import IterType
from strata.irutil import index_constant


def _copy(
    name: str, shape: Sequence[int], store: Callable[[list[ir.Value]], None], prefix: str = "i"
) -> None:
    """A spatial block over `shape` (loops `<prefix><d>`) whose body is `store(indices)`."""
    emit_block(
        name,
        [f"{prefix}{d}" for d in range(len(shape))],
        list(shape),
        [IterType.SPATIAL] * len(shape),
        store,
    )


def _affine(value: ir.Value, coef: int, const: int) -> ir.Value:
    if coef != 1:
        value = arith.MulIOp(value, index_constant(coef)).result
    return value if const == 0 else arith.AddIOp(value, index_constant(const)).result


@register("graph.slice")
def lower_slice(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    """out[i] = x[offsets + i * strides]."""
    (x,) = ins
    view = op.opview
    offsets, strides = view.offsets, view.strides

    def store(v: list[ir.Value]) -> None:
        at = [_affine(i, st, o) for i, o, st in zip(v, offsets, strides)]
        memref.StoreOp(memref.LoadOp(x, at).result, out, v)

    _copy(name, out.type.shape, store)


@register("graph.concat")
def lower_concat(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    """lhs into the leading part of `out` along the axis, rhs after it: two copy blocks."""
    lhs, rhs = ins
    rank = len(out.type.shape)
    axis = op.opview.axis % rank
    split = lhs.type.shape[axis]

    def copy_from(src: ir.Value, start: int) -> Callable[[list[ir.Value]], None]:
        def store(v: list[ir.Value]) -> None:
            at = [_affine(i, 1, start) if d == axis else i for d, i in enumerate(v)]
            memref.StoreOp(memref.LoadOp(src, v).result, out, at)

        return store

    _copy(f"{name}_lhs", lhs.type.shape, copy_from(lhs, 0))
    _copy(f"{name}_rhs", rhs.type.shape, copy_from(rhs, split))


@register("graph.broadcast_to")
def lower_broadcast_to(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    """numpy.broadcast_to: size-1 (and missing leading) input dimensions read index 0."""
    (x,) = ins

    def store(v: list[ir.Value]) -> None:
        memref.StoreOp(memref.LoadOp(x, broadcast_index(x.type.shape, v)).result, out, v)

    _copy(name, out.type.shape, store)


@register("graph.gather")
def lower_gather(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    """numpy.take(x, indices, axis): out[pre, j, post] = x[pre, indices[j], post]. A block over
    the indices first turns each into a position (a negative index counts from the end; one
    still outside the axis is clamped into it, as compiled code cannot raise: the result is
    unspecified but memory stays safe) in a local buffer, which the copy block reads: loads from
    a local buffer cannot alias the output, so LLVM hoists them out of the copy loops."""
    x, indices = ins
    axis = op.opview.axis % len(x.type.shape)
    size = x.type.shape[axis]
    index_shape = list(indices.type.shape)
    k = len(index_shape)
    positions = memref.AllocOp(ir.MemRefType.get(index_shape, ir.IndexType.get()), [], []).result

    def position(v: list[ir.Value]) -> None:
        i = arith.IndexCastOp(ir.IndexType.get(), memref.LoadOp(indices, v).result).result
        zero = index_constant(0)
        negative = arith.CmpIOp(arith.CmpIPredicate.slt, i, zero).result
        i = arith.SelectOp(negative, arith.AddIOp(i, index_constant(size)).result, i).result
        i = arith.MinSIOp(arith.MaxSIOp(i, zero).result, index_constant(size - 1)).result
        memref.StoreOp(i, positions, v)

    def store(v: list[ir.Value]) -> None:
        at = [*v[:axis], memref.LoadOp(positions, v[axis : axis + k]).result, *v[axis + k :]]
        memref.StoreOp(memref.LoadOp(x, at).result, out, v)

    _copy(f"{name}_positions", index_shape, position, prefix="j")
    _copy(name, out.type.shape, store)


# ---- numpy semantics ----


@reference("graph.slice")
def slice_reference(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    v = op.opview
    window = tuple(
        slice(o, o + (n - 1) * st + 1, st) for o, n, st in zip(v.offsets, v.sizes, v.strides)
    )
    return x[window].copy()


@reference("graph.concat")
def concat_reference(op: ir.Operation, lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    return np.concatenate([lhs, rhs], axis=op.opview.axis)


@reference("graph.broadcast_to")
def broadcast_to_reference(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    return np.broadcast_to(x, list(op.results[0].type.shape)).copy()


@reference("graph.gather")
def gather_reference(op: ir.Operation, x: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """numpy.take: raises IndexError for an index outside [-size, size)."""
    return np.take(x, indices, axis=op.opview.axis)
