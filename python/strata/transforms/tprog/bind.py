"""bind: loops of tensor programs onto GPU thread axes, and the legality of the kernels they form.

A loop bound to `blockIdx.a` / `threadIdx.a` keeps its extent; its `tprog.kind` names the axis.
A kernel is a top-level nest whose outermost loops are bound to blockIdx, perfectly nested;
threadIdx loops sit inside them and may appear several times (the compute nest, each cooperative
fetch), blockDim.a being the largest extent. Read sequentially, a bound loop is an ordinary loop
(`strata.simulate`); a schedule is legal when that reading and the parallel one agree.

Checked by `bind`, when the loop is bound (what one loop and its path already decide):
- the axis is one of `AXES`; the loop is serial (not parallel, vectorized, unrolled or bound);
- the loop carries no reduction variable of a block under it (no cross-thread reductions);
- no loop on the same path (enclosing or enclosed) is bound to the same axis;
- a blockIdx loop sits in no threadIdx loop and at the top of its nest, under a perfect chain
  of loops (serial ones are allowed there until they are bound too); a threadIdx loop encloses no
  blockIdx loop;
- the extent fits the axis: blockDim.z <= 64, blockDim.x/y <= 1024, grid y/z <= 65535 (x up to
  2^31 - 1); and the kernel's threads per block (the product over axes of the largest extent
  bound to each) stay <= 1024.
Checked by `check_kernel`, when the whole kernel is known (convert-tprog-to-gpu calls it): all
of the above again, plus: the nest starts with blockIdx loops perfectly nested at its top and no
other loop is bound to blockIdx; no parallel loop inside; `gpu.barrier` under no threadIdx loop
and no guard (every thread of the block must reach it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlir import ir

from strata.dialects.tprog import IterType
from strata.irutil import walk
from strata.transforms.tprog import nest
from strata.transforms.tprog.nest import LOOP_KIND, ScheduleError

BLOCK_AXES = ("blockIdx.x", "blockIdx.y", "blockIdx.z")
THREAD_AXES = ("threadIdx.x", "threadIdx.y", "threadIdx.z")
AXES = BLOCK_AXES + THREAD_AXES
MAX_THREADS_PER_BLOCK = 1024
MAX_BLOCK_DIM = {"x": 1024, "y": 1024, "z": 64}
MAX_GRID_DIM = {"x": 2**31 - 1, "y": 65535, "z": 65535}
# Ops that may sit between the blockIdx loops at the top of a kernel (index arithmetic).
_PURE = ("arith.constant", "affine.apply")


def axis_of(op: ir.Operation) -> str | None:
    """The GPU axis loop `op` is bound to, or None."""
    if not nest.is_loop(op):
        return None
    kind = nest.loop_kind(op)
    return kind if kind in AXES else None


def is_bound(op: ir.Operation) -> bool:
    return axis_of(op) is not None


def has_binding(top: ir.Operation) -> bool:
    """Whether any loop of the nest rooted at `top` is bound to a GPU axis."""
    return any(axis_of(op) is not None for op in walk(top))


def top_level(op: ir.Operation) -> ir.Operation:
    """The op of the function body that holds `op` (its nest's root)."""
    while op.parent is not None and op.parent.name != "func.func":
        op = op.parent
    return op


def innermost_block_loop(op: ir.Operation) -> ir.Operation | None:
    """The innermost loop bound to blockIdx enclosing `op` (or `op` itself)."""
    current: ir.Operation | None = op
    while current is not None and current.name != "func.func":
        if (axis_of(current) or "").startswith("blockIdx"):
            return current
        current = current.parent
    return None


def block_loops(top: ir.Operation) -> list[ir.Operation]:
    """The loops bound to blockIdx perfectly nested at the top of the nest `top`."""
    chain: list[ir.Operation] = []
    current = top
    while (axis_of(current) or "").startswith("blockIdx") and (
        not chain or _perfect_parent(current)
    ):
        chain.append(current)
        inner = [o for o in nest.body_ops(current) if o.name not in _PURE]
        if len(inner) != 1:
            break
        current = inner[0]
    return chain


def thread_loops(top: ir.Operation) -> list[ir.Operation]:
    return [op for op in walk(top) if (axis_of(op) or "").startswith("threadIdx")]


def thread_extents(top: ir.Operation) -> dict[str, int]:
    """blockDim per axis letter ('x', 'y', 'z') of the kernel rooted at `top`: the largest
    extent of the loops bound to threadIdx.a (axes without loops are absent)."""
    dims: dict[str, int] = {}
    for loop in thread_loops(top):
        axis = axis_of(loop)[-1]  # type: ignore[index]
        dims[axis] = max(dims.get(axis, 1), nest.loop_extent(loop))
    return dims


def carried_reduction(loop: ir.Operation) -> str | None:
    """The name of a block under `loop` whose reduction variable the loop carries (or whose
    binding is not affine, so that it might), else None."""
    name = nest.loop_name(loop)
    for block in (op for op in walk(loop) if op.name == "tprog.block"):
        view = block.opview
        for value, kind in zip(view.iter_values, view.iter_types):
            expr = nest.binding_of(value)
            if kind == IterType.REDUCTION and (expr is None or name in expr.vars()):
                return view.block_name
    return None


def refuse_bound(op: ir.Operation, what: str) -> None:
    """Schedule primitives that restructure loops leave bound loops alone: bind last."""
    axis = axis_of(op)
    if axis is not None:
        raise ScheduleError(
            f"{what}: loop '{nest.loop_name(op)}' is bound to {axis}; restructure loops "
            "before binding them"
        )


def _descendant_loops(op: ir.Operation) -> list[ir.Operation]:
    return [o for o in walk(op) if o != op and nest.is_loop(o)]


def _perfect_parent(child: ir.Operation) -> bool:
    """Whether `child`'s parent loop holds only `child` (and index arithmetic)."""
    parent = child.parent
    return parent is not None and all(o == child or o.name in _PURE for o in nest.body_ops(parent))


def bind(op: ir.Operation, axis: str) -> None:
    """Bind loop `op` to GPU axis `axis` (checks in the module docstring)."""
    name = nest.loop_name(op)
    what = f"bind: loop '{name}'"
    if axis not in AXES:
        raise ScheduleError(
            f"{what}: unknown thread axis '{axis}'; expected one of {', '.join(AXES)}"
        )
    kind = nest.loop_kind(op)
    if kind in AXES:
        raise ScheduleError(f"{what} is already bound to {kind}")
    if kind != "serial":
        raise ScheduleError(f"{what} is {kind}; only a serial loop can be bound to {axis}")
    extent = nest.loop_extent(op)
    block = carried_reduction(op)
    if block is not None:
        raise ScheduleError(
            f"{what} carries a reduction variable of block '{block}': threads cannot share "
            "a reduction (split the reduction off, or bind a spatial loop)"
        )
    ancestors, descendants = nest.enclosing_loops(op), _descendant_loops(op)
    for other in ancestors + descendants:
        if axis_of(other) == axis:
            where = "encloses" if other in ancestors else "is inside"
            raise ScheduleError(
                f"{what}: loop '{nest.loop_name(other)}', bound to {axis} too, {where} it "
                "(one axis is bound once on a path)"
            )
    scope, dim = axis.split(".")
    if scope == "blockIdx":
        for other in ancestors:
            other_axis = axis_of(other) or ""
            if other_axis.startswith("threadIdx"):
                raise ScheduleError(
                    f"{what} is inside loop '{nest.loop_name(other)}' bound to {other_axis}: "
                    "blockIdx loops enclose the threadIdx loops"
                )
            if other_axis == "" and nest.loop_kind(other) != "serial":
                raise ScheduleError(
                    f"{what} is inside {nest.loop_kind(other)} loop '{nest.loop_name(other)}': "
                    "blockIdx loops are the outermost loops of their nest"
                )
        chain = [*ancestors, op]
        for child in chain[1:]:
            if not _perfect_parent(child):
                raise ScheduleError(
                    f"{what}: loop '{nest.loop_name(child.parent)}' holds more than loop "
                    f"'{nest.loop_name(child)}'; blockIdx loops are perfectly nested at the top "
                    "of their nest"
                )
        if extent > MAX_GRID_DIM[dim]:
            raise ScheduleError(
                f"{what} has {extent} iterations, over the limit of {MAX_GRID_DIM[dim]} blocks "
                f"along grid dimension {dim}"
            )
    else:
        for other in descendants:
            other_axis = axis_of(other) or ""
            if other_axis.startswith("blockIdx"):
                raise ScheduleError(
                    f"{what} encloses loop '{nest.loop_name(other)}' bound to {other_axis}: "
                    "threadIdx loops go inside the blockIdx loops"
                )
        if extent > MAX_BLOCK_DIM[dim]:
            raise ScheduleError(
                f"{what} has {extent} iterations, over the limit of {MAX_BLOCK_DIM[dim]} "
                f"threads along blockDim.{dim}"
            )
        dims = thread_extents(top_level(op))
        dims[dim] = max(dims.get(dim, 1), extent)
        threads = math.prod(dims.values())
        if threads > MAX_THREADS_PER_BLOCK:
            shape = "x".join(str(dims.get(a, 1)) for a in "xyz")
            raise ScheduleError(
                f"{what}: the kernel would have {threads} threads per block ({shape}), over the "
                f"limit of {MAX_THREADS_PER_BLOCK}"
            )
    op.attributes[LOOP_KIND] = ir.StringAttr.get(axis)


@dataclass(frozen=True)
class KernelInfo:
    """The launch shape of a kernel: grid and block sizes (x, y, z), and the bytes of the shared
    buffers (`memref.alloc` in `#gpu.address_space<workgroup>`) it holds."""

    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    shared_bytes: int


def is_workgroup(t: ir.Type) -> bool:
    return (
        isinstance(t, ir.MemRefType)
        and t.memory_space is not None
        and "workgroup" in str(t.memory_space)
    )


def _bytes(t: ir.MemRefType) -> int:
    element = t.element_type
    width = element.width if hasattr(element, "width") else 64  # index: 64 bits
    return math.prod(t.shape) * max(width, 8) // 8


def check_kernel(top: ir.Operation, *, max_threads: int = MAX_THREADS_PER_BLOCK) -> KernelInfo:
    """Check that the loop nest `top` (an op of a prim func's body) is a legal kernel, and give
    its launch shape; raises ScheduleError naming the loop and the rule it breaks."""
    if not nest.is_loop(top):
        raise ScheduleError(f"a kernel is a loop nest, not '{top.name}'")
    name = nest.loop_name(top)
    if not (axis_of(top) or "").startswith("blockIdx"):
        found = axis_of(top)
        why = f"is bound to {found}" if found else "is not bound"
        raise ScheduleError(
            f"loop nest '{name}': its outermost loop {why}; a kernel starts with the loops "
            "bound to blockIdx"
        )
    chain = block_loops(top)
    grid = {"x": 1, "y": 1, "z": 1}
    seen: set[str] = set()
    for loop in chain:
        axis = axis_of(loop)
        assert axis is not None
        if axis in seen:
            raise ScheduleError(f"loop '{nest.loop_name(loop)}': {axis} is bound twice")
        seen.add(axis)
        grid[axis[-1]] = nest.loop_extent(loop)
        if grid[axis[-1]] > MAX_GRID_DIM[axis[-1]]:
            raise ScheduleError(
                f"loop '{nest.loop_name(loop)}' has {grid[axis[-1]]} iterations, over the limit "
                f"of {MAX_GRID_DIM[axis[-1]]} blocks along grid dimension {axis[-1]}"
            )
    shared = 0
    for op in walk(chain[-1]):
        if op == chain[-1]:
            continue
        if nest.is_loop(op):
            _check_inner_loop(op)
        elif op.name == "gpu.barrier":
            _check_barrier(op)
        elif op.name == "memref.alloc" and is_workgroup(op.results[0].type):
            shared += _bytes(ir.MemRefType(op.results[0].type))
    dims = thread_extents(top)
    block = {a: dims.get(a, 1) for a in "xyz"}
    threads = math.prod(block.values())
    limit = min(max_threads, MAX_THREADS_PER_BLOCK)
    if threads > limit:
        raise ScheduleError(
            f"loop nest '{name}': {threads} threads per block "
            f"({block['x']}x{block['y']}x{block['z']}), over the limit of {limit}"
        )
    for a in "xyz":
        if block[a] > MAX_BLOCK_DIM[a]:
            raise ScheduleError(
                f"loop nest '{name}': blockDim.{a} = {block[a]}, over the limit of "
                f"{MAX_BLOCK_DIM[a]}"
            )
    return KernelInfo(
        (grid["x"], grid["y"], grid["z"]), (block["x"], block["y"], block["z"]), shared
    )


def _check_inner_loop(loop: ir.Operation) -> None:
    name = nest.loop_name(loop)
    axis = axis_of(loop)
    kind = nest.loop_kind(loop)
    if axis is None:
        if kind == "parallel":
            raise ScheduleError(
                f"loop '{name}' is parallel inside a kernel: bind it to threadIdx instead"
            )
        return
    if axis.startswith("blockIdx"):
        raise ScheduleError(
            f"loop '{name}' is bound to {axis} but is not among the blockIdx loops perfectly "
            "nested at the top of its kernel"
        )
    nest.loop_extent(loop)
    block = carried_reduction(loop)
    if block is not None:
        raise ScheduleError(
            f"loop '{name}' bound to {axis} carries a reduction variable of block '{block}'"
        )
    for other in nest.enclosing_loops(loop):
        if axis_of(other) == axis:
            raise ScheduleError(
                f"loop '{name}' is bound to {axis} inside loop '{nest.loop_name(other)}' bound "
                "to the same axis"
            )


def _check_barrier(op: ir.Operation) -> None:
    parent = op.parent
    while parent is not None and parent.name != "func.func":
        axis = axis_of(parent) or ""
        if axis.startswith("threadIdx"):
            raise ScheduleError(
                f"a gpu.barrier is inside loop '{nest.loop_name(parent)}' bound to {axis}: "
                "every thread of the block must reach it"
            )
        if not nest.is_loop(parent):
            raise ScheduleError(
                f"a gpu.barrier is inside '{parent.name}': every thread of the block must reach it"
            )
        parent = parent.parent


def add_unit_loop(fn: ir.Operation, op: ir.Operation) -> str:
    """Wrap loop or block `op` (with the index ops binding a block) in a new loop of one
    iteration; its name."""
    from strata.transforms.tprog.compute_at import _unique

    name = _unique(fn, "unit")
    moved = [op]
    if op.name == "tprog.block":
        moved = [
            v.owner.operation
            for v in op.operands
            if not isinstance(v.owner, ir.Block)
            and v.owner.operation.name == "affine.apply"
            and v.owner.operation.parent == op.parent
        ] + [op]
    with ir.InsertionPoint(moved[0]), op.location:
        loop = nest.make_loop(fn, name, 1)
    terminator = [o.operation for o in loop.regions[0].blocks[0].operations][-1]
    for o in moved:
        o.move_before(terminator)
    return name
