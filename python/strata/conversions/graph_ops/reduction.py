"""graph.reduce_sum, graph.reduce_mean and graph.reduce_max: one reduction block over the input.

The input is first viewed (`memref.collapse_shape`) as alternating groups of adjacent kept and
reduced dimensions, size-1 dimensions folded into a neighbour, so that a (2, 3) reduction of
NCHW is one loop over H*W; the output is viewed as the kept groups. Loop order keeps the
innermost loop on contiguous memory: when the last group is reduced it is the innermost loop, a
reassociable reduction marked `vectorized` (as softmax's); when the last group is kept it stays
innermost (independent lanes) and the reductions run just outside it. The init region sets the
accumulator to the identity. A mean divides the sum by the count afterwards (as PyTorch does);
f16/bf16 sums accumulate in an f32 buffer, rounded into the output at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from mlir import ir
from mlir.dialects import arith, memref

from strata.conversions.graph_ops import mathfn, reference, register
from strata.conversions.graph_ops.normalization import REASSOC
from strata.conversions.tprog_builder import emit_block
from strata.dialects.tprog import IterType
from strata.irutil import float_constant
from strata.transforms.tprog.nest import LOOP_KIND

S, R = IterType.SPATIAL, IterType.REDUCTION


@dataclass(frozen=True)
class _Group:
    """Adjacent input dimensions iterated as one loop."""

    dims: tuple[int, ...]
    extent: int
    reduced: bool

    @property
    def loop_name(self) -> str:
        return f"{'r' if self.reduced else 'i'}{self.dims[0]}"


def _runs(shape: Sequence[int], reduced: set[int]) -> tuple[list[list[int]], list[bool]]:
    """Input dimensions split into runs of one kind (reduced or not); a size-1 dimension joins
    the run before it (or, at the start, the run after it) whatever its kind. All size 1: no
    run. Returns the runs and whether each is reduced."""
    runs: list[list[int]] = []
    kinds: list[bool] = []
    pending: list[int] = []
    for d, n in enumerate(shape):
        if n == 1:
            (runs[-1] if runs else pending).append(d)
        elif runs and kinds[-1] == (d in reduced):
            runs[-1].append(d)
        else:
            runs.append([*pending, d])
            kinds.append(d in reduced)
            pending = []
    return runs, kinds


def _reassociation(groups: Sequence[Sequence[int]]) -> ir.ArrayAttr:
    i64 = ir.IntegerType.get_signless(64)
    return ir.ArrayAttr.get(
        [ir.ArrayAttr.get([ir.IntegerAttr.get(i64, d) for d in g]) for g in groups]
    )


def _view(buffer: ir.Value, groups: Sequence[Sequence[int]]) -> ir.Value:
    """`buffer` collapsed along `groups` (itself when nothing is merged)."""
    shape = list(buffer.type.shape)
    if len(groups) == len(shape):
        return buffer
    collapsed = [math.prod(shape[d] for d in g) for g in groups]
    result = ir.MemRefType.get(collapsed, buffer.type.element_type)
    return memref.collapse_shape(result, buffer, _reassociation(groups))


def _out_groups(
    runs: Sequence[Sequence[int]], kept_runs: Sequence[int], out_dims: Sequence[int]
) -> list[list[int]]:
    """Output dimensions (given as the input dimension each one is) grouped like the kept runs:
    a dimension outside them (a size-1 reduced one kept by keepdim) joins the previous group."""
    run_of = {d: i for i, run in enumerate(runs) for d in run}
    groups: list[list[int]] = [[] for _ in kept_runs]
    position = {r: i for i, r in enumerate(kept_runs)}
    current, leading = -1, list[int]()
    for o, d in enumerate(out_dims):
        run = run_of.get(d)
        if run in position:
            current = position[run]
            groups[current].extend([*leading, o])
            leading = []
        elif current >= 0:
            groups[current].append(o)
        else:
            leading.append(o)
    return groups


def _plan(op: ir.Operation, x: ir.Value, out: ir.Value) -> tuple[ir.Value, ir.Value, list[_Group]]:
    """The input and output views and the loop groups, in input order."""
    shape = list(x.type.shape)
    axes = {a % len(shape) for a in op.opview.axes} if shape else set()
    runs, kinds = _runs(shape, axes)
    groups = [_Group(tuple(r), math.prod(shape[d] for d in r), k) for r, k in zip(runs, kinds)]
    kept_runs = [i for i, g in enumerate(groups) if not g.reduced]
    if op.opview.keepdim:
        out_dims = list(range(len(shape)))
    else:
        out_dims = [d for d in range(len(shape)) if d not in axes]
    out_groups = _out_groups(runs, kept_runs, out_dims)
    return _view(x, runs), _view(out, out_groups), groups


@dataclass(frozen=True)
class _Kind:
    identity: float
    combine: Callable[[ir.Value, ir.Value], ir.Value]
    mean: bool = False


_KINDS = {
    "graph.reduce_sum": _Kind(0.0, lambda a, b: arith.AddFOp(a, b, fastmath=REASSOC()).result),
    "graph.reduce_mean": _Kind(
        0.0, lambda a, b: arith.AddFOp(a, b, fastmath=REASSOC()).result, mean=True
    ),
    # NaN-propagating, like torch.amax.
    "graph.reduce_max": _Kind(
        -math.inf, lambda a, b: arith.MaximumFOp(a, b, fastmath=REASSOC()).result
    ),
}


def _loop_order(groups: Sequence[_Group]) -> list[int]:
    kept = [i for i, g in enumerate(groups) if not g.reduced]
    reduced = [i for i, g in enumerate(groups) if g.reduced]
    if groups and not groups[-1].reduced and reduced:
        return kept[:-1] + reduced + kept[-1:]
    return kept + reduced


@register(*_KINDS)
def lower_reduce(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    (x,) = ins
    kind = _KINDS[op.name]
    element = out.type.element_type
    xv, outv, groups = _plan(op, x, out)
    kept = [i for i, g in enumerate(groups) if not g.reduced]
    # f16/bf16 sums accumulate in f32 (a maximum is exact in any type).
    widen = kind.identity == 0.0 and str(element) != "f32"
    acc = outv
    if widen:
        acc = memref.AllocOp(ir.MemRefType.get(outv.type.shape, ir.F32Type.get()), [], []).result
    acc_type = acc.type.element_type
    order = _loop_order(groups)

    def in_group_order(build: Callable[[list[ir.Value]], None]) -> Callable[[list[ir.Value]], None]:
        def run(v: list[ir.Value]) -> None:
            by_group = dict(zip(order, v))
            build([by_group[i] for i in range(len(groups))])

        return run

    def load(v: list[ir.Value]) -> ir.Value:
        value = memref.LoadOp(xv, v).result
        return mathfn.widen(value) if widen else value

    def init(v: list[ir.Value]) -> None:
        memref.StoreOp(float_constant(acc_type, kind.identity), acc, [v[i] for i in kept])

    def body(v: list[ir.Value]) -> None:
        index = [v[i] for i in kept]
        current = memref.LoadOp(acc, index).result
        memref.StoreOp(kind.combine(current, load(v)), acc, index)

    loops = [groups[i].loop_name for i in order]
    extents = [groups[i].extent for i in order]
    if not any(g.reduced for g in groups):
        # Nothing to reduce (no axes, or only size-1 ones): a copy.
        emit_block(
            name, loops, extents, [S] * len(order), lambda v: memref.StoreOp(load(v), acc, v)
        )
    else:
        types = [R if groups[i].reduced else S for i in order]
        block = emit_block(name, loops, extents, types, in_group_order(body), in_group_order(init))
        if groups[order[-1]].reduced:
            # The accumulation reassociates (REASSOC): LLVM may vectorize the innermost loop.
            block.operation.parent.attributes[LOOP_KIND] = ir.StringAttr.get("vectorized")
    axes = {a % len(x.type.shape) for a in op.opview.axes}
    count = math.prod(x.type.shape[d] for d in axes) if kind.mean else 1
    if count != 1 or widen:
        _finish(f"{name}_{'div' if kind.mean else 'round'}", acc, outv, count)


def _finish(name: str, acc: ir.Value, out: ir.Value, count: int) -> None:
    """out = acc / count, rounded to out's element type (in place when acc is out)."""
    shape = list(out.type.shape)
    element = out.type.element_type

    def body(v: list[ir.Value]) -> None:
        value = memref.LoadOp(acc, v).result
        if count != 1:
            value = arith.DivFOp(value, float_constant(value.type, float(count))).result
        memref.StoreOp(mathfn.narrow(value, element), out, v)

    emit_block(name, [f"i{d}" for d in range(len(shape))], shape, [S] * len(shape), body)


# ---- numpy semantics ----


def _axes(op: ir.Operation, x: np.ndarray) -> tuple[int, ...]:
    return tuple(a % x.ndim for a in op.opview.axes)


@reference("graph.reduce_sum", "graph.reduce_mean")
def sum_mean_reference(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    """torch.sum / torch.mean over `axes` (none: the input itself), accumulated in float64."""
    fn = np.mean if op.name == "graph.reduce_mean" else np.sum
    result = fn(x.astype(np.float64), axis=_axes(op, x), keepdims=op.opview.keepdim)
    return np.asarray(result).astype(x.dtype)


@reference("graph.reduce_max")
def max_reference(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    """torch.amax over `axes`; NaN propagates."""
    return np.asarray(np.max(x, axis=_axes(op, x), keepdims=op.opview.keepdim))
