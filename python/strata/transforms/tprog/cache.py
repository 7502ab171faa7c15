"""cache_read and cache_write: route a block's reads (or writes) of a buffer through a new local
buffer, with a copy block in front of (or after) the block's loop nest (TensorIR's primitives).

Scopes: "global" (a `memref.alloc` of the buffer's shape in the function), "shared" for reads
(the same, in `#gpu.address_space<workgroup>`; `compute_at` under a kernel's loop then shrinks it
to a tile, see gpu_cache.py) and "local" for writes (per-thread registers, gpu_cache.py)."""

from __future__ import annotations

from mlir import ir
from mlir.dialects import memref

from strata.conversions.tprog_builder import emit_block, uniquify_loop_names
from strata.dialects.tprog import IterType
from strata.irutil import walk
from strata.transforms.tprog.nest import ScheduleError

READ_SCOPES = ("global", "shared")
WRITE_SCOPES = ("global", "local")


def check_scope(scope: str, scopes: tuple[str, ...], what: str) -> None:
    if scope not in scopes:
        raise ScheduleError(f"{what}: unknown scope '{scope}'; expected one of {', '.join(scopes)}")


def _name(block: ir.Operation) -> str:
    return ir.StringAttr(block.attributes["name"]).value


def _top_nest(block: ir.Operation) -> ir.Operation:
    """The outermost loop around `block` (or the block itself) at the function's top level."""
    top = block
    while top.parent is not None and top.parent.name != "func.func":
        top = top.parent
    return top


def _accesses(block: ir.Operation, buffer: ir.Value, kinds: tuple[str, ...]) -> list[ir.Operation]:
    found = []
    for op in walk(block):
        if op.name == "memref.load" and "load" in kinds and op.operands[0] == buffer:
            found.append(op)
        if op.name == "memref.store" and "store" in kinds and op.operands[1] == buffer:
            found.append(op)
    return found


def _copy_block(name: str, src: ir.Value, dst: ir.Value) -> None:
    shape = list(dst.type.shape)

    def copy(v: list[ir.Value]) -> None:
        memref.StoreOp(memref.LoadOp(src, v).result, dst, v)

    emit_block(
        name, [f"ax{d}" for d in range(len(shape))], shape, [IterType.SPATIAL] * len(shape), copy
    )


def _buffer(block: ir.Operation, index: int, what: str, kind: str) -> ir.Value:
    view = block.opview
    buffers = view.reads if kind == "read" else view.writes
    if not 0 <= index < len(buffers):
        raise ScheduleError(
            f"{what}: block '{_name(block)}' {kind}s {len(buffers)} buffers; "
            f"index {index} is out of range"
        )
    buffer = buffers[index]
    if not isinstance(buffer.type, ir.MemRefType) or not buffer.type.has_static_shape:
        raise ScheduleError(f"{what}: buffer {index} of block '{_name(block)}' has no static shape")
    return buffer


def _local_buffer(like: ir.Value, scope: str = "global") -> ir.Value:
    shape, element = list(like.type.shape), like.type.element_type
    if scope == "shared":
        from strata.transforms.tprog.gpu_cache import workgroup_memref

        return memref.AllocOp(workgroup_memref(shape, element), [], []).result
    return memref.AllocOp(ir.MemRefType.get(shape, element), [], []).result


def _after(op: ir.Operation) -> ir.InsertionPoint:
    """An insertion point right after `op` in its block."""
    ops = [o.operation for o in op.block.operations]
    position = ops.index(op)
    return (
        ir.InsertionPoint(ops[position + 1])
        if position + 1 < len(ops)
        else ir.InsertionPoint(op.block)
    )


def erase_dead_buffers(fn: ir.Operation) -> None:
    """Erase the function's temporaries nothing uses any more (an inlined block's result)."""
    for op in [o.operation for o in fn.regions[0].blocks[0].operations]:
        if op.name == "memref.alloc" and not list(op.results[0].uses):
            op.erase()


def cache_read(fn: ir.Operation, block: ir.Operation, index: int, scope: str = "global") -> str:
    check_scope(scope, READ_SCOPES, "cache_read")
    buffer = _buffer(block, index, "cache_read", "read")
    name = f"{_name(block)}_read_cache_{index}"
    with ir.InsertionPoint(_top_nest(block)), block.location:
        cache = _local_buffer(buffer, scope)
        _copy_block(name, buffer, cache)
    for load in _accesses(block, buffer, ("load",)):
        load.operands[0] = cache
    uniquify_loop_names(fn)
    return name


def cache_write(fn: ir.Operation, block: ir.Operation, index: int, scope: str = "global") -> str:
    check_scope(scope, WRITE_SCOPES, "cache_write")
    if scope == "local":
        from strata.transforms.tprog.gpu_registers import cache_write_local

        return cache_write_local(fn, block, index)
    buffer = _buffer(block, index, "cache_write", "write")
    name = f"{_name(block)}_write_cache_{index}"
    top = _top_nest(block)
    with ir.InsertionPoint(top), block.location:
        cache = _local_buffer(buffer)
    for access in _accesses(block, buffer, ("load", "store")):
        access.operands[0 if access.name == "memref.load" else 1] = cache
    with _after(top), block.location:
        _copy_block(name, cache, buffer)
    uniquify_loop_names(fn)
    return name
