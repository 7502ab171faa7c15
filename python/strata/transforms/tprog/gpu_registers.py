"""GPU registers for schedule caches: `cache_write(..., scope="local")` of a reduction block
already bound to threads.

The accumulator becomes a `memref.alloca` at the loop just outside the block's outermost
reduction loop, and a write-back nest after that loop repeats the block's spatial loops
(thread-bound ones included). When the threads' loops are inside the reduction loop (shared
tiles fetched per step), the buffer holds every thread's values in the sequential reading: its
leading dimensions, named by the attribute `tprog.thread_dims` (e.g. ["threadIdx.y",
"threadIdx.x"]), are indexed by the thread ids. Each GPU thread touches only its own slice, so
the GPU lowering drops those dimensions (`drop_thread_dims`) and the rest stays in registers.
"""

from __future__ import annotations

from collections.abc import Callable

from mlir import ir
from mlir.dialects import arith, memref

from strata.dialects.tprog import BlockOp, IterType
from strata.irutil import erase, walk
from strata.transforms.tprog import bind, nest
from strata.transforms.tprog.compute_at import _unique
from strata.transforms.tprog.expr import Expr
from strata.transforms.tprog.gpu_cache import _after, _below, _index, _name, split_form
from strata.transforms.tprog.nest import ScheduleError

THREAD_DIMS = "tprog.thread_dims"  # on a memref.alloca: its leading dims are per-thread copies


def cache_write_local(fn: ir.Operation, block: ir.Operation, index: int) -> str:
    """Accumulate reduction `block`'s output `index` in per-thread registers (module docstring);
    the name of the write-back block."""
    from strata.transforms.tprog.cache import _buffer

    what = "cache_write"
    buffer = _buffer(block, index, what, "write")
    view = block.opview
    name = _name(block)
    if bind.innermost_block_loop(block) is None:
        raise ScheduleError(
            f"{what}: block '{name}' is in no kernel; bind its loops to blockIdx and threadIdx "
            "before caching its result in registers"
        )
    if IterType.REDUCTION not in view.iter_types:
        raise ScheduleError(f"{what}: block '{name}' has no reduction to accumulate in registers")
    spatial = [k for k, t in enumerate(view.iter_types) if t == IterType.SPATIAL]
    own = [op for op in walk(block) if buffer in list(op.operands)]
    if not any(op.name == "memref.store" and op.block == view.init for op in own):
        raise ScheduleError(
            f"{what}: block '{name}' does not initialize buffer {index} in its init; the "
            "registers would start from undefined values"
        )
    for op in own:
        first = {"memref.load": 1, "memref.store": 2}.get(op.name)
        args = list(op.block.arguments)
        if first is None or list(op.operands)[first:] != [args[k] for k in spatial]:
            raise ScheduleError(
                f"{what}: block '{name}' accesses buffer {index} at other points than its "
                "spatial iteration values, in order"
            )
    exprs = [nest.binding_of(v) for v in view.iter_values]
    if any(e is None for e in exprs):
        raise ScheduleError(f"{what}: block '{name}' has a binding that is not affine")
    chain = nest.enclosing_loops(block)
    names = [nest.loop_name(lp) for lp in chain]
    reduced: set[str] = set()
    for expr, kind in zip(exprs, view.iter_types):
        if kind == IterType.REDUCTION:
            reduced |= expr.vars()  # type: ignore[union-attr]
    outer = next((i for i, n in enumerate(names) if n in reduced), 0)
    kernel = bind.innermost_block_loop(block)
    if not outer or (chain[outer - 1] != kernel and not _below(chain[outer - 1], kernel)):
        raise ScheduleError(
            f"{what}: the reduction loops of block '{name}' must be inside its kernel's "
            "blockIdx loops"
        )
    holder = chain[outer - 1]
    fixed = set(names[:outer])
    used = set().union(*(exprs[k].vars() for k in spatial))  # type: ignore[union-attr]
    mirrored = [lp for lp in chain[outer:] if nest.loop_name(lp) in used]
    for lp in mirrored:
        if nest.loop_name(lp) in reduced:
            raise ScheduleError(
                f"{what}: loop '{nest.loop_name(lp)}' binds spatial and reduction variables of "
                f"block '{name}'"
            )
    digits = _digits([exprs[k] for k in spatial], fixed, mirrored, what, name)  # type: ignore[misc]
    order = [lp for lp in mirrored if bind.is_bound(lp)] + [
        lp for lp in mirrored if not bind.is_bound(lp)
    ]
    positions = {nest.loop_name(lp): p for p, lp in enumerate(order)}
    layout = sorted(digits, key=lambda dg: positions[dg[0]])
    buf_type = ir.MemRefType(buffer.type)
    with ir.InsertionPoint.at_block_begin(holder.regions[0].blocks[0]), block.location:
        local = memref.AllocaOp(
            ir.MemRefType.get([nest.loop_extent(lp) for lp in order], buf_type.element_type),
            [],
            [],
        )
        axes = [bind.axis_of(lp) for lp in order if bind.is_bound(lp)]
        if axes:
            local.operation.attributes[THREAD_DIMS] = ir.ArrayAttr.get(
                [ir.StringAttr.get(a) for a in axes]  # type: ignore[arg-type]
            )

    def local_index(values: list[ir.Value]) -> list[ir.Value]:
        out = []
        for _, dim, coef, extent in layout:
            if extent == 1:
                out.append(_index(0))
                continue
            v = values[dim]
            if coef != 1:
                v = arith.DivUIOp(v, _index(coef)).result
            out.append(arith.RemUIOp(v, _index(extent)).result)
        return out

    for op in own:
        with ir.InsertionPoint(op), op.location:
            if op.name == "memref.load":
                new = memref.LoadOp(local.result, local_index(list(op.operands)[1:]))
                op.results[0].replace_all_uses_with(new.result)
            else:
                memref.StoreOp(op.operands[0], local.result, local_index(list(op.operands)[2:]))
        erase(op)
    spatial_exprs: list[Expr] = [exprs[k] for k in spatial]  # type: ignore[misc]
    wb_name = f"{name}_write_cache_{index}"
    _write_back(
        fn, chain[outer], mirrored, spatial_exprs, buffer, local.result, local_index, wb_name
    )
    return wb_name


def _digits(
    exprs: list[Expr], fixed: set[str], mirrored: list[ir.Operation], what: str, name: str
) -> list[tuple[str, int, int, int]]:
    """(loop, dimension, coefficient, extent) of each mirrored loop: each spatial index must be
    a mixed-radix number over them (the fixed loops' part a multiple of its top digit)."""
    extents = {nest.loop_name(lp): nest.loop_extent(lp) for lp in mirrored}
    digits = []
    for dim, expr in enumerate(exprs):
        own = expr.vars() & set(extents)
        if not own:
            continue
        form = split_form(expr, fixed)
        if form is None or form[2] != 0 or set(form[1]) != own:
            raise ScheduleError(
                f"{what}: index {expr} of block '{name}' is not a sum of loops times strides"
            )
        terms, swept, _ = form
        top = 1
        for coef, loop in sorted((swept[v], v) for v in own):
            if coef <= 0 or coef % top:
                raise ScheduleError(
                    f"{what}: index {expr} of block '{name}' is not a mixed-radix number over "
                    "its loops inside the reduction"
                )
            top = coef * extents[loop]
            digits.append((loop, dim, coef, extents[loop]))
        if any(coef % top for _, coef in terms.values()):
            raise ScheduleError(
                f"{what}: index {expr} of block '{name}': the outer loops' part is not a "
                f"multiple of {top}, the span of one thread's tile"
            )
    seen = [d[0] for d in digits]
    if len(seen) != len(set(seen)):
        raise ScheduleError(f"{what}: a loop of block '{name}' indexes several dimensions")
    return digits


def _write_back(
    fn: ir.Operation,
    after: ir.Operation,
    mirrored: list[ir.Operation],
    exprs: list[Expr],
    buffer: ir.Value,
    local: ir.Value,
    local_index: Callable[[list[ir.Value]], list[ir.Value]],
    name: str,
) -> None:
    """The nest copying the registers back to `buffer`, right after loop `after`."""
    from strata.conversions.tprog_builder import terminate

    ip = _after(after)
    renamed: dict[str, Expr] = {}
    for lp in mirrored:
        new = _unique(fn, f"{nest.loop_name(lp)}_wb")
        renamed[nest.loop_name(lp)] = Expr.var(new)
        with ip, after.location:
            loop = nest.make_loop(fn, new, nest.loop_extent(lp), nest.loop_kind(lp))
        ip = ir.InsertionPoint.at_block_terminator(loop.regions[0].blocks[0])
    shape = list(ir.MemRefType(buffer.type).shape)
    placeholder = nest.index_constant_at_entry(fn, 0)
    with ip, after.location:
        wb = BlockOp(name, [placeholder] * len(shape), [IterType.SPATIAL] * len(shape), shape)
    terminate(wb.init)
    with ir.InsertionPoint(wb.body), after.location:
        values = list(wb.body.arguments)
        memref.StoreOp(memref.LoadOp(local, local_index(values)).result, buffer, values)
    terminate(wb.body)
    nest.rebind(wb.operation, [e.substitute(renamed) for e in exprs])
    erase(placeholder.owner)


def drop_thread_dims(root: ir.Operation) -> None:
    """For the parallel reading (inside GPU kernels): each thread keeps only its own slice of a
    register buffer with `tprog.thread_dims`, so drop those leading dimensions from the buffer
    and from every access (their indices are that thread's ids). Call it on a `gpu.launch` (or
    any op holding kernels) once the sequential reading is gone; SROA can then keep the slice
    in registers."""
    for alloca in [op for op in walk(root) if op.name == "memref.alloca"]:
        if THREAD_DIMS not in alloca.attributes:
            continue
        count = len(ir.ArrayAttr(alloca.attributes[THREAD_DIMS]))
        old = ir.MemRefType(alloca.results[0].type)
        with ir.InsertionPoint(alloca), alloca.location:
            new = memref.AllocaOp(
                ir.MemRefType.get(list(old.shape)[count:], old.element_type), [], []
            ).result
        for use in list(alloca.results[0].uses):
            op = use.owner.operation
            with ir.InsertionPoint(op), op.location:
                if op.name == "memref.load":
                    load = memref.LoadOp(new, list(op.operands)[1 + count :])
                    op.results[0].replace_all_uses_with(load.result)
                elif op.name == "memref.store":
                    memref.StoreOp(op.operands[0], new, list(op.operands)[2 + count :])
                else:
                    raise ScheduleError(
                        f"a register buffer with {THREAD_DIMS} is used by '{op.name}'; only "
                        "loads and stores can drop its thread dimensions"
                    )
            erase(op)
        erase(alloca)
