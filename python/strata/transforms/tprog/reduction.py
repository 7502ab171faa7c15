"""Reduction primitives (TensorIR): decompose_reduction moves a reduction block's init into a
block of its own; rfactor splits a reduction into partial results and a block combining them."""

from __future__ import annotations

from dataclasses import dataclass

from mlir import ir
from mlir.dialects import affine, arith, memref, scf

from strata.dialects.tprog import BlockOp, IterType
from strata.irutil import erase, walk
from strata.transforms.tprog import nest
from strata.transforms.tprog.expr import Expr
from strata.transforms.tprog.nest import LOOP_KIND, Rebinding, ScheduleError


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


# --- rfactor --------------------------------------------------------------------------------------

# Combining ops of reductions that rfactor can split into partials, and their identity.
_INF = float("inf")
COMBINERS: dict[str, float | int | str] = {
    "arith.addf": 0.0,
    "arith.addi": 0,
    "arith.mulf": 1.0,
    "arith.muli": 1,
    "arith.maximumf": -_INF,
    "arith.maxnumf": -_INF,
    "arith.minimumf": _INF,
    "arith.minnumf": _INF,
    "arith.maxsi": "smallest",
    "arith.minsi": "largest",
    "arith.maxui": 0,
    "arith.minui": -1,  # all ones
}


@dataclass
class Reduction:
    """A reduction block's body `out[s] = combine(out[s], value)`: the buffer, the load of the
    accumulator, the combining op, the store, and the value each iteration contributes."""

    out: ir.Value
    acc: ir.Operation
    combine: ir.Operation
    store: ir.Operation
    value: ir.Value


def identity(combine: ir.Operation) -> ir.Value:
    """The identity of `combine`'s operation, as a constant at the current insertion point."""
    element = combine.results[0].type
    value = COMBINERS[combine.name]
    if isinstance(element, ir.IntegerType):
        width = element.width
        if value == "smallest":
            value = -(2 ** (width - 1))
        elif value == "largest":
            value = 2 ** (width - 1) - 1
        return arith.ConstantOp(element, ir.IntegerAttr.get(element, int(value))).result
    return arith.ConstantOp(element, ir.FloatAttr.get(element, float(value))).result


def match_reduction(op: ir.Operation, what: str) -> Reduction:
    """The parts of reduction block `op`, or a ScheduleError saying what does not match
    `out[s] = combine(out[s], value)` (s: the spatial variables in order, combine: add, mul, max
    or min)."""
    blk = op.opview
    name = blk.block_name
    if IterType.REDUCTION not in blk.iter_types:
        raise ScheduleError(f"{what}: block '{name}' has no reduction variable")
    writes = blk.writes
    if len(writes) != 1:
        raise ScheduleError(f"{what}: block '{name}' must write exactly one buffer")
    out = writes[0]
    spatial = [k for k, t in enumerate(blk.iter_types) if t == IterType.SPATIAL]

    def at_spatial(access: ir.Operation, first: int) -> bool:
        args = list(access.block.arguments)
        return bool(args) and list(access.operands)[first:] == [args[k] for k in spatial]

    body = [o.operation for o in blk.body.operations][:-1]
    stores = [o for o in walk(op) if o.name == "memref.store"]
    body_stores = [o for o in stores if o.block == blk.body]
    loads = [o for o in walk(op) if o.name == "memref.load" and o.operands[0] == out]
    form = f"out[spatial variables] = combine(out[...], value) with combine one of {_names()}"
    if (
        len(body_stores) != 1
        or not body
        or body[-1] != body_stores[0]
        or not at_spatial(body_stores[0], 2)
        or any(not at_spatial(s, 2) for s in stores)
    ):
        raise ScheduleError(f"{what}: block '{name}' is not of the form {form}")
    store = body_stores[0]
    combine = store.operands[0].owner
    if isinstance(combine, ir.Block) or combine.operation.name not in COMBINERS:
        found = "an argument" if isinstance(combine, ir.Block) else f"'{combine.operation.name}'"
        raise ScheduleError(
            f"{what}: block '{name}' stores the result of {found}, not of a combining op ({form})"
        )
    combine = combine.operation
    body_loads = [o for o in loads if o.block == blk.body]
    if len(loads) != 1 or len(body_loads) != 1 or not at_spatial(body_loads[0], 1):
        raise ScheduleError(f"{what}: block '{name}' must read its accumulator once: {form}")
    acc = body_loads[0]
    operands = list(combine.operands)
    if acc.results[0] not in operands or operands[0] == operands[1]:
        raise ScheduleError(f"{what}: block '{name}' does not combine its accumulator ({form})")
    if len(list(acc.results[0].uses)) != 1 or len(list(combine.results[0].uses)) != 1:
        raise ScheduleError(
            f"{what}: block '{name}' uses its accumulator or the combined value twice ({form})"
        )
    value = operands[1] if operands[0] == acc.results[0] else operands[0]
    reduction_args = [
        region.arguments[k]
        for region in (blk.init,)
        for k, t in enumerate(blk.iter_types)
        if t == IterType.REDUCTION
    ]
    if any(list(a.uses) for a in reduction_args):
        raise ScheduleError(f"{what}: the init of block '{name}' uses a reduction variable")
    return Reduction(out, acc, combine, store, value)


def _names() -> str:
    return ", ".join(sorted({n.split(".")[1] for n in COMBINERS}))


def rfactor(fn: ir.Operation, op: ir.Operation, target: ir.Operation) -> str:
    """TensorIR's rfactor: split reduction block `op` over loop `target` into partial results,
    one per iteration of `target` (a new buffer `<buffer>[spatial..., extent]`), computed by a
    new block `<name>_rf` where the block was (`target` now binds a spatial variable of it), and
    a combining block (keeping the name) reducing the partials in a nest of its own after the
    block's reduction loops; the name of the rf block.

    The rf block's iteration variables: the block's spatial ones, the partial's index (bound to
    `target`) and one reduction variable per other loop of the reduction. Its body recomputes
    the original reduction indices from them; where a split leaves a tail, the body contributes
    the identity outside the original domain (a guard inside the body, so that the partials'
    init runs for every partial). The partials start at the combining op's identity; the
    combining block keeps the block's init. A `vectorized` hint on `target` is dropped when loops
    remain inside it (it iterates partials now, not the innermost elements)."""
    what = "rfactor"
    red = match_reduction(op, what)
    blk = op.opview
    name, loop = blk.block_name, nest.loop_name(target)
    chain = nest.enclosing_loops(op)
    names = [nest.loop_name(lp) for lp in chain]
    if loop not in names:
        raise ScheduleError(f"{what}: loop '{loop}' does not enclose block '{name}'")
    exprs = bindings(blk)
    types = blk.iter_types
    spatial = [k for k, t in enumerate(types) if t == IterType.SPATIAL]
    reductions = [k for k, t in enumerate(types) if t == IterType.REDUCTION]
    reduced: set[str] = set().union(*(exprs[k].vars() for k in reductions))
    used: set[str] = set().union(*(exprs[k].vars() for k in spatial)) if spatial else set()
    if loop not in reduced:
        raise ScheduleError(
            f"{what}: loop '{loop}' carries no reduction variable of block '{name}'"
        )
    both = sorted(reduced & used)
    if both:
        raise ScheduleError(
            f"{what}: loop '{both[0]}' binds both spatial and reduction variables of block '{name}'"
        )
    others = [lp for lp in chain if nest.loop_name(lp) in reduced and lp != target]
    extents = {n: nest.loop_extent(lp) for n, lp in zip(names, chain)}
    factor = extents[loop]
    outer = next(i for i, n in enumerate(names) if n in reduced)
    mirrored = [lp for lp in chain[outer:] if nest.loop_name(lp) in used]
    element = red.store.operands[0].type
    combiner = (red.combine.name, dict(_attributes(red.combine)))
    acc_first = red.combine.operands[0] == red.acc.results[0]
    dom = blk.dom
    rf_name = f"{name}_rf"

    with Rebinding(fn) as rb, op.location:
        entry = fn.regions[0].blocks[0]
        with ir.InsertionPoint.at_block_begin(entry):
            shape = [dom[k] for k in spatial] + [factor]
            partials = memref.AllocOp(ir.MemRefType.get(shape, element), [], []).result
        placeholder = nest.index_constant_at_entry(fn, 0)
        # the rf block, where the block is
        kinds = [IterType.SPATIAL] * (len(spatial) + 1) + [IterType.REDUCTION] * len(others)
        with ir.InsertionPoint(op):
            rf = BlockOp(
                rf_name,
                [placeholder] * len(kinds),
                kinds,
                [dom[k] for k in spatial] + [factor] + [extents[nest.loop_name(o)] for o in others],
            )
        rf_args = list(rf.body.arguments)
        positions = {loop: rf_args[len(spatial)]}
        for o, a in zip(others, rf_args[len(spatial) + 1 :]):
            positions[nest.loop_name(o)] = a
        _build_rf_body(blk, red, rf, exprs, reductions, spatial, positions, extents, partials)
        if others:
            init_args = list(rf.init.arguments)
            with ir.InsertionPoint(rf.init):
                memref.StoreOp(identity(red.combine), partials, init_args[: len(spatial) + 1])
        from strata.conversions.tprog_builder import terminate

        terminate(rf.init)
        # the combining block, in a nest of its own after the reduction loops
        ip = _after(chain[outer])
        renamed: dict[str, Expr] = {}
        for lp in mirrored:
            new = _unique(fn, f"{nest.loop_name(lp)}_c")
            renamed[nest.loop_name(lp)] = Expr.var(new)
            with ip:
                made = nest.make_loop(fn, new, nest.loop_extent(lp))
            ip = ir.InsertionPoint.at_block_terminator(made.regions[0].blocks[0])
        combine_loop = _unique(fn, f"{loop}_c")
        with ip:
            made = nest.make_loop(fn, combine_loop, factor)
        with ir.InsertionPoint.at_block_terminator(made.regions[0].blocks[0]):
            combined = BlockOp(
                name,
                [placeholder] * (len(spatial) + 1),
                [IterType.SPATIAL] * len(spatial) + [IterType.REDUCTION],
                [dom[k] for k in spatial] + [factor],
            )
        new_args = list(combined.init.arguments)
        for k, arg in zip(spatial, new_args):
            blk.init.arguments[k].replace_all_uses_with(arg)
        for o in [o.operation for o in blk.init.operations]:
            combined.init.append(o)
        body_args = list(combined.body.arguments)
        with ir.InsertionPoint(combined.body):
            acc = memref.LoadOp(red.out, body_args[: len(spatial)]).result
            part = memref.LoadOp(partials, body_args).result
            merged = ir.Operation.create(
                combiner[0],
                results=[element],
                operands=[acc, part] if acc_first else [part, acc],
                attributes=combiner[1],
            )
            memref.StoreOp(merged.results[0], red.out, body_args[: len(spatial)])
        terminate(combined.body)
        rf_exprs = [exprs[k] for k in spatial] + [Expr.var(loop)]
        rf_exprs += [Expr.var(nest.loop_name(o)) for o in others]
        wb_exprs = [exprs[k].substitute(renamed) for k in spatial] + [Expr.var(combine_loop)]
        rb.blocks = [(b, e) for b, e in rb.blocks if b != op]
        rb.blocks += [(rf.operation, rf_exprs), (combined.operation, wb_exprs)]
        op.erase()
    erase(placeholder.owner)
    if nest.loop_kind(target) == "vectorized" and any(
        nest.is_loop(o) for o in nest.body_ops(target)
    ):  # a hint for the reduction's innermost loop; `target` now iterates partials outside it
        del target.attributes[LOOP_KIND]
    return rf_name


def _build_rf_body(
    blk,
    red: Reduction,
    rf: BlockOp,
    exprs: list[Expr],
    reductions: list[int],
    spatial: list[int],
    positions: dict[str, ir.Value],
    extents: dict[str, int],
    partials: ir.Value,
) -> None:
    """Move the reduction's body into the rf block: the original reduction indices recomputed
    from the rf block's variables, the accumulator in the partials, and, where the loops can
    leave the original domain, the value taken only inside it (the identity elsewhere)."""
    from strata.conversions.tprog_builder import terminate

    body = rf.body
    args = list(body.arguments)
    terminate(body)
    end = [o.operation for o in body.operations][-1]
    guards: list[ir.Value] = []
    with ir.InsertionPoint(end):
        for k in reductions:
            index_value = _index_value(exprs[k], positions)
            blk.body.arguments[k].replace_all_uses_with(index_value)
            if exprs[k].bounds(extents)[1] >= blk.dom[k]:
                bound = arith.ConstantOp(ir.IndexType.get(), blk.dom[k]).result
                guards.append(arith.CmpIOp(arith.CmpIPredicate.ult, index_value, bound).result)
    for k, arg in zip(spatial, args):
        blk.body.arguments[k].replace_all_uses_with(arg)
    original = [o.operation for o in blk.body.operations][:-1]
    for o in original:
        o.move_before(end)
    index = args[: len(spatial) + 1]
    accumulates = len(args) > len(spatial) + 1  # the rf block still reduces (other loops)
    value = red.value
    if guards:
        moved = [o for o in original if o not in (red.acc, red.combine, red.store)]
        with ir.InsertionPoint(red.combine), red.combine.location:
            cond = guards[0]
            for g in guards[1:]:
                cond = arith.AndIOp(cond, g).result
            branch = scf.IfOp(cond, [value.type], has_else=True)
            with ir.InsertionPoint(branch.then_block):
                then_end = scf.YieldOp([value]).operation
            with ir.InsertionPoint(branch.else_block):
                scf.YieldOp([identity(red.combine)])
        for o in moved:
            o.move_before(then_end)
        red.combine.operands[list(red.combine.operands).index(value)] = branch.results[0]
        value = branch.results[0]
    if accumulates:
        with ir.InsertionPoint(red.combine), red.combine.location:
            acc = memref.LoadOp(partials, index).result
        red.acc.results[0].replace_all_uses_with(acc)
    with ir.InsertionPoint(red.store), red.store.location:
        if accumulates:
            memref.StoreOp(red.combine.results[0], partials, index)
        else:  # one value per partial: stored as it is
            memref.StoreOp(value, partials, index)
    red.store.erase()
    if not accumulates:
        red.combine.erase()
    red.acc.erase()


def _attributes(op: ir.Operation) -> dict[str, ir.Attribute]:
    return {name: op.attributes[name] for name in op.attributes}


def _index_value(expr: Expr, positions: dict[str, ir.Value]) -> ir.Value:
    if expr.op == "var":
        return positions[expr.args[0]]
    if expr.op == "const":
        return arith.ConstantOp(ir.IndexType.get(), expr.args[0]).result
    names = sorted(expr.vars())
    amap = ir.AffineMap.get(len(names), 0, [expr.to_affine({n: k for k, n in enumerate(names)})])
    return affine.AffineApplyOp(amap, [positions[n] for n in names]).result


def _after(op: ir.Operation) -> ir.InsertionPoint:
    ops = [o.operation for o in op.block.operations]
    return ir.InsertionPoint(ops[ops.index(op) + 1])


def _unique(fn: ir.Operation, base: str) -> str:
    from strata.transforms.tprog.compute_at import _unique as unique

    return unique(fn, base)
