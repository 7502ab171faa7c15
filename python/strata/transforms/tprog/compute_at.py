"""compute_at and reverse_compute_at: move a producer (consumer) block under a loop of its
consumer (producer), computing only the region one iteration of that loop needs (TensorIR).

Regions come from the accesses' bindings, which must be linear in the loops (`floordiv`/`mod`
are refused): loops outside and at the target loop are fixed, loops inside it sweep their range.
"""

from __future__ import annotations

from mlir import ir

from strata.dialects.tprog import IterType
from strata.irutil import walk
from strata.transforms.tprog import nest
from strata.transforms.tprog.expr import Expr
from strata.transforms.tprog.nest import Rebinding, ScheduleError

Linear = dict[str, int]  # loop name -> coefficient; "" -> constant


def linear(expr: Expr) -> Linear | None:
    if expr.op == "var":
        return {expr.args[0]: 1}
    if expr.op == "const":
        return {"": expr.args[0]}
    if expr.op == "add":
        a, b = linear(expr.args[0]), linear(expr.args[1])
        if a is None or b is None:
            return None
        out = dict(a)
        for k, v in b.items():
            out[k] = out.get(k, 0) + v
        return out
    if expr.op == "mul":
        a = linear(expr.args[0])
        return None if a is None else {k: v * expr.args[1] for k, v in a.items()}
    return None


def _name(block: ir.Operation) -> str:
    return ir.StringAttr(block.attributes["name"]).value


def _region(
    accesses: list[list[Expr]], fixed: set[str], extents: dict[str, int], what: str
) -> list[tuple[Linear, int, int]]:
    """Per dimension: the fixed linear part (without constant) and the [lo, hi] constants of the
    union of `accesses` when the loops not in `fixed` sweep their range."""
    dims: list[tuple[Linear, int, int]] = []
    for d in range(len(accesses[0])):
        parts = []
        for access in accesses:
            form = linear(access[d])
            if form is None:
                raise ScheduleError(f"{what}: index {access[d]} is not linear in the loops")
            base = {k: v for k, v in form.items() if k in fixed}
            lo = hi = form.get("", 0)
            for var, coef in form.items():
                if var and var not in fixed:
                    span = coef * (extents[var] - 1)
                    lo, hi = lo + min(0, span), hi + max(0, span)
            parts.append((base, lo, hi))
        if any(p[0] != parts[0][0] for p in parts):
            raise ScheduleError(
                f"{what}: the accesses of dimension {d} move differently with the loops"
            )
        dims.append((parts[0][0], min(p[1] for p in parts), max(p[2] for p in parts)))
    return dims


def _expr(form: Linear, offset: int, var: str) -> Expr:
    expr = Expr.var(var) + offset
    for name, coef in sorted(form.items()):
        if name:
            expr = expr + Expr.var(name) * coef
    return expr


def _access_exprs(block: ir.Operation, op: ir.Operation, first_index: int) -> list[Expr]:
    """The indices of `op` (from operand `first_index`) as expressions over loops."""
    args = list(block.regions[1].blocks[0].arguments) + list(block.regions[0].blocks[0].arguments)
    bindings = [nest.binding_of(v) for v in block.operands]
    exprs = []
    for index in list(op.operands)[first_index:]:
        if index not in args:
            raise ScheduleError(f"block '{_name(block)}' indexes a buffer with a computed value")
        position = args.index(index) % len(bindings)
        expr = bindings[position]
        if expr is None:
            raise ScheduleError(f"block '{_name(block)}' has a binding that is not affine")
        exprs.append(expr)
    return exprs


def _identity_store(block: ir.Operation, what: str) -> tuple[ir.Operation, list[int]]:
    """The block's last store, after checking every store writes one buffer at the block's
    spatial variables in order; and the positions of those variables."""
    view = block.opview
    stores = [op for op in walk(block) if op.name == "memref.store"]
    if not stores or len({s.operands[1] for s in stores}) != 1:
        raise ScheduleError(f"{what}: block '{_name(block)}' must write exactly one buffer")
    spatial = [k for k, t in enumerate(view.iter_types) if t == IterType.SPATIAL]
    for store in stores:
        args = list(store.block.arguments)
        if list(store.operands)[2:] != [args[k] for k in spatial]:
            raise ScheduleError(
                f"{what}: block '{_name(block)}' must store at its spatial variables in order"
            )
    return stores[-1], spatial


def _sole_nest(block: ir.Operation, what: str) -> ir.Operation | None:
    """The outermost loop holding only `block` (None: the block is in no loop)."""
    top = None
    current = block
    while current.parent is not None and nest.is_loop(current.parent):
        others = [
            o for o in nest.body_ops(current.parent) if o.name != "affine.apply" and o != current
        ]
        if others:
            break
        top = current = current.parent
    if top is None and block.parent is not None and nest.is_loop(block.parent):
        raise ScheduleError(f"{what}: block '{_name(block)}' shares its loops with other ops")
    return top


def _move(
    fn: ir.Operation,
    block: ir.Operation,
    loop: ir.Operation,
    new_exprs: list[Expr],
    loops: list[tuple[str, int]],
    at_end: bool,
    what: str,
) -> None:
    old_nest = _sole_nest(block, what)
    with Rebinding(fn) as rb:
        body = loop.regions[0].blocks[0]
        first = [o.operation for o in body.operations][0]
        terminator = [o.operation for o in body.operations][-1]
        ip = ir.InsertionPoint(terminator) if at_end else ir.InsertionPoint(first)
        inner = None
        for name, extent in loops:
            with ip, block.location:
                inner = nest.make_loop(fn, name, extent)
            ip = ir.InsertionPoint.at_block_terminator(inner.regions[0].blocks[0])
        anchor = (
            [o.operation for o in inner.regions[0].blocks[0].operations][-1]
            if inner
            else (terminator if at_end else first)
        )
        block.move_before(anchor)
        if old_nest is not None:
            old_nest.erase()
        rb.blocks = [(b, new_exprs if b == block else e) for b, e in rb.blocks]


def _unique(fn: ir.Operation, base: str) -> str:
    taken = {nest.loop_name(op) for op in walk(fn) if nest.is_loop(op)}
    name, n = base, 0
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def compute_at(fn: ir.Operation, block: ir.Operation, loop: ir.Operation) -> None:
    what = "compute_at"
    store, spatial = _identity_store(block, what)
    buffer = store.operands[1]
    readers = [
        op
        for op in walk(fn)
        if op.name == "memref.load"
        and op.operands[0] == buffer
        and op.parent is not None
        and op.parent.name == "tprog.block"
        and op.parent != block
    ]
    check_readers_under(block, loop, readers, what)
    fixed = {nest.loop_name(lp) for lp in [*nest.enclosing_loops(loop), loop]}
    extents = {nest.loop_name(lp): nest.loop_extent(lp) for lp in walk(fn) if nest.is_loop(lp)}
    accesses = [_access_exprs(r.parent, r, 1) for r in readers]
    region = _region(accesses, fixed, extents, what)
    view = block.opview
    new_exprs: list[Expr] = [Expr.const(0)] * len(view.iter_types)
    loops = []
    for d, k in enumerate(spatial):
        form, lo, hi = region[d]
        name = _unique(fn, f"{view.block_name}_ax{d}")
        loops.append((name, hi - lo + 1))
        new_exprs[k] = _expr(form, lo, name)
    for k, t in enumerate(view.iter_types):
        if t == IterType.REDUCTION:
            name = _unique(fn, f"{view.block_name}_r{k}")
            loops.append((name, view.dom[k]))
            new_exprs[k] = Expr.var(name)
    _move(fn, block, loop, new_exprs, loops, at_end=False, what=what)


def reverse_compute_at(fn: ir.Operation, block: ir.Operation, loop: ir.Operation) -> None:
    what = "reverse_compute_at"
    view = block.opview
    if IterType.REDUCTION in view.iter_types:
        raise ScheduleError(f"{what}: block '{_name(block)}' is a reduction")
    args = list(view.body.arguments)
    producers = []
    for op in walk(block):
        if op.name != "memref.load":
            continue
        writers = [
            s
            for s in walk(loop)
            if s.name == "memref.store"
            and s.operands[1] == op.operands[0]
            and s.parent is not None
            and s.parent.name == "tprog.block"
        ]
        if writers and list(op.operands)[1:] == args:
            producers.append((op, writers))
    if len(producers) != 1:
        raise ScheduleError(
            f"{what}: block '{_name(block)}' must read, at its own iteration point, exactly one "
            f"buffer written under loop '{nest.loop_name(loop)}'"
        )
    _load, writers = producers[0]
    fixed = {nest.loop_name(lp) for lp in [*nest.enclosing_loops(loop), loop]}
    extents = {nest.loop_name(lp): nest.loop_extent(lp) for lp in walk(fn) if nest.is_loop(lp)}
    accesses = [_access_exprs(w.parent, w, 2) for w in writers]
    region = _region(accesses, fixed, extents, what)
    new_exprs = []
    loops = []
    for d, (form, lo, hi) in enumerate(region):
        name = _unique(fn, f"{view.block_name}_ax{d}")
        loops.append((name, hi - lo + 1))
        new_exprs.append(_expr(form, lo, name))
    _move(fn, block, loop, new_exprs, loops, at_end=True, what=what)


def check_readers_under(
    block: ir.Operation, loop: ir.Operation, readers: list[ir.Operation], what: str
) -> None:
    """compute_at's precondition: every load of `block`'s result (`readers`) is in a block under
    `loop`, and `block` itself is not."""
    if not readers:
        raise ScheduleError(f"{what}: no other block reads the result of block '{_name(block)}'")
    loop_ops = [op for op in walk(loop) if op.name == "tprog.block"]
    for reader in readers:
        if reader.parent not in loop_ops:
            raise ScheduleError(
                f"{what}: block '{_name(reader.parent)}' reads the result of block "
                f"'{_name(block)}' outside loop '{nest.loop_name(loop)}'"
            )
    if block in loop_ops:
        raise ScheduleError(
            f"{what}: block '{_name(block)}' is already under loop '{nest.loop_name(loop)}'"
        )
