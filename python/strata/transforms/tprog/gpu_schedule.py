"""tprog-gpu-schedule: default GPU schedules (TVM dlight-style) for the loop nests of tensor
programs that no other schedule bound.

Input: tensor programs (after convert-graph-to-tprog and tprog-gpu-tensorize). Output: every
top-level loop nest of every prim func is a kernel (`bind.check_kernel` holds); nests that held
a binding already are left alone. Each schedule is written with the Schedule API, so it is a
replayable trace (option `trace-file` writes them, `tprog-apply-schedule` replays them):

- matmul / batched matmul blocks (`graph.matmul`, conv2d after im2col), any element type, of at
  least 32 x 32 outputs: block tiles of `matmul-tile` (m x n, k step; 64,64,8) on blockIdx.y/x,
  batch on blockIdx.z, (m/4) x (n/4) threads each accumulating a 4 x 4 micro-tile in registers
  (cache_write local), the A and B tiles of each k step in shared memory (cache_read shared,
  cooperative fetch, barriers); the elementwise epilogue of the fused function is inlined into
  the write-back; shapes that are not tile multiples run under the blocks' domain guards.
- reductions of at least 64 elements per row (softmax, log_softmax, layer_norm, reduce_*,
  global pooling; a full reduction is one row), with the nests of their function that work row
  by row (a row program: softmax's exp and divide, layer_norm's normalization): one kernel, a
  row per thread block (rows fused onto blockIdx.x) and T threads (a power of two, up to
  `max-threads`) sharing it. A reduction is split by T (`rfactor` over the threads: each thread
  accumulates a strided slice in a register), then `cross_thread_reduction` (the partials in
  shared memory, a tree of log2(T) steps with barriers, thread 0 writing the row's result); the
  other nests stride their row over the threads (a nest without inner loops runs on thread 0);
  `merge` makes the nests one kernel, barriers between them, when they use their buffers row
  by row.
- smaller matmuls and shorter reductions (pooling windows, softmax over a few elements): the
  spatial loops fused, split by `max-threads` onto blockIdx.x / threadIdx.x, the reduction
  serial per thread in a register (cache_write local) when the block allows it.
- everything else (elementwise, layout, im2col, pad, ...): the loops fused and split by
  `max-threads` onto blockIdx.x / threadIdx.x (grid.x may exceed 65535).
- a nest without a spatial loop (a full reduction to a scalar of fewer than 64 elements) runs
  on one thread: a unit loop bound to blockIdx.x (grid 1, block 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from mlir import ir

from strata.diagnostics import CompileError
from strata.dialects.tprog import PRIM_FUNC, IterType
from strata.irutil import functions, symbol_name, walk
from strata.passes import Pass, PipelineError
from strata.transforms.tprog import bind, nest
from strata.transforms.tprog.nest import ScheduleError
from strata.transforms.tprog.schedule import LoopRV, Schedule

MICRO = 4  # rows and columns of the micro-tile each thread accumulates
MIN_TILED = 32  # rows and columns a matmul needs for the tiled schedule
MIN_SHARED = 64  # elements per row from which the threads of a block share the reduction


@dataclass(frozen=True)
class Options:
    max_threads: int = field(
        default=256, metadata={"help": "threads per block of elementwise and reduction kernels"}
    )
    matmul_tile: tuple[int, ...] = field(
        default=(64, 64, 8),
        metadata={"help": "block tile of matmuls: rows, columns, k step (rows, columns: x4)"},
    )
    trace_file: str = field(default="", metadata={"help": "write the schedules' traces here"})

    def __post_init__(self) -> None:
        if not 1 <= self.max_threads <= bind.MAX_THREADS_PER_BLOCK:
            raise PipelineError(
                f"invalid value '{self.max_threads}' for option 'max-threads' of "
                f"'tprog-gpu-schedule': expected 1 to {bind.MAX_THREADS_PER_BLOCK}"
            )
        tile = self.matmul_tile
        if (
            len(tile) != 3
            or any(t < 1 for t in tile)
            or tile[0] % MICRO
            or tile[1] % MICRO
            or (tile[0] // MICRO) * (tile[1] // MICRO) > bind.MAX_THREADS_PER_BLOCK
            or tile[0] // MICRO > bind.MAX_BLOCK_DIM["y"]
        ):
            text = ",".join(map(str, tile))
            raise PipelineError(
                f"invalid value '{text}' for option 'matmul-tile' of 'tprog-gpu-schedule': "
                f"expected rows,columns,k with rows and columns multiples of {MICRO} and "
                f"(rows/{MICRO})*(columns/{MICRO}) <= {bind.MAX_THREADS_PER_BLOCK} threads"
            )


@dataclass
class _Matmul:
    batch: list[str]
    i: str
    j: str
    k: str
    m: int  # rows, columns, batch count
    n: int
    count: int
    lhs: ir.Value
    rhs: ir.Value


def _chain(top: ir.Operation) -> list[ir.Operation]:
    """The perfectly nested loops from `top` down (bodies holding one op besides bindings)."""
    chain = []
    current = top
    while nest.is_loop(current):
        chain.append(current)
        inner = [o for o in nest.body_ops(current) if o.name != "affine.apply"]
        if len(inner) != 1:
            break
        current = inner[0]
    return chain


def _match_matmul(block: ir.Operation) -> _Matmul | None:
    """C[b.., i, j] += A[.., i, k] * B[.., k, j] under its own loops, one per iteration value
    (any element type; A and B may be broadcast along the batch)."""
    view = block.opview
    types = view.iter_types
    if len(types) < 3 or types[-1] != IterType.REDUCTION or IterType.REDUCTION in types[:-1]:
        return None
    chain = nest.enclosing_loops(block)
    exprs = [nest.binding_of(v) for v in view.iter_values]
    if [str(e) for e in exprs] != [nest.loop_name(lp) for lp in chain]:
        return None
    args = list(view.body.arguments)
    vb, vi, vj, vk = args[:-3], args[-3], args[-2], args[-1]
    stores = [o for o in walk(block) if o.name == "memref.store"]
    if len({s.operands[1] for s in stores}) != 1:
        return None
    out = stores[0].operands[1]
    body_stores = [s for s in stores if s.block == view.body]
    if not body_stores or list(body_stores[-1].operands)[2:] != [*vb, vi, vj]:
        return None
    loads = [o for o in view.body.operations if o.operation.name == "memref.load"]
    lhs = [o.operands[0] for o in loads if list(o.operands)[-2:] == [vi, vk]]
    rhs = [o.operands[0] for o in loads if list(o.operands)[-2:] == [vk, vj]]
    if len(lhs) != 1 or len(rhs) != 1 or out in (lhs[0], rhs[0]):
        return None
    dom = view.dom
    names = [nest.loop_name(lp) for lp in chain]
    i, j, k = names[-3:]
    return _Matmul(names[:-3], i, j, k, dom[-3], dom[-2], math.prod(dom[:-3]), lhs[0], rhs[0])


@dataclass
class _RowNest:
    """A nest of a row program: its block, the loops of its rows (in the rows' order) and the
    others (in nest order); a reduction's other loops are its reduction loops."""

    block: str
    rows: list[str]
    inner: list[str]
    reduction: bool
    extent: int  # iterations of the inner loops


def _plain_loops(block: ir.Operation, indices: list[ir.Value]) -> list[str] | None:
    """The loops binding `indices` (variables of `block`), each one loop, all distinct."""
    args = list(block.opview.body.arguments) + list(block.opview.init.arguments)
    count = len(block.opview.iter_values)
    names = []
    for index in indices:
        if index not in args:
            return None
        expr = nest.binding_of(block.operands[args.index(index) % count])
        if expr is None or expr.op != "var":
            return None
        names.append(expr.args[0])
    return names if len(set(names)) == len(names) else None


def _row_program(tops: list[ir.Operation]) -> list[_RowNest] | None:
    """The nests `tops` as a row program, or None: a reduction of at least `MIN_SHARED`
    elements per row (no rows: a full reduction), and every nest working row by row (reductions
    over the same spatial domain; other nests reading or writing one of their results at plain
    loops, the rows)."""
    blocks: list[tuple[ir.Operation, list[ir.Operation]]] = []
    for top in tops:
        if top.name == "tprog.block":
            blocks.append((top, []))
            continue
        if not nest.is_loop(top) or bind.has_binding(top):
            return None
        chain = _chain(top)
        found = [b for b in walk(top) if b.name == "tprog.block"]
        if len(found) != 1 or found[0].parent != chain[-1] or _match_matmul(found[0]):
            return None  # matmuls keep their schedules: threads along k would not coalesce
        blocks.append((found[0], chain))
    anchor = None
    for block, _ in blocks:
        view = block.opview
        types = view.iter_types
        reduced = math.prod(d for d, t in zip(view.dom, types) if t == IterType.REDUCTION)
        if IterType.REDUCTION in types and reduced >= MIN_SHARED:
            anchor = view
            break
    if anchor is None:
        return None
    shape = [d for d, t in zip(anchor.dom, anchor.iter_types) if t == IterType.SPATIAL]
    outputs = []
    for block, _ in blocks:
        view = block.opview
        spatial = [d for d, t in zip(view.dom, view.iter_types) if t == IterType.SPATIAL]
        if IterType.REDUCTION in view.iter_types and spatial == shape and len(view.writes) == 1:
            outputs.append(view.writes[0])
    result = []
    for block, chain in blocks:
        view = block.opview
        extents = {nest.loop_name(lp): nest.loop_extent(lp) for lp in chain}
        rows = None
        for op in walk(block):
            if op.name not in ("memref.load", "memref.store"):
                continue
            first = 1 if op.name == "memref.load" else 2
            if op.operands[first - 1] in outputs:
                rows = _plain_loops(block, list(op.operands)[first:])
                if rows is not None:
                    break
        if rows is None or [extents[r] for r in rows] != shape:
            return None
        inner = [n for n in extents if n not in rows]
        reduction = IterType.REDUCTION in view.iter_types
        if reduction and any(
            bind.carried_reduction(lp) is None for lp in chain if nest.loop_name(lp) in inner
        ):
            return None
        size = math.prod(extents[n] for n in inner)
        result.append(_RowNest(view.block_name, rows, inner, reduction, size))
    return result


def _power_of_two_below(n: int) -> int:
    return 1 << (max(n, 1).bit_length() - 1)


def _spatial_loops(chain: list[ir.Operation]) -> tuple[list[str], list[str]]:
    spatial = [nest.loop_name(lp) for lp in chain if bind.carried_reduction(lp) is None]
    other = [nest.loop_name(lp) for lp in chain if nest.loop_name(lp) not in spatial]
    return spatial, other


class _Scheduler:
    def __init__(self, sch: Schedule, options: Options):
        self.sch = sch
        self.options = options

    def nest(self, top: ir.Operation) -> None:
        blocks = [b for b in walk(top) if b.name == "tprog.block"]
        if not nest.is_loop(top):  # a block in no loop
            self.single_thread(top, blocks)
            return
        chain = _chain(top)
        single = len(blocks) == 1 and blocks[0].parent == chain[-1]
        if single:
            match = _match_matmul(blocks[0])
            if match is not None and self._tiles(match):
                self.matmul(blocks[0].opview.block_name, match)
                return
        if single and IterType.REDUCTION in blocks[0].opview.iter_types:
            shared = self.shared_reduction(top)
            if shared is not None:
                self.rows([shared])
                return
        spatial, other = _spatial_loops(chain)
        names = [nest.loop_name(lp) for lp in chain]
        if single and spatial and other and names != spatial + other:
            self.sch.reorder(*spatial, *other)  # one block: its reduction loops go inside
        elif not single:  # several blocks: only the leading spatial loops are theirs to share
            spatial = names[: next((k for k, n in enumerate(names) if n not in spatial), 0)]
        if not spatial:
            self.single_thread(top, blocks)
            return
        self.threads(spatial, self.options.max_threads)
        if len(blocks) == 1 and IterType.REDUCTION in blocks[0].opview.iter_types:
            self.registers(blocks[0].opview.block_name)

    def rows(self, nests: list[_RowNest]) -> None:
        """One kernel for the rows of a row program: each row on a thread block (blockIdx.x),
        its threads sharing the row: reductions split across them (rfactor, partials in
        registers, a cross-thread tree in shared memory), the other nests' elements strided
        over them, a nest without inner loops on one thread; the nests merged into one kernel
        when they use their buffers row by row."""
        sch = self.sch
        largest = max(n.extent for n in nests if n.reduction)
        threads = min(_power_of_two_below(self.options.max_threads), _power_of_two_below(largest))
        kernels = []
        for n in nests:
            loops = [nest.loop_name(lp) for lp in nest.enclosing_loops(sch._block_op(n.block))]
            if loops != n.rows + n.inner:
                sch.reorder(*n.rows, *n.inner)
            if n.rows:
                row = sch.fuse(*n.rows) if len(n.rows) > 1 else LoopRV(n.rows[0])
            else:  # a full reduction: one row
                row = sch.add_unit_loop(n.inner[0] if n.inner else n.block)
            sch.bind(row, "blockIdx.x")
            kernels.append(row)
            if not n.inner:
                sch.bind(sch.add_unit_loop(n.block), "threadIdx.x")
                continue
            inner = sch.fuse(*n.inner) if len(n.inner) > 1 else LoopRV(n.inner[0])
            count = min(threads, _power_of_two_below(n.extent))
            serial, lanes = sch.split(inner, [None, count])
            sch.reorder(lanes, serial)
            if n.reduction:
                rf = sch.rfactor(n.block, lanes)
                sch.bind(lanes, "threadIdx.x")
                try:
                    sch.cache_write(rf, 0, "local")
                except ScheduleError:
                    pass  # the partial is computed in one step: no accumulator
                sch.cross_thread_reduction(n.block)
            else:
                sch.bind(lanes, "threadIdx.x")
        if len(kernels) > 1:
            try:
                sch.merge(*kernels)
            except ScheduleError:
                pass  # separate kernels, one per nest

    def _tiles(self, match: _Matmul) -> bool:
        tm, tn, _ = self.options.matmul_tile
        return (
            match.m >= MIN_TILED
            and match.n >= MIN_TILED
            and -(-match.m // tm) <= bind.MAX_GRID_DIM["y"]
            and match.count <= bind.MAX_GRID_DIM["z"]
        )

    def shared_reduction(self, top: ir.Operation) -> _RowNest | None:
        """A reduction nest alone as a row program (rows: its spatial loops, none for a full
        reduction), when a row has at least `MIN_SHARED` elements."""
        if self.options.max_threads < 2:
            return None
        program = _row_program([top])
        return program[0] if program else None

    def threads(self, loops: list[str], limit: int) -> None:
        """Fuse `loops` (outermost first, perfectly nested) and split onto blocks of threads."""
        sch = self.sch
        fused = sch.fuse(*loops) if len(loops) > 1 else loops[0]
        extent = nest.loop_extent(sch._loop_op(fused))
        blocks, threads = sch.split(fused, [None, min(limit, extent)])
        sch.bind(blocks, "blockIdx.x")
        sch.bind(threads, "threadIdx.x")

    def single_thread(self, top: ir.Operation, blocks: list[ir.Operation]) -> None:
        target = nest.loop_name(top) if nest.is_loop(top) else top.opview.block_name
        unit = self.sch.add_unit_loop(target)
        self.sch.bind(unit, "blockIdx.x")
        if len(blocks) == 1 and IterType.REDUCTION in blocks[0].opview.iter_types:
            self.registers(blocks[0].opview.block_name)

    def registers(self, block: str) -> str | None:
        """Accumulate reduction `block` in registers, its elementwise consumers inlined."""
        try:
            wb = self.sch.cache_write(block, 0, "local")
        except ScheduleError:
            return None
        self.epilogue(str(wb))
        return str(wb)

    def inline_elementwise(self) -> None:
        """Fold elementwise blocks writing temporaries into the blocks reading them (one kernel
        and no temporary per chain), except into nests already bound."""
        for name in [b.opview.block_name for b in nest.blocks_in(self.sch.fn)]:
            block = _find_block(self.sch.fn, name)
            if block is None:
                continue
            writes = block.opview.writes
            if bind.has_binding(bind.top_level(block)) or len(writes) != 1:
                continue
            readers = [
                op.parent
                for op in walk(self.sch.fn)
                if op.name == "memref.load" and op.operands[0] == writes[0]
            ]
            if any(r is None or bind.has_binding(bind.top_level(r)) for r in readers):
                continue
            try:
                self.sch.compute_inline(name)
            except ScheduleError:
                pass

    def epilogue(self, wb: str) -> None:
        """Inline the chain of elementwise blocks reading what `wb` writes into it."""
        while True:
            out = self.sch._block_op(wb).opview.writes[0]
            readers = {
                op.parent
                for op in walk(self.sch.fn)
                if op.name == "memref.load"
                and op.operands[0] == out
                and op.parent is not None
                and op.parent.name == "tprog.block"
            }
            if len(readers) != 1:
                return
            try:
                self.sch.reverse_compute_inline(readers.pop().opview.block_name)
            except ScheduleError:
                return

    def matmul(self, block: str, match: _Matmul) -> None:
        sch = self.sch
        tm, tn, tk = self.options.matmul_tile
        batch = None
        if match.batch:
            batch = sch.fuse(*match.batch) if len(match.batch) > 1 else match.batch[0]
        by, ty, ii = sch.split(match.i, [None, tm // MICRO, MICRO])
        bx, tx, ji = sch.split(match.j, [None, tn // MICRO, MICRO])
        ko, ki = sch.split(match.k, [None, tk])
        outer = [batch] if batch is not None else []
        sch.reorder(*outer, by, bx, ko, ty, tx, ki, ii, ji)
        if batch is not None:
            sch.bind(batch, "blockIdx.z")
        sch.bind(by, "blockIdx.y")
        sch.bind(bx, "blockIdx.x")
        sch.bind(ty, "threadIdx.y")
        sch.bind(tx, "threadIdx.x")
        sch.unroll(ki)
        sch.unroll(ii)
        sch.unroll(ji)
        self.registers(block)
        if match.lhs == match.rhs:
            return  # x @ x: one buffer read along two tiles, from global memory
        reads = sch._block_op(block).opview.reads
        a = sch.cache_read(block, reads.index(match.lhs), "shared")
        reads = sch._block_op(block).opview.reads
        b = sch.cache_read(block, reads.index(match.rhs), "shared")
        for cache in (a, b):
            sch.compute_at(cache, ko)
            sch.cooperative_fetch(cache)


def default_schedule(
    module: ir.Module | ir.Operation, func_name: str, options: Options | None = None
) -> Schedule:
    """Give every unbound top-level loop nest of tensor program `func_name` its default GPU
    schedule; the Schedule (its `trace` replays the same on a fresh copy)."""
    options = options or Options()
    sch = Schedule(module, func_name)
    scheduler = _Scheduler(sch, options)
    scheduler.inline_elementwise()
    scheduled = []
    keys = _nest_keys(sch.fn)
    tops = [_find_nest(sch.fn, key) for key in keys]
    program = None
    if len(keys) > 1 and options.max_threads > 1:
        program = _row_program(tops)  # type: ignore[arg-type]
    if program is not None:
        try:
            scheduler.rows(program)
        except ScheduleError as e:
            raise CompileError(
                f"tprog-gpu-schedule: no GPU schedule for the row program '{func_name}': {e}",
                sch.fn.location,
            ) from None
        scheduled, keys = keys, []
    for key in keys:
        top = _find_nest(sch.fn, key)
        if top is None or bind.has_binding(top):
            continue  # inlined into another nest, or bound by an earlier pass
        try:
            scheduler.nest(top)
        except ScheduleError as e:
            raise CompileError(
                f"tprog-gpu-schedule: no GPU schedule for the nest of block '{key}' in "
                f"'{func_name}': {e}",
                top.location,
            ) from None
        scheduled.append(key)
    for key in scheduled:
        top = _find_nest(sch.fn, key)
        if top is not None:
            try:
                bind.check_kernel(top)
            except ScheduleError as e:
                raise CompileError(f"tprog-gpu-schedule: {e}", top.location) from None
    return sch


def _function_ops(fn: ir.Operation) -> list[ir.Operation]:
    return [op.operation for op in fn.regions[0].blocks[0].operations]


def _nest_keys(fn: ir.Operation) -> list[str]:
    """A block name per top-level nest (names survive the rewrites of earlier nests)."""
    keys = []
    for op in _function_ops(fn):
        blocks = [b for b in walk(op) if b.name == "tprog.block"]
        if blocks and (nest.is_loop(op) or op.name == "tprog.block"):
            keys.append(blocks[0].opview.block_name)
    return keys


def _find_block(fn: ir.Operation, name: str) -> ir.Operation | None:
    return next((b for b in nest.blocks_in(fn) if b.opview.block_name == name), None)


def _find_nest(fn: ir.Operation, key: str) -> ir.Operation | None:
    block = _find_block(fn, key)
    return None if block is None else bind.top_level(block)


class TprogGpuSchedulePass(Pass):
    """Give every loop nest of tensor programs without a GPU binding a default GPU schedule"""

    argument = "tprog-gpu-schedule"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        traces = []
        for fn in functions(module):
            if PRIM_FUNC not in fn.attributes or not fn.regions[0].blocks:
                continue
            if not _nest_keys(fn):
                continue
            sch = default_schedule(module, symbol_name(fn), self.options)
            if sch.trace.instructions:
                traces.append(str(sch.trace))
        if self.options.trace_file:
            path = Path(self.options.trace_file)
            try:
                path.write_text("".join(traces))
            except OSError as e:
                raise CompileError(
                    f"cannot write schedule traces to '{path}': {e.strerror}", module.location
                ) from None
