"""Loop primitives of schedules: split, reorder, fuse (on named, normalized loops)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlir import ir

from strata.dialects.tprog import LOOP_NAME
from strata.irutil import walk
from strata.transforms.tprog import nest
from strata.transforms.tprog.expr import Expr
from strata.transforms.tprog.nest import LOOP_KIND, Rebinding, ScheduleError


def _unique_names(fn: ir.Operation, base: str, n: int, exclude: str) -> list[str]:
    taken = {nest.loop_name(op) for op in walk(fn) if nest.is_loop(op)} - {exclude}
    start = 0
    while any(f"{base}_{start + k}" in taken for k in range(n)):
        start += n
    return [f"{base}_{start + k}" for k in range(n)]


def split(fn: ir.Operation, op: ir.Operation, factors: Sequence[int | None]) -> list[str]:
    """Split loop `op` into nested loops of the given extents (one may be None: inferred); the
    names of the new loops, outermost first."""
    loop = nest.loop_name(op)
    extent = nest.loop_extent(op)
    if len(factors) < 2:
        raise ScheduleError(f"split of loop '{loop}' needs at least 2 factors, got {len(factors)}")
    if sum(f is None for f in factors) > 1:
        raise ScheduleError(f"split of loop '{loop}': at most one factor may be None")
    if any(f is not None and int(f) < 1 for f in factors):
        raise ScheduleError(
            f"split of loop '{loop}': factors must be positive, got {list(factors)}"
        )
    known = math.prod(int(f) for f in factors if f is not None)
    sizes = [int(f) if f is not None else -(-extent // known) for f in factors]
    if math.prod(sizes) < extent:
        raise ScheduleError(
            f"split of loop '{loop}': factors {sizes} cover {math.prod(sizes)} "
            f"of {extent} iterations"
        )
    names = _unique_names(fn, loop, len(sizes), exclude=loop)
    with Rebinding(fn) as rb, op.location:
        # A parallel loop stays parallel outside; vectorized/unrolled stays on the inside.
        kind = nest.loop_kind(op)
        outer_kind = kind if kind == "parallel" else "serial"
        inner_kind = kind if kind in ("vectorized", "unrolled") else "serial"
        with ir.InsertionPoint(op):
            outer = nest.make_loop(fn, names[0], sizes[0], outer_kind)
        inner = outer
        for name, size in zip(names[1:], sizes[1:]):
            with ir.InsertionPoint.at_block_terminator(inner.regions[0].blocks[0]):
                inner = nest.make_loop(fn, name, size)
        if inner_kind != "serial":
            inner.attributes[LOOP_KIND] = ir.StringAttr.get(inner_kind)
        nest.move_body(op, inner)
        op.erase()
        expr = Expr.const(0)
        for name, stride in zip(names, [math.prod(sizes[k + 1 :]) for k in range(len(sizes))]):
            expr = expr + Expr.var(name) * stride
        rb.substitute({loop: expr})
    return names


def chain(ops: Sequence[ir.Operation], what: str) -> list[ir.Operation]:
    """The perfectly nested chain of loops from the outermost to the innermost of `ops`."""
    names = [nest.loop_name(o) for o in ops]
    if len(set(names)) != len(ops):
        raise ScheduleError(f"{what}: a loop is given twice")
    depth = {nest.loop_name(o): len(nest.enclosing_loops(o)) for o in ops}
    outer = min(ops, key=lambda o: depth[nest.loop_name(o)])
    inner = max(ops, key=lambda o: depth[nest.loop_name(o)])
    result = [inner]
    while nest.loop_name(result[0]) != nest.loop_name(outer):
        parent = result[0].parent
        if parent is None or not nest.is_loop(parent):
            raise ScheduleError(f"{what}: loops {', '.join(names)} are not nested in one another")
        result.insert(0, parent)
    for a in result[:-1]:
        if len(nest.body_ops(a)) != 1:
            raise ScheduleError(
                f"{what}: loop '{nest.loop_name(a)}' holds more than the next loop "
                "(not a perfect nest)"
            )
    in_chain = {nest.loop_name(c) for c in result}
    for name in names:
        if name not in in_chain:
            raise ScheduleError(f"{what}: loop '{name}' is not in the nest of the other loops")
    return result


def _relabel(fn: ir.Operation, op: ir.Operation, name: str, extent: int, kind: str) -> None:
    op.attributes[LOOP_NAME] = ir.StringAttr.get(name)
    op.operands[1] = nest.index_constant_at_entry(fn, extent)
    if kind == "serial":
        if LOOP_KIND in op.attributes:
            del op.attributes[LOOP_KIND]
    else:
        op.attributes[LOOP_KIND] = ir.StringAttr.get(kind)


def reorder(fn: ir.Operation, ops: Sequence[ir.Operation]) -> None:
    """Permute the loops `ops` (a perfect nest) into the given order, outermost first. Loop
    variables are used only by bindings, rebuilt by name, so relabeling the loops suffices."""
    loops = chain(ops, "reorder")
    order = [nest.loop_name(o) for o in ops]
    positions = [k for k, op in enumerate(loops) if nest.loop_name(op) in set(order)]
    specs = {nest.loop_name(op): (nest.loop_extent(op), nest.loop_kind(op)) for op in loops}
    with Rebinding(fn):
        for pos, name in zip(positions, order):
            _relabel(fn, loops[pos], name, *specs[name])


def fuse(fn: ir.Operation, ops: Sequence[ir.Operation]) -> str:
    """Fuse consecutive perfectly nested loops (outermost first) into one; its name."""
    names = [nest.loop_name(o) for o in ops]
    if len(ops) < 2:
        raise ScheduleError("fuse needs at least 2 loops")
    loops = chain(ops, "fuse")
    if [nest.loop_name(c) for c in loops] != names:
        raise ScheduleError(f"fuse: loops {', '.join(names)} must be consecutive, outermost first")
    extents = [nest.loop_extent(c) for c in loops]
    name = "_".join(names) + "_fused"
    kinds = {nest.loop_kind(c) for c in loops}
    kind = kinds.pop() if len(kinds) == 1 else "serial"  # a kind all fused loops share
    with Rebinding(fn) as rb, loops[0].location:
        with ir.InsertionPoint(loops[0]):
            fused = nest.make_loop(fn, name, math.prod(extents), kind)
        nest.move_body(loops[-1], fused)
        loops[0].erase()
        f = Expr.var(name)
        mapping = {}
        for k, loop in enumerate(names):
            e = f // math.prod(extents[k + 1 :])
            mapping[loop] = e % extents[k] if k else e
        rb.substitute(mapping)
    return name
