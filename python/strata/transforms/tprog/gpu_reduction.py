"""Reductions shared by the threads of a GPU thread block, and the row kernels they sit in.

`cross_thread_reduction(block)`: `block` combines partial results (`rfactor`) that the threads
along one threadIdx axis wrote, one each; the partials move to shared memory and are reduced
by a tree of log2(n) steps, each its own nest `for t < step (threadIdx): p[t] = p[t] + p[t+step]`
followed by a `gpu.barrier`; one thread then combines p[0] into the result. Each step reads only
what the previous step wrote (t + step >= step), so the sequential reading (thread loops are
loops, barriers do nothing) and the parallel one (each thread its own t, barriers between steps)
agree.

`merge(*loops)`: sibling nests over the same rows become one nest (for a reduction program: one
kernel per row, e.g. softmax's max, exp, sum and divide), when every buffer two of them share is
used row by row (no row reads what another row writes). Merged kernels (loops bound to
blockIdx) get a `gpu.barrier` between the merged bodies: the threads of a row exchange data.
"""

from __future__ import annotations

import numpy as np
from mlir import ir
from mlir.dialects import arith, gpu, memref

from strata.dialects.tprog import BlockOp, IterType
from strata.irutil import erase, walk
from strata.transforms.tprog import bind, nest
from strata.transforms.tprog.expr import Expr
from strata.transforms.tprog.gpu_cache import split_form, workgroup_memref
from strata.transforms.tprog.nest import ScheduleError
from strata.transforms.tprog.reduction import bindings, match_reduction

# --- cross-thread reductions ------------------------------------------------------------------


def _name(block: ir.Operation) -> str:
    return block.opview.block_name


def _blocks_accessing(fn: ir.Operation, buffer: ir.Value, what: str) -> list[ir.Operation]:
    """The loads and stores of `buffer`; every use must be one, inside a block."""
    found = []
    for use in buffer.uses:
        op = use.owner.operation
        if op.name not in ("memref.load", "memref.store") or _block_of(op) is None:
            raise ScheduleError(f"{what}: the partials are used by '{op.name}' outside a block")
        if op.name == "memref.store" and op.operands[0] == buffer:
            raise ScheduleError(f"{what}: the partials buffer is stored as a value")
        found.append(op)
    return found


def _block_of(op: ir.Operation) -> ir.Operation | None:
    parent = op.parent
    while parent is not None and parent.name != "func.func":
        if parent.name == "tprog.block":
            return parent
        parent = parent.parent
    return None


def _indices(op: ir.Operation) -> list[ir.Value]:
    return list(op.operands)[1 if op.name == "memref.load" else 2 :]


def _arg_binding(block: ir.Operation, value: ir.Value) -> Expr | None:
    """The binding of `value` when it is an iteration variable of `block` (init or body)."""
    for region in block.regions:
        args = list(region.blocks[0].arguments)
        if value in args:
            return nest.binding_of(block.operands[args.index(value)])
    return None


def _ancestor_in(op: ir.Operation, parent: ir.Operation) -> ir.Operation | None:
    """The op of `parent`'s body that holds `op` (or `op`), if any."""
    current = op
    while current.parent is not None and current.parent != parent:
        if current.parent.name == "func.func":
            return None
        current = current.parent
    return current if current.parent == parent else None


def _position(op: ir.Operation) -> int:
    return [o.operation for o in op.block.operations].index(op)


def _barrier_before(op: ir.Operation) -> None:
    ops = [o.operation for o in op.block.operations]
    index = ops.index(op)
    if index and ops[index - 1].name == "gpu.barrier":
        return
    with ir.InsertionPoint(op), op.location:
        gpu.BarrierOp()


def _barrier_after(op: ir.Operation) -> None:
    ops = [o.operation for o in op.block.operations]
    index = ops.index(op)
    if ops[index + 1].name == "gpu.barrier":
        return
    with ir.InsertionPoint(ops[index + 1]), op.location:
        gpu.BarrierOp()


def _unique_block(fn: ir.Operation, base: str) -> str:
    taken = {b.opview.block_name for b in nest.blocks_in(fn)}
    name, n = base, 0
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def cross_thread_reduction(fn: ir.Operation, op: ir.Operation) -> None:
    """Reduce the partials that combining block `op` reads across the threads that wrote them
    (module docstring). `op` must be what `rfactor` leaves: `out[s] = combine(out[s], p[s, v])`
    over one reduction variable v bound to a loop of its own of a power-of-two extent n, inside
    a kernel and outside its thread loops; one block writes p, inside a loop bound to a
    threadIdx axis with extent n that binds the last index."""
    from strata.conversions.tprog_builder import terminate
    from strata.transforms.tprog.compute_at import _unique

    what = "cross_thread_reduction"
    name = _name(op)
    red = match_reduction(op, what)
    view = op.opview
    reductions = [k for k, t in enumerate(view.iter_types) if t == IterType.REDUCTION]
    if len(reductions) != 1:
        raise ScheduleError(
            f"{what}: block '{name}' reduces over {len(reductions)} variables; it must combine "
            "partials over one (rfactor the reduction first)"
        )
    k = reductions[0]
    exprs = bindings(view)
    chain = nest.enclosing_loops(op)
    if exprs[k].op != "var" or not chain or nest.loop_name(chain[-1]) != exprs[k].args[0]:
        raise ScheduleError(
            f"{what}: the reduction variable of block '{name}' must be bound to the loop right "
            "around it"
        )
    loop = chain[-1]
    loop_name = nest.loop_name(loop)
    if any(
        o != op and o.name not in ("affine.apply", "arith.constant") for o in nest.body_ops(loop)
    ):
        raise ScheduleError(f"{what}: loop '{loop_name}' holds more than block '{name}'")
    count = nest.loop_extent(loop)
    load = red.value.owner
    arg = view.body.arguments[k]
    if (
        isinstance(load, ir.Block)
        or load.operation.name != "memref.load"
        or _indices(load.operation)[-1:] != [arg]
    ):
        raise ScheduleError(
            f"{what}: block '{name}' must combine a buffer of partials indexed last by its "
            "reduction variable"
        )
    load = load.operation
    partials = load.operands[0]
    owner = partials.owner
    if (
        isinstance(owner, ir.Block)
        or owner.operation.name != "memref.alloc"
        or owner.operation.parent != fn
        or bind.is_workgroup(partials.type)
        or ir.MemRefType(partials.type).shape[-1] != count
    ):
        raise ScheduleError(
            f"{what}: the partials block '{name}' combines must be a temporary of the function "
            f"(a memref.alloc outside the loops, last dimension {count}), as rfactor makes them"
        )
    count = nest.loop_extent(loop)
    if count & (count - 1):
        raise ScheduleError(
            f"{what}: block '{name}' combines {count} partials; the tree needs a power of two "
            "(split the reduction by a power of two before rfactor)"
        )
    kernel = bind.innermost_block_loop(op)
    if kernel is None:
        raise ScheduleError(
            f"{what}: block '{name}' is in no kernel; bind its loops to blockIdx first"
        )
    for lp in chain[:-1]:
        axis = bind.axis_of(lp) or ""
        if axis.startswith("threadIdx"):
            raise ScheduleError(
                f"{what}: block '{name}' is inside loop '{nest.loop_name(lp)}' bound to {axis}; "
                "the whole thread block must reach the tree's barriers"
            )
    parent = loop.parent
    current = loop
    while current != kernel:
        if current.parent is None or not nest.is_loop(current.parent):
            raise ScheduleError(
                f"{what}: loop '{loop_name}' is inside '{current.parent.name}'; the whole thread "
                "block must reach the tree's barriers"
            )
        current = current.parent
    lead = [_arg_binding(op, v) for v in _indices(load)[:-1]]
    scope = {nest.loop_name(lp) for lp in [*nest.enclosing_loops(parent), parent]}
    if any(e is None or not e.vars() <= scope for e in lead):
        raise ScheduleError(
            f"{what}: block '{name}' must read the partials of one row per iteration of the "
            f"loops around loop '{loop_name}'"
        )
    accesses = _blocks_accessing(fn, partials, what)
    writers = {_block_of(a) for a in accesses if a.name == "memref.store"}
    others = {_block_of(a) for a in accesses} - writers - {op}
    if len(writers) != 1 or op in writers or others:
        raise ScheduleError(
            f"{what}: the partials of block '{name}' must be written by one block and read by "
            "no other"
        )
    writer = writers.pop()
    assert writer is not None
    writer_name = _name(writer)
    axis = _writer_thread(writer, accesses, lead, count, what)
    if bind.innermost_block_loop(writer) != kernel:
        raise ScheduleError(f"{what}: block '{writer_name}' is not in the kernel of '{name}'")
    head = _ancestor_in(writer, parent)
    if head is None or _position(head) >= _position(loop):
        raise ScheduleError(
            f"{what}: block '{writer_name}' must come before loop '{loop_name}' under loop "
            f"'{nest.loop_name(parent)}'"
        )

    # the partials: one row's in shared memory, at the top of the kernel
    element = ir.MemRefType(partials.type).element_type
    with ir.InsertionPoint.at_block_begin(kernel.regions[0].blocks[0]), op.location:
        shared = memref.AllocOp(workgroup_memref([count], element), [], []).result
    for access in accesses:
        with ir.InsertionPoint(access), access.location:
            if access.name == "memref.load":
                new = memref.LoadOp(shared, _indices(access)[-1:])
                access.results[0].replace_all_uses_with(new.result)
            else:
                memref.StoreOp(access.operands[0], shared, _indices(access)[-1:])
        erase(access)
    erase(owner.operation)
    # the tree, one nest and one barrier per step
    _barrier_before(loop)
    step = count // 2
    with op.location:
        while step:
            tree = _unique(fn, f"{name}_tree{step}")
            with ir.InsertionPoint(loop):
                made = nest.make_loop(fn, tree, step)
            with ir.InsertionPoint.at_block_terminator(made.regions[0].blocks[0]):
                placeholder = arith.ConstantOp(ir.IndexType.get(), 0).result
                block = BlockOp(
                    _unique_block(fn, f"{name}_tree{step}"),
                    [placeholder, placeholder],
                    [IterType.SPATIAL, IterType.SPATIAL],
                    [step, 2 * step],
                )
            terminate(block.init)
            with ir.InsertionPoint(block.body):
                t, u = list(block.body.arguments)
                a = memref.LoadOp(shared, [t]).result
                b = memref.LoadOp(shared, [u]).result
                both = ir.Operation.create(
                    red.combine.name,
                    results=[element],
                    operands=[a, b],
                    attributes={n: red.combine.attributes[n] for n in red.combine.attributes},
                )
                memref.StoreOp(both.results[0], shared, [t])
            terminate(block.body)
            nest.rebind(block.operation, [Expr.var(tree), Expr.var(tree) + step])
            erase(placeholder.owner)
            bind.bind(made, axis)
            if step > 1:  # the last step and the final combination both run on thread 0
                _barrier_after(made)
            step //= 2
    # one thread combines p[0] into the result
    with ir.InsertionPoint(op), op.location:
        op.operands[k] = arith.ConstantOp(ir.IndexType.get(), 0).result
    dom = list(view.dom)
    dom[k] = 1
    op.attributes["dom"] = ir.DenseI64ArrayAttr.get(dom)
    with loop.location:
        loop.operands[1] = nest.index_constant_at_entry(fn, 1)
    bind.bind(loop, axis)
    _barrier_after(loop)


def _writer_thread(
    writer: ir.Operation,
    accesses: list[ir.Operation],
    lead: list[Expr | None],
    count: int,
    what: str,
) -> str:
    """The thread axis of the block writing the partials: each thread writes only the partial
    its id indexes, every partial (no domain guard skips one)."""
    name = _name(writer)
    loops = {nest.loop_name(lp): lp for lp in nest.enclosing_loops(writer)}
    thread_loops = [lp for lp in loops.values() if (bind.axis_of(lp) or "").startswith("thread")]
    found = None
    for access in accesses:
        if _block_of(access) != writer:
            continue
        indices = [_arg_binding(writer, v) for v in _indices(access)]
        last = indices[-1]
        if (
            last is None
            or last.op != "var"
            or last.args[0] not in loops
            or not (bind.axis_of(loops[last.args[0]]) or "").startswith("threadIdx")
            or nest.loop_extent(loops[last.args[0]]) != count
        ):
            raise ScheduleError(
                f"{what}: block '{name}' must write the partials at the index of a loop bound to "
                f"a threadIdx axis with {count} iterations (bind the loop rfactor split off)"
            )
        if [str(e) for e in indices[:-1]] != [str(e) for e in lead]:
            raise ScheduleError(
                f"{what}: block '{name}' writes other partials than the combining block reads"
            )
        found = loops[last.args[0]]
    assert found is not None
    extra = [lp for lp in thread_loops if lp != found]
    if extra:
        raise ScheduleError(
            f"{what}: block '{name}' is also inside loop '{nest.loop_name(extra[0])}' bound to "
            f"{bind.axis_of(extra[0])}: several threads would write one partial"
        )
    view = writer.opview
    extents = {n: nest.loop_extent(lp) for n, lp in loops.items()}
    for value, size in zip(view.iter_values, view.dom):
        expr = nest.binding_of(value)
        if expr is None or not expr.vars() <= set(extents) or expr.bounds(extents)[1] >= size:
            raise ScheduleError(
                f"{what}: block '{name}' runs under a domain guard and could skip partials"
            )
    return bind.axis_of(found) or ""


# --- merging sibling nests over the same rows ------------------------------------------------

_MOVABLE = (
    "arith.constant",
    "memref.alloc",
    "memref.alloca",
    "memref.collapse_shape",
    "memref.expand_shape",
    "memref.subview",
    "memref.cast",
    "memref.reinterpret_cast",
    "memref.transpose",
    "memref.get_global",
)
_VIEWS = _MOVABLE[3:9]
ROW = "__row"  # the merged loops' common variable in the dependence check


def merge(fn: ir.Operation, ops: list[ir.Operation]) -> str:
    """Merge the sibling loops `ops` (in program order, same extent, serial or bound to the same
    blockIdx axis) into the first: its body runs the bodies in order; the merged loop's name.
    Checks that each buffer two of the nests share, one writing it, is used row by row."""
    what = "merge"
    names = [nest.loop_name(o) for o in ops]
    if len(ops) < 2:
        raise ScheduleError(f"{what} needs at least 2 loops")
    if len(set(names)) != len(names):
        raise ScheduleError(f"{what}: a loop is given twice")
    block = ops[0].block
    for lp, name in zip(ops, names):
        if lp.block != block:
            raise ScheduleError(
                f"{what}: loops '{names[0]}' and '{name}' are not in the same block of ops"
            )
    positions = [_position(o) for o in ops]
    if positions != sorted(positions):
        raise ScheduleError(f"{what}: give the loops in program order")
    extent = nest.loop_extent(ops[0])
    kind = nest.loop_kind(ops[0])
    for lp, name in zip(ops, names):
        if nest.loop_extent(lp) != extent:
            raise ScheduleError(
                f"{what}: loop '{name}' has {nest.loop_extent(lp)} iterations, loop "
                f"'{names[0]}' {extent}"
            )
        if nest.loop_kind(lp) != kind:
            raise ScheduleError(
                f"{what}: loop '{name}' is {nest.loop_kind(lp)}, loop '{names[0]}' {kind}"
            )
    if kind != "serial" and kind not in bind.BLOCK_AXES:
        raise ScheduleError(f"{what}: loop '{names[0]}' is {kind}; merge serial or blockIdx loops")
    bound = kind in bind.BLOCK_AXES
    if bound:
        for lp, name in zip(ops, names):
            inner = [o for o in walk(lp) if o != lp and (bind.axis_of(o) or "").startswith("block")]
            if inner:
                raise ScheduleError(
                    f"{what}: loop '{name}' holds loop '{nest.loop_name(inner[0])}' bound to "
                    f"{bind.axis_of(inner[0])}; merge kernels with one blockIdx loop"
                )
    all_ops = [o.operation for o in block.operations]
    between = [o for o in all_ops[positions[0] + 1 : positions[-1]] if o not in ops]
    for o in between:
        if o.name not in _MOVABLE:
            raise ScheduleError(
                f"{what}: loops '{names[0]}' and '{names[-1]}' are separated by '{o.name}'"
            )
    _check_rows(fn, ops, names, extent, what)
    for o in between:
        o.move_before(ops[0])
    first = ops[0]
    body = first.regions[0].blocks[0]
    iv = body.arguments[0]
    for lp in ops[1:]:
        end = [o.operation for o in body.operations][-1]
        if bound and [o.operation for o in body.operations][-2].name != "gpu.barrier":
            with ir.InsertionPoint(end), lp.location:
                gpu.BarrierOp()
        lp.regions[0].blocks[0].arguments[0].replace_all_uses_with(iv)
        nest.move_body(lp, first)
        lp.erase()
    return names[0]


def _root(value: ir.Value) -> ir.Value:
    """The buffer a view is a view of."""
    while not isinstance(value.owner, ir.Block) and value.owner.operation.name in _VIEWS:
        value = value.owner.operation.operands[0]
    return value


def _index_expr(value: ir.Value, block: ir.Operation | None) -> Expr | None:
    """`value` (an index) as an expression over loops, through block variables, loop variables,
    affine.apply and constants; None otherwise."""
    if block is not None:
        bound = _arg_binding(block, value)
        if bound is not None:
            return bound
    found = nest.binding_of(value)
    if found is not None:
        return found
    owner = value.owner
    if isinstance(owner, ir.Block) or owner.operation.name != "affine.apply":
        return None
    from strata.transforms.tprog.expr import from_affine

    amap = ir.AffineMapAttr(owner.operation.attributes["map"]).value
    dims = [_index_expr(v, block) for v in owner.operation.operands]
    if any(d is None for d in dims) or amap.n_symbols:
        return None
    return from_affine(amap.results[0], dims)  # type: ignore[arg-type]


def _check_rows(
    fn: ir.Operation, ops: list[ir.Operation], names: list[str], extent: int, what: str
) -> None:
    """Each buffer used by two of the nests, one writing it, must be used row by row: some of
    its dimensions are indexed, in every access, by the same function of the row alone, and
    that function takes a different value on every row."""
    accesses: dict[ir.Value, list[tuple[int, ir.Operation, ir.Value, list[Expr] | None]]] = {}
    for n, lp in enumerate(ops):
        allocs = [o for o in walk(lp) if o.name in ("memref.alloc", "memref.alloca")]
        local = {o.results[0] for o in allocs}
        for o in walk(lp):
            if o.name in ("memref.load", "memref.store"):
                buffer = o.operands[0 if o.name == "memref.load" else 1]
            elif any(isinstance(v.type, ir.MemRefType) for v in o.operands) and o.name not in (
                *_VIEWS,
                "memref.alloc",
                "memref.alloca",
            ):
                raise ScheduleError(
                    f"{what}: loop '{names[n]}' holds '{o.name}', whose accesses cannot be "
                    "checked row by row"
                )
            else:
                continue
            root = _root(buffer)
            if root in local:
                continue
            block = _block_of(o)
            exprs: list[Expr] | None = []
            for v in _indices(o):
                e = _index_expr(v, block)
                if e is None:
                    exprs = None
                    break
                exprs.append(e.substitute({names[n]: Expr.var(ROW)}))  # type: ignore[union-attr]
            accesses.setdefault(root, []).append((n, o, buffer, exprs))
    for uses in accesses.values():
        nests = {n for n, *_ in uses}
        writes = any(o.name == "memref.store" for _, o, *_ in uses)
        if len(nests) < 2 or not writes:
            continue
        first = min(nests)
        other = next(n for n in sorted(nests) if n != first)
        where = f"loops '{names[first]}' and '{names[other]}'"
        views = {buffer for _, _, buffer, _ in uses}
        if len(views) > 1 or any(e is None for *_, e in uses):
            raise ScheduleError(
                f"{what}: {where} share a buffer through different views or computed indices; "
                "cannot tell that each row uses its own part"
            )
        if not _rows_disjoint([e for *_, e in uses], extent):  # type: ignore[misc]
            raise ScheduleError(
                f"{what}: {where} share a buffer that is not used row by row (a row would use "
                "what another row writes)"
            )


def _rows_disjoint(uses: list[list[Expr]], extent: int) -> bool:
    rank = len(uses[0])
    rows = np.arange(extent, dtype=np.int64)
    columns = []
    for d in range(rank):
        forms = [split_form(u[d], {ROW}) for u in uses]
        if any(f is None or f[1] for f in forms):
            continue  # an inner loop moves along this dimension
        keys = {
            (tuple(sorted((k, c) for k, (_, c) in f[0].items() if c)), f[2])  # type: ignore[index]
            for f in forms
        }
        if len(keys) != 1:
            continue  # accesses differ along this dimension
        terms, _, const = forms[0]  # type: ignore[misc]
        column = np.full(extent, const, dtype=np.int64)
        for _, (term, coef) in terms.items():
            column += coef * _evaluate(term, rows)
        columns.append(column)
    if not columns:
        return extent == 1
    table = np.stack(columns, axis=1)
    return len(np.unique(table, axis=0)) == extent


def _evaluate(expr: Expr, rows: np.ndarray) -> np.ndarray:
    if expr.op == "var":
        return rows
    if expr.op == "const":
        return np.full_like(rows, expr.args[0])
    a = _evaluate(expr.args[0], rows)
    if expr.op == "add":
        return a + _evaluate(expr.args[1], rows)
    c = expr.args[1]
    return {"mul": lambda: a * c, "floordiv": lambda: a // c, "mod": lambda: a % c}[expr.op]()
