"""compute_inline and reverse_compute_inline: fold an elementwise block into its consumers or
its producer (TensorIR's primitives), on the `tprog` IR.

A block qualifies when it is spatial, has no init, and ends with one store of its result at
exactly its iteration variables (`buf[v0, v1, ...] = f(...)`).
"""

from __future__ import annotations

from mlir import ir

from strata.dialects.tprog import IterType
from strata.irutil import erase, walk
from strata.transforms.tprog import nest
from strata.transforms.tprog.nest import ScheduleError


def _name(block: ir.Operation) -> str:
    return ir.StringAttr(block.attributes["name"]).value


def _body(block: ir.Operation) -> list[ir.Operation]:
    return [op.operation for op in block.regions[1].blocks[0].operations][:-1]


def _elementwise_store(block: ir.Operation, what: str) -> ir.Operation:
    """The final store of a spatial block that writes its result at its own iteration point."""
    view = block.opview
    if IterType.REDUCTION in view.iter_types:
        raise ScheduleError(f"{what}: block '{_name(block)}' is a reduction")
    if len(list(view.init.operations)) > 1:
        raise ScheduleError(f"{what}: block '{_name(block)}' has an init")
    body = _body(block)
    stores = [op for op in body if op.name == "memref.store"]
    if len(stores) != 1 or body[-1].name != "memref.store":
        raise ScheduleError(f"{what}: block '{_name(block)}' must end with its only store")
    if list(stores[0].operands)[2:] != list(view.body.arguments):
        raise ScheduleError(
            f"{what}: block '{_name(block)}' does not store at exactly its iteration variables"
        )
    if any(op.regions for op in body):
        raise ScheduleError(f"{what}: block '{_name(block)}' has nested regions in its body")
    return stores[0]


def _local_buffer(buffer: ir.Value, block: ir.Operation, what: str) -> None:
    owner = buffer.owner
    if isinstance(owner, ir.Block) or owner.operation.name != "memref.alloc":
        raise ScheduleError(
            f"{what}: block '{_name(block)}' writes a buffer that is not local to the function"
        )


def _clone_before(
    ops: list[ir.Operation], mapping: dict[ir.Value, ir.Value], before: ir.Operation
) -> None:
    """Clone `ops` before `before`, remapping operands through `mapping` (extended in place)."""
    for op in ops:
        new = op.clone(ip=ir.InsertionPoint(before)).operation
        for i, operand in enumerate(list(new.operands)):
            if operand in mapping:
                new.operands[i] = mapping[operand]
        for old, fresh in zip(op.results, new.results):
            mapping[old] = fresh


def _erase_nest(block: ir.Operation) -> None:
    """Erase `block` with the loops (and binding ops) that hold nothing else."""
    top = block
    while top.parent is not None and nest.is_loop(top.parent):
        others = [o for o in nest.body_ops(top.parent) if o.name != "affine.apply" and o != top]
        if others:
            break
        top = top.parent
    if top is block:
        applies = [v.owner.operation for v in block.operands if not isinstance(v.owner, ir.Block)]
        erase(block)
        for op in applies:
            if op.name == "affine.apply" and not list(op.results[0].uses):
                erase(op)
    else:
        top.erase()


def _readers(fn: ir.Operation, buffer: ir.Value) -> list[ir.Operation]:
    return [op for op in walk(fn) if op.name == "memref.load" and op.operands[0] == buffer]


def compute_inline(fn: ir.Operation, block: ir.Operation) -> None:
    what = "compute_inline"
    store = _elementwise_store(block, what)
    buffer = store.operands[1]
    _local_buffer(buffer, block, what)
    loads = _readers(fn, buffer)
    writers = [op for op in walk(fn) if op.name == "memref.store" and op.operands[1] == buffer]
    if len(writers) != 1:
        raise ScheduleError(
            f"{what}: buffer of block '{_name(block)}' is written by other blocks too"
        )
    if not loads:
        raise ScheduleError(f"{what}: nothing reads the result of block '{_name(block)}'")
    for load in loads:
        if load.parent is None or load.parent.name != "tprog.block":
            raise ScheduleError(
                f"{what}: the result of block '{_name(block)}' is read outside a block"
            )
    args = list(block.regions[1].blocks[0].arguments)
    compute = _body(block)[:-1]
    for load in loads:
        mapping = dict(zip(args, list(load.operands)[1:]))
        _clone_before(compute, mapping, load)
        load.results[0].replace_all_uses_with(mapping.get(store.operands[0], store.operands[0]))
        erase(load)
    _erase_nest(block)


def reverse_compute_inline(fn: ir.Operation, block: ir.Operation) -> None:
    what = "reverse_compute_inline"
    consumer_store = _elementwise_store(block, what)
    args = list(block.regions[1].blocks[0].arguments)
    body = _body(block)
    locals_read = [
        op
        for op in body
        if op.name == "memref.load"
        and not isinstance(op.operands[0].owner, ir.Block)
        and op.operands[0].owner.operation.name == "memref.alloc"
    ]
    if len(locals_read) != 1:
        raise ScheduleError(f"{what}: block '{_name(block)}' must read exactly one local buffer")
    load = locals_read[0]
    buffer = load.operands[0]
    index = list(load.operands)[1:]
    if len(index) != len(args) or any(sum(v == a for v in index) != 1 for a in args):
        raise ScheduleError(
            f"{what}: block '{_name(block)}' reads its producer at other points than its own"
        )
    producers = [op for op in walk(fn) if op.name == "memref.store" and op.operands[1] == buffer]
    if len(producers) != 1 or producers[0].parent.name != "tprog.block":
        raise ScheduleError(f"{what}: the buffer block '{_name(block)}' reads has several writers")
    if len(_readers(fn, buffer)) != 1:
        raise ScheduleError(f"{what}: another block reads the buffer of block '{_name(block)}'")
    producer_store = producers[0]
    producer = producer_store.parent
    _elementwise_store(producer, what)
    # The consumer's variable read at position k is the producer's index k.
    producer_index = list(producer_store.operands)[2:]
    consumer_dom, producer_dom = block.opview.dom, producer.opview.dom
    for position, value in enumerate(index):
        if consumer_dom[args.index(value)] != producer_dom[position]:
            raise ScheduleError(
                f"{what}: block '{_name(block)}' and its producer iterate over different domains"
            )
    mapping: dict[ir.Value, ir.Value] = {}
    for position, value in enumerate(index):
        mapping[value] = producer_index[position]
    mapping[load.results[0]] = producer_store.operands[0]
    _clone_before([op for op in body if op != load], mapping, producer_store)
    erase(producer_store)
    del consumer_store
    _erase_nest(block)
