"""GPU shared memory for schedule caches: tiles fetched cooperatively by a thread block.

`cache_read(..., scope="shared")` then `compute_at` under a loop of a kernel: the copy block
computes the region one iteration of that loop reads; the cache becomes a `memref.alloc` in
`#gpu.address_space<workgroup>` of that region's size at the top of the kernel (the innermost
blockIdx loop), indexed `v mod M` (M: a divisor of the step the region moves by), and the fetch
is fenced by `gpu.barrier` (after it; before it too when it runs more than once per thread
block). `cooperative_fetch` then fuses its loops and binds them to the kernel's threads.
Registers (`cache_write(..., scope="local")`) are in gpu_registers.py.
"""

from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import arith, gpu, memref

from strata.dialects.tprog import IterType
from strata.interpreter.core import Kernel, OpContext, semantics
from strata.irutil import erase, walk
from strata.transforms.tprog import bind, loops, nest
from strata.transforms.tprog.compute_at import _identity_store, _move, _unique, check_readers_under
from strata.transforms.tprog.expr import Expr
from strata.transforms.tprog.nest import ScheduleError

WORKGROUP = "#gpu.address_space<workgroup>"


def _name(block: ir.Operation) -> str:
    return ir.StringAttr(block.attributes["name"]).value


def workgroup_memref(shape: list[int], element: ir.Type) -> ir.MemRefType:
    return ir.MemRefType.get(shape, element, memory_space=ir.Attribute.parse(WORKGROUP))


def _index(value: int) -> ir.Value:
    return arith.ConstantOp(ir.IndexType.get(), value).result


def _extents(fn: ir.Operation) -> dict[str, int]:
    return {nest.loop_name(op): nest.loop_extent(op) for op in walk(fn) if nest.is_loop(op)}


def _access_exprs(block: ir.Operation, op: ir.Operation, first: int) -> list[Expr]:
    """The indices of access `op` (from operand `first`) over loops: block iteration values or
    constants (a broadcast operand's batch index)."""
    args = list(block.regions[1].blocks[0].arguments) + list(block.regions[0].blocks[0].arguments)
    bindings = [nest.binding_of(v) for v in block.operands]
    exprs = []
    for index in list(op.operands)[first:]:
        if index in args:
            expr = bindings[args.index(index) % len(bindings)]
        else:
            expr = nest.binding_of(index)
            if expr is None or expr.op != "const":
                raise ScheduleError(
                    f"block '{_name(block)}' indexes a buffer with a computed value"
                )
        if expr is None:
            raise ScheduleError(f"block '{_name(block)}' has a binding that is not affine")
        exprs.append(expr)
    return exprs


def _accesses(fn: ir.Operation, buffer: ir.Value, what: str) -> list[tuple[ir.Operation, int]]:
    """Every load and store of `buffer` with the position of its first index; all in blocks."""
    found = []
    for op in walk(fn):
        if op.name == "memref.load" and op.operands[0] == buffer:
            found.append((op, 1))
        elif op.name == "memref.store" and op.operands[1] == buffer:
            found.append((op, 2))
    for op, _ in found:
        if op.parent is None or op.parent.name != "tprog.block":
            raise ScheduleError(f"{what}: the cache is accessed outside a block")
    users = sum(1 for _ in buffer.uses)
    if users != len(found):
        raise ScheduleError(f"{what}: the cache is used by ops other than loads and stores")
    return found


# Index expressions as (fixed part, swept part, constant): the fixed part maps each term that
# depends only on fixed loops (a loop, or a floordiv/mod of fused ones) to its coefficient; the
# swept part maps loops to coefficients.
Form = tuple[dict[str, tuple[Expr, int]], dict[str, int], int]


def split_form(expr: Expr, fixed: set[str]) -> Form | None:
    """`expr` as fixed terms + swept loops + a constant; None when a swept loop appears under a
    floordiv or mod."""
    if expr.op == "const":
        return {}, {}, expr.args[0]
    if expr.op == "var":
        if expr.args[0] in fixed:
            return {str(expr): (expr, 1)}, {}, 0
        return {}, {expr.args[0]: 1}, 0
    if expr.op == "add":
        a, b = split_form(expr.args[0], fixed), split_form(expr.args[1], fixed)
        if a is None or b is None:
            return None
        terms = dict(a[0])
        for key, (e, c) in b[0].items():
            terms[key] = (e, terms[key][1] + c if key in terms else c)
        swept = dict(a[1])
        for var, c in b[1].items():
            swept[var] = swept.get(var, 0) + c
        return terms, swept, a[2] + b[2]
    if expr.op == "mul":
        a = split_form(expr.args[0], fixed)
        f = expr.args[1]
        if a is None:
            return None
        return (
            {k: (e, c * f) for k, (e, c) in a[0].items()},
            {v: c * f for v, c in a[1].items()},
            a[2] * f,
        )
    if expr.vars() <= fixed:  # floordiv / mod of fixed loops (fused ones): one opaque term
        return {str(expr): (expr, 1)}, {}, 0
    return None


Region = list[tuple[dict[str, tuple[Expr, int]], int, int]]


def region(
    accesses: list[list[Expr]], fixed: set[str], extents: dict[str, int], what: str
) -> Region:
    """Per dimension: the fixed terms and the [lo, hi] the rest spans over the union of
    `accesses` when the loops not in `fixed` sweep their range."""
    dims: Region = []
    for d in range(len(accesses[0])):
        parts = []
        for access in accesses:
            form = split_form(access[d], fixed)
            if form is None:
                raise ScheduleError(
                    f"{what}: index {access[d]} is not linear in the loops it sweeps"
                )
            terms, swept, lo = form
            hi = lo
            for var, coef in swept.items():
                span = coef * (extents[var] - 1)
                lo, hi = lo + min(0, span), hi + max(0, span)
            parts.append((terms, lo, hi))
        keys = {k: c for k, (_, c) in parts[0][0].items() if c}
        if any({k: c for k, (_, c) in p[0].items() if c} != keys for p in parts):
            raise ScheduleError(
                f"{what}: the accesses of dimension {d} move differently with the loops"
            )
        dims.append((parts[0][0], min(p[1] for p in parts), max(p[2] for p in parts)))
    return dims


# --- shared memory --------------------------------------------------------------------------


def is_shared_cache(block: ir.Operation) -> bool:
    """Whether `block` writes a buffer in shared memory (a shared cache_read's copy block)."""
    return any(bind.is_workgroup(v.type) for v in block.opview.writes)


def _kernel_of(loop: ir.Operation, block: ir.Operation, what: str) -> ir.Operation:
    """The innermost blockIdx loop of the kernel holding `loop` (at or above it)."""
    chain = bind.block_loops(bind.top_level(loop))
    if not chain:
        raise ScheduleError(
            f"{what}: shared cache '{_name(block)}' is filled by a thread block: compute it at "
            f"a loop of a kernel (bind the blockIdx loops first); '{nest.loop_name(loop)}' is "
            "in none"
        )
    kernel = chain[-1]
    if loop != kernel and kernel not in nest.enclosing_loops(loop):
        raise ScheduleError(
            f"{what}: shared cache '{_name(block)}' belongs to one thread block: compute it at "
            f"loop '{nest.loop_name(kernel)}' (the innermost blockIdx loop) or inside it, not "
            f"at '{nest.loop_name(loop)}'"
        )
    for other in [*nest.enclosing_loops(loop), loop]:
        axis = bind.axis_of(other) or ""
        if axis.startswith("threadIdx"):
            raise ScheduleError(
                f"{what}: shared cache '{_name(block)}' is filled by the whole thread block: "
                f"compute it at a loop outside loop '{nest.loop_name(other)}' bound to {axis}"
            )
    return kernel


def compute_at_shared(fn: ir.Operation, block: ir.Operation, loop: ir.Operation) -> None:
    """compute_at of a shared cache's copy block: the region one iteration of `loop` reads,
    compacted, at the top of the kernel, fenced by barriers."""
    what = "compute_at"
    kernel = _kernel_of(loop, block, what)
    store, spatial = _identity_store(block, what)
    buffer = store.operands[1]
    readers = [
        op
        for op, _ in _accesses(fn, buffer, what)
        if op.name == "memref.load" and op.parent != block
    ]
    check_readers_under(block, loop, readers, what)
    fixed = {nest.loop_name(lp) for lp in [*nest.enclosing_loops(loop), loop]}
    needed = region([_access_exprs(r.parent, r, 1) for r in readers], fixed, _extents(fn), what)
    view = block.opview
    new_exprs: list[Expr] = [Expr.const(0)] * len(view.iter_types)
    new_loops = []
    for d, k in enumerate(spatial):
        terms, lo, hi = needed[d]
        name = _unique(fn, f"{view.block_name}_ax{d}")
        new_loops.append((name, hi - lo + 1))
        expr = Expr.var(name) + lo
        for _, (term, coef) in sorted(terms.items()):
            expr = expr + term * coef
        new_exprs[k] = expr
    sizes, remaps = _compaction(needed, _name(block))  # refuses before anything moves
    _move(fn, block, loop, new_exprs, new_loops, at_end=False, what=what)
    _compact_shared(fn, buffer, sizes, remaps, kernel)
    _fence(loop, kernel)


def _compaction(needed: Region, name: str) -> tuple[list[int], list[tuple[str, int]]]:
    """The size of each dimension of a shared tile and how an index maps into it: `v mod M`
    (M: a divisor of the step the region moves by, at least its span: the same for every
    access, one-to-one over the region) or `v - lo` for a region that does not move."""
    what = "compute_at"
    sizes, remaps = [], []
    for d, (terms, lo, hi) in enumerate(needed):
        span = hi - lo + 1
        step = math.gcd(*(abs(c) for _, c in terms.values())) if terms else 0
        if not step:  # the region does not move: an offset
            sizes.append(span)
            remaps.append(("sub", lo))
            continue
        modulus = next((m for m in range(span, step + 1) if step % m == 0), None)
        if modulus is None:
            raise ScheduleError(
                f"{what}: dimension {d} of the shared cache of '{name}' spans {span} elements "
                f"but moves by {step} per iteration; it cannot be compacted (tile so that the "
                "region is aligned, or keep the cache in global memory)"
            )
        sizes.append(modulus)
        remaps.append(("mod", modulus))
    return sizes, remaps


def _compact_shared(
    fn: ir.Operation,
    buffer: ir.Value,
    sizes: list[int],
    remaps: list[tuple[str, int]],
    kernel: ir.Operation,
) -> None:
    """Replace shared `buffer` by a tile of `sizes` at the top of the kernel."""
    accesses = _accesses(fn, buffer, "compute_at")
    old = ir.MemRefType(buffer.type)
    with ir.InsertionPoint.at_block_begin(kernel.regions[0].blocks[0]), kernel.location:
        shared = memref.AllocOp(workgroup_memref(sizes, old.element_type), [], []).result
    for op, first in accesses:
        with ir.InsertionPoint(op), op.location:
            for d, (kind, c) in enumerate(remaps):
                index = op.operands[first + d]
                if kind == "mod":
                    op.operands[first + d] = arith.RemUIOp(index, _index(c)).result
                elif c:
                    op.operands[first + d] = arith.SubIOp(index, _index(c)).result
        op.operands[first - 1] = shared
    erase(buffer.owner)


def _is_fetch(op: ir.Operation) -> bool:
    blocks = [b for b in walk(op) if b.name == "tprog.block"]
    return nest.is_loop(op) and bool(blocks) and all(is_shared_cache(b) for b in blocks)


def _fence(loop: ir.Operation, kernel: ir.Operation) -> None:
    """One barrier after the fetch nests at the front of `loop`'s body, and one before them when
    they run more than once per thread block (the previous iteration's readers)."""
    ops = nest.body_ops(loop)
    first = next((o for o in ops if o.name not in ("memref.alloc", "memref.alloca")), None)
    for op in ops:  # buffers first, then the fetches
        if op.name in ("memref.alloc", "memref.alloca") and first is not None:
            op.move_before(first)
    run = []
    for op in nest.body_ops(loop):
        if op.name in ("memref.alloc", "memref.alloca"):
            continue
        if op.name == "gpu.barrier" or _is_fetch(op):
            run.append(op)
        else:
            break
    fetches = [op for op in run if op.name != "gpu.barrier"]
    for op in run:
        if op not in fetches:
            op.erase()
    if not fetches:
        return
    inside = [lp for lp in [*nest.enclosing_loops(loop), loop] if not bind.is_bound(lp)]
    with fetches[0].location:
        if any(nest.loop_extent(lp) > 1 for lp in inside if _below(lp, kernel)):
            with ir.InsertionPoint(fetches[0]):
                gpu.BarrierOp()
        with _after(fetches[-1]):
            gpu.BarrierOp()


def _below(op: ir.Operation, kernel: ir.Operation) -> bool:
    return kernel in nest.enclosing_loops(op)


def _after(op: ir.Operation) -> ir.InsertionPoint:
    ops = [o.operation for o in op.block.operations]
    return ir.InsertionPoint(ops[ops.index(op) + 1])


def _largest_divisor(n: int, limit: int) -> int:
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


def cooperative_fetch(fn: ir.Operation, block: ir.Operation) -> list[str]:
    """Fuse the loops of spatial `block` (those that hold only it, inside its kernel) and split
    the fused loop exactly onto the kernel's threads (threadIdx.x innermost); the new loops'
    names, outermost first."""
    what = "cooperative_fetch"
    view = block.opview
    if IterType.REDUCTION in view.iter_types:
        raise ScheduleError(f"{what}: block '{_name(block)}' is a reduction")
    kernel = bind.innermost_block_loop(block)
    if kernel is None:
        raise ScheduleError(f"{what}: block '{_name(block)}' is in no loop bound to blockIdx")
    chain: list[ir.Operation] = []
    current = block
    while (
        current.parent is not None
        and nest.is_loop(current.parent)
        and current.parent != kernel
        and not bind.is_bound(current.parent)
        and all(o == current or o.name == "affine.apply" for o in nest.body_ops(current.parent))
    ):
        current = current.parent
        chain.insert(0, current)
    if not chain:
        raise ScheduleError(f"{what}: block '{_name(block)}' has no loops of its own to share")
    for other in nest.enclosing_loops(chain[0]):
        if (bind.axis_of(other) or "").startswith("threadIdx"):
            raise ScheduleError(
                f"{what}: block '{_name(block)}' is inside loop '{nest.loop_name(other)}' "
                f"bound to {bind.axis_of(other)}"
            )
    dims = bind.thread_extents(bind.top_level(block))
    if not dims:
        raise ScheduleError(
            f"{what}: the kernel of block '{_name(block)}' has no threadIdx loops yet; bind the "
            "threads of its compute first"
        )
    fused = chain[0]
    if len(chain) > 1:
        name = loops.fuse(fn, chain)
        fused = next(o for o in walk(fn) if nest.is_loop(o) and nest.loop_name(o) == name)
    rest = nest.loop_extent(fused)
    parts: list[tuple[str, int]] = []
    for axis in "xyz":  # threadIdx.x innermost: neighbouring threads, neighbouring elements
        if axis in dims:
            size = _largest_divisor(rest, dims[axis])
            rest //= size
            if size > 1:
                parts.insert(0, (axis, size))
    if not parts:
        return [nest.loop_name(fused)]
    names = loops.split(fn, fused, [rest] + [size for _, size in parts])
    by_name = {nest.loop_name(o): o for o in walk(fn) if nest.is_loop(o)}
    for loop_name, (axis, _) in zip(names[1:], parts):
        bind.bind(by_name[loop_name], f"threadIdx.{axis}")
    return names


# --- simulator semantics: in the sequential reading a barrier does nothing ---------------------


@semantics("gpu.barrier")
def _barrier(op: OpContext) -> Kernel:
    return lambda: None
