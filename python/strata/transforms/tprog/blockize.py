"""blockize: wrap the loop nest rooted at a loop, with the one block inside it, into an outer
block (TensorIR's primitive), so that schedules and tensorization can treat the tile as a unit.

Each iteration variable v of the inner block, bound to `outer + inner` where `inner` uses only the
wrapped loops (ranging over [0, R)), gives the outer block a variable bound to `outer / R` when the
outer part is a multiple of R. The inner block keeps its bindings to the loops.
"""

from __future__ import annotations

from mlir import ir

from strata.conversions.tprog_builder import terminate
from strata.dialects.tprog import BlockOp
from strata.irutil import walk
from strata.transforms.tprog import nest
from strata.transforms.tprog.compute_at import linear
from strata.transforms.tprog.expr import Expr
from strata.transforms.tprog.nest import Rebinding, ScheduleError


def _expr(form: dict[str, int], divisor: int) -> Expr:
    expr = Expr.const(form.get("", 0) // divisor)
    for name, coef in sorted(form.items()):
        if name:
            expr = expr + Expr.var(name) * (coef // divisor)
    return expr


def blockize(fn: ir.Operation, loop: ir.Operation) -> str:
    what = "blockize"
    blocks = [op for op in walk(loop) if op.name == "tprog.block"]
    if len(blocks) != 1:
        raise ScheduleError(
            f"{what}: loop '{nest.loop_name(loop)}' must hold exactly one block, "
            f"found {len(blocks)}"
        )
    inner_block = blocks[0]
    view = inner_block.opview
    inner_loops = {nest.loop_name(lp) for lp in walk(loop) if nest.is_loop(lp)}
    extents = {nest.loop_name(lp): nest.loop_extent(lp) for lp in walk(fn) if nest.is_loop(lp)}
    outer_exprs, types, dom = [], [], []
    for k, value in enumerate(view.iter_values):
        expr = nest.binding_of(value)
        form = None if expr is None else linear(expr)
        if form is None:
            raise ScheduleError(f"{what}: a binding of block '{view.block_name}' is not linear")
        inner = {v: c for v, c in form.items() if v in inner_loops}
        outer = {v: c for v, c in form.items() if v not in inner_loops}
        if any(c < 0 for c in inner.values()):
            raise ScheduleError(
                f"{what}: a binding of block '{view.block_name}' decreases with a loop"
            )
        span = 1 + sum(c * (extents[v] - 1) for v, c in inner.items())
        if not any(v for v in outer):
            continue  # this variable lives entirely inside the new block
        if any(c % span for c in outer.values()):
            raise ScheduleError(
                f"{what}: iteration variable {k} of block '{view.block_name}' does not split into "
                f"an outer part and a tile of {span}"
            )
        outer_exprs.append(_expr(outer, span))
        types.append(view.iter_types[k])
        dom.append(-(-view.dom[k] // span))
    name = f"{view.block_name}_o"
    with Rebinding(fn) as rb, loop.location:
        placeholder = nest.index_constant_at_entry(fn, 0)
        with ir.InsertionPoint(loop):
            outer_block = BlockOp(name, [placeholder] * len(types), types, dom)
        terminate(outer_block.init)
        outer_block.body.append(loop)
        terminate(outer_block.body)
        rb.blocks.append((outer_block.operation, outer_exprs))
    if not list(placeholder.uses):
        placeholder.owner.erase()
    return name
