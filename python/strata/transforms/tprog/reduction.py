"""decompose_reduction: move a reduction block's init into a block of its own (TensorIR)."""

from __future__ import annotations

from mlir import ir

from strata.dialects.tprog import BlockOp, IterType
from strata.irutil import erase
from strata.transforms.tprog import nest
from strata.transforms.tprog.expr import Expr
from strata.transforms.tprog.nest import Rebinding, ScheduleError


def bindings(blk) -> list[Expr]:
    exprs = [nest.binding_of(v) for v in blk.iter_values]
    if any(e is None for e in exprs):
        raise ScheduleError(
            f"block '{blk.block_name}': a binding is not an affine function of loops"
        )
    return exprs  # type: ignore[return-value]


def decompose_reduction(fn: ir.Operation, op: ir.Operation, target: ir.Operation) -> str:
    """Move the init of reduction block `op` into its own block `<name>_init`, placed before loop
    `target` under copies of the loops inside it that bind spatial variables; its name."""
    block, loop = op.opview.block_name, nest.loop_name(target)
    blk = op.opview
    if IterType.REDUCTION not in blk.iter_types:
        raise ScheduleError(f"decompose_reduction: block '{block}' has no reduction variable")
    if len(list(blk.init.operations)) <= 1:
        raise ScheduleError(f"decompose_reduction: block '{block}' has no init to move")
    chain = nest.enclosing_loops(op)
    names = [nest.loop_name(lp) for lp in chain]
    if str(loop) not in names:
        raise ScheduleError(f"decompose_reduction: loop '{loop}' does not enclose block '{block}'")
    position = names.index(str(loop))
    exprs = bindings(blk)
    outer = set(names[:position])
    spatial = [
        (k, e) for k, (e, t) in enumerate(zip(exprs, blk.iter_types)) if t == IterType.SPATIAL
    ]
    for e, t in zip(exprs, blk.iter_types):
        if t == IterType.REDUCTION and e.vars() & outer:
            raise ScheduleError(
                f"decompose_reduction: loop '{loop}' is inside a loop of a reduction "
                "variable of "
                f"block '{block}'; decompose at the outermost reduction loop"
            )
    used = set().union(*(e.vars() for _, e in spatial)) if spatial else set()
    inner_loops = [lp for lp in chain[position:] if nest.loop_name(lp) in used]
    init_name = f"{blk.block_name}_init"

    with Rebinding(fn) as rb, op.location:
        ip = ir.InsertionPoint(target)
        renamed: dict[str, Expr] = {}
        parent_loop = None
        for lp in inner_loops:
            new_name = f"{nest.loop_name(lp)}_init"
            renamed[nest.loop_name(lp)] = Expr.var(new_name)
            with ip:
                parent_loop = nest.make_loop(fn, new_name, nest.loop_extent(lp))
            ip = ir.InsertionPoint.at_block_terminator(parent_loop.regions[0].blocks[0])
        placeholder = nest.index_constant_at_entry(fn, 0)
        with ip:
            init = BlockOp(
                init_name,
                [placeholder] * len(spatial),
                [IterType.SPATIAL] * len(spatial),
                [blk.dom[k] for k, _ in spatial],
            )
        from strata.conversions.tprog_builder import terminate

        terminate(init.init)
        body = init.body
        old_init = blk.init
        for (k, _), arg in zip(spatial, body.arguments):
            old_init.arguments[k].replace_all_uses_with(arg)
        ops = [o.operation for o in old_init.operations]
        for o in ops[:-1]:
            body.append(o)
        terminate(body)
        rb.blocks.append((init.operation, [e.substitute(renamed) for _, e in spatial]))
    erase(placeholder.owner)
    return init_name
