"""Schedules of tensor programs: TensorIR's primitives acting on the `tprog` IR itself.

>>> sch = Schedule(module, "matmul")
>>> block = sch.get_block("matmul")
>>> i, j, k = sch.get_loops(block)
>>> i0, i1 = sch.split(i, [None, 8])
>>> sch.reorder(i0, j, k, i1)
>>> sch.parallel(i0)
>>> print(sch)                       # the function after each step
>>> print(sch.trace)                 # replayable on a fresh copy: Trace.parse(text).apply(...)

Loops and blocks are named; handles (`LoopRV`, `BlockRV`) hold names, so a trace replays on any
copy of the function. Every primitive checks its preconditions and raises `ScheduleError` naming
the block or loop.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from mlir import ir

from strata.dialects.tprog import PRIM_FUNC, IterType
from strata.irutil import functions, symbol_name, walk
from strata.transforms.tprog import (
    bind,
    blockize,
    cache,
    compute_at,
    gpu_cache,
    gpu_reduction,
    inline,
    loops,
    nest,
    reduction,
)
from strata.transforms.tprog.nest import LOOP_KIND, ScheduleError
from strata.transforms.tprog.trace import Instruction, Trace


@dataclass(frozen=True)
class BlockRV:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class LoopRV:
    name: str

    def __str__(self) -> str:
        return self.name


class IntRV(int):
    """A sampled integer; the trace refers to it by name so tuning can change the decision."""

    rv_name: str


def _primitive(method):
    """Run a primitive with the function's context and location as defaults."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.fn.context, self.fn.location:
            return method(self, *args, **kwargs)

    return wrapper


class Schedule:
    """Schedule the tensor program `func_name` of `module` (the only one when not given)."""

    def __init__(
        self, module: ir.Module | ir.Operation, func_name: str | None = None, *, seed: int = 0
    ):
        self.module = module.operation
        prims = [f for f in functions(self.module) if PRIM_FUNC in f.attributes]
        if func_name is None:
            if len(prims) != 1:
                names = ", ".join(symbol_name(f) for f in prims) or "none"
                raise ScheduleError(f"the module has several tensor programs ({names}); name one")
            func_name = symbol_name(prims[0])
        matches = [f for f in prims if symbol_name(f) == func_name]
        if not matches:
            raise ScheduleError(f"no tensor program named '{func_name}'")
        self.fn = matches[0]
        self.func_name = func_name
        self.trace = Trace(func_name)
        self._rng = random.Random(seed)
        self._counter = 0

    def __str__(self) -> str:
        return self.fn.get_asm(large_elements_limit=16)

    # --- lookup ------------------------------------------------------------------------------
    def _block_op(self, block: BlockRV | str) -> ir.Operation:
        name = str(block)
        found = [
            b for b in nest.blocks_in(self.fn) if ir.StringAttr(b.attributes["name"]).value == name
        ]
        if not found:
            raise ScheduleError(f"no block named '{name}' in '{self.func_name}'")
        if len(found) > 1:
            raise ScheduleError(f"several blocks are named '{name}' in '{self.func_name}'")
        return found[0]

    def _loop_op(self, loop: LoopRV | str) -> ir.Operation:
        name = str(loop)
        found = [op for op in walk(self.fn) if nest.is_loop(op) and nest.loop_name(op) == name]
        if not found:
            raise ScheduleError(f"no loop named '{name}' in '{self.func_name}'")
        if len(found) > 1:
            raise ScheduleError(f"several loops are named '{name}' in '{self.func_name}'")
        return found[0]

    def _record(self, kind: str, inputs: dict, outputs: Sequence = ()) -> None:
        self.trace.append(Instruction(kind, inputs, [str(o) for o in outputs]))

    # --- getters ------------------------------------------------------------------------------
    @_primitive
    def get_block(self, name: str) -> BlockRV:
        self._block_op(name)
        rv = BlockRV(name)
        self._record("get_block", {"name": name}, [rv])
        return rv

    @_primitive
    def get_loops(self, block: BlockRV | str) -> list[LoopRV]:
        loops = [LoopRV(nest.loop_name(op)) for op in nest.enclosing_loops(self._block_op(block))]
        self._record("get_loops", {"block": BlockRV(str(block))}, loops)
        return loops

    # --- loop transformations -----------------------------------------------------------------
    @_primitive
    def split(self, loop: LoopRV | str, factors: Sequence[int | None]) -> list[LoopRV]:
        """Split `loop` into nested loops of the given extents (one may be None: inferred).
        A product larger than the extent leaves a tail that the block's domain guards."""
        op = self._loop_op(loop)
        bind.refuse_bound(op, "split")
        names = loops.split(self.fn, op, factors)
        outs = [LoopRV(n) for n in names]
        self._record("split", {"loop": LoopRV(str(loop)), "factors": list(factors)}, outs)
        return outs

    @_primitive
    def reorder(self, *order: LoopRV | str) -> None:
        """Permute loops `order` (a perfect nest) into the given order, outermost first."""
        ops = [self._loop_op(lp) for lp in order]
        for op in ops:
            bind.refuse_bound(op, "reorder")
        loops.reorder(self.fn, ops)
        self._record("reorder", {"loops": [LoopRV(str(lp)) for lp in order]})

    @_primitive
    def fuse(self, *order: LoopRV | str) -> LoopRV:
        """Fuse consecutive perfectly nested loops (outermost first) into one."""
        if len(order) < 2:
            raise ScheduleError("fuse needs at least 2 loops")
        ops = [self._loop_op(lp) for lp in order]
        for op in ops:
            bind.refuse_bound(op, "fuse")
        rv = LoopRV(loops.fuse(self.fn, ops))
        self._record("fuse", {"loops": [LoopRV(str(lp)) for lp in order]}, [rv])
        return rv

    # --- annotations ----------------------------------------------------------------------------
    def _blocks_under(self, op: ir.Operation) -> list[ir.Operation]:
        return [b for b in walk(op) if b.name == "tprog.block"]

    def _check_spatial_only(self, loop: LoopRV | str, what: str) -> ir.Operation:
        op = self._loop_op(loop)
        bind.refuse_bound(op, what)
        name = str(loop)
        for block in self._blocks_under(op):
            blk = block.opview
            for value, kind in zip(blk.iter_values, blk.iter_types):
                expr = nest.binding_of(value)
                if kind == IterType.REDUCTION and (expr is None or name in expr.vars()):
                    raise ScheduleError(
                        f"{what}: loop '{name}' carries reduction variable of block "
                        f"'{blk.block_name}'"
                    )
        return op

    @_primitive
    def parallel(self, loop: LoopRV | str) -> None:
        """Run the iterations of `loop` in parallel (it must bind only spatial variables)."""
        op = self._check_spatial_only(loop, "parallel")
        op.attributes[LOOP_KIND] = ir.StringAttr.get("parallel")
        self._record("parallel", {"loop": LoopRV(str(loop))})

    @_primitive
    def vectorize(self, loop: LoopRV | str) -> None:
        """Vectorize the innermost loop `loop` (spatial variables only)."""
        op = self._check_spatial_only(loop, "vectorize")
        if any(nest.is_loop(o) for o in nest.body_ops(op)):
            raise ScheduleError(f"vectorize: loop '{loop}' is not innermost")
        op.attributes[LOOP_KIND] = ir.StringAttr.get("vectorized")
        self._record("vectorize", {"loop": LoopRV(str(loop))})

    @_primitive
    def bind(self, loop: LoopRV | str, thread_axis: str) -> None:
        """Bind `loop` to a GPU axis: blockIdx.x/y/z or threadIdx.x/y/z (legality rules in
        bind.py: spatial loops only, blockIdx loops outermost, thread and grid limits)."""
        bind.bind(self._loop_op(loop), thread_axis)
        self._record("bind", {"loop": LoopRV(str(loop)), "thread_axis": thread_axis})

    @_primitive
    def add_unit_loop(self, block_or_loop: BlockRV | LoopRV | str) -> LoopRV:
        """Wrap a loop or a block in a new loop of one iteration (e.g. to bind a nest that has
        no spatial loop to blockIdx.x: a kernel of one thread)."""
        name = str(block_or_loop)
        loop_names = {nest.loop_name(o) for o in walk(self.fn) if nest.is_loop(o)}
        blocks = [b for b in nest.blocks_in(self.fn) if b.opview.block_name == name]
        if name in loop_names and blocks:
            raise ScheduleError(f"add_unit_loop: '{name}' names both a loop and a block")
        op = self._loop_op(name) if name in loop_names else self._block_op(name)
        rv = LoopRV(bind.add_unit_loop(self.fn, op))
        self._record("add_unit_loop", {"block_or_loop": name}, [rv])
        return rv

    @_primitive
    def cooperative_fetch(self, block: BlockRV | str) -> list[LoopRV]:
        """Share the copy of spatial `block` (e.g. a shared cache's fetch) among the threads of
        its kernel: fuse its loops, split the result exactly by the thread extents and bind the
        parts to threadIdx.z/y/x; the new loops, outermost first."""
        names = gpu_cache.cooperative_fetch(self.fn, self._block_op(block))
        outs = [LoopRV(n) for n in names]
        self._record("cooperative_fetch", {"block": BlockRV(str(block))}, outs)
        return outs

    @_primitive
    def unroll(self, loop: LoopRV | str) -> None:
        """Unroll `loop` fully."""
        op = self._loop_op(loop)
        bind.refuse_bound(op, "unroll")
        op.attributes[LOOP_KIND] = ir.StringAttr.get("unrolled")
        self._record("unroll", {"loop": LoopRV(str(loop))})

    # --- blocks -------------------------------------------------------------------------------
    @_primitive
    def decompose_reduction(self, block: BlockRV | str, loop: LoopRV | str) -> BlockRV:
        """Move the init of reduction block `block` into its own block `<name>_init`, placed
        before `loop` under copies of the loops inside it that bind spatial variables."""
        name = reduction.decompose_reduction(self.fn, self._block_op(block), self._loop_op(loop))
        rv = BlockRV(name)
        self._record(
            "decompose_reduction", {"block": BlockRV(str(block)), "loop": LoopRV(str(loop))}, [rv]
        )
        return rv

    @_primitive
    def rfactor(self, block: BlockRV | str, loop: LoopRV | str) -> BlockRV:
        """Split reduction block `block` (`out = combine(out, value)`: add, mul, max, min) over
        loop `loop`: a new block `<name>_rf` computes one partial result per iteration of `loop`
        (which then binds a spatial variable: it can be bound to threads), and `block` combines
        the partials in a nest of its own after its reduction loops. The rf block."""
        name = reduction.rfactor(self.fn, self._block_op(block), self._loop_op(loop))
        rv = BlockRV(name)
        self._record("rfactor", {"block": BlockRV(str(block)), "loop": LoopRV(str(loop))}, [rv])
        return rv

    @_primitive
    def cross_thread_reduction(self, block: BlockRV | str) -> None:
        """Reduce the partials that `block` combines (after `rfactor`, whose loop is bound to a
        threadIdx axis) across the threads of the block: the partials in shared memory, a tree
        of log2(n) steps on that axis with a `gpu.barrier` after each, one thread combining
        the last partial into the result (gpu_reduction.py)."""
        gpu_reduction.cross_thread_reduction(self.fn, self._block_op(block))
        self._record("cross_thread_reduction", {"block": BlockRV(str(block))})

    @_primitive
    def merge(self, *loops: LoopRV | str) -> LoopRV:
        """Merge sibling loops of one extent (outermost of their nests, in program order; serial
        or bound to one blockIdx axis) into the first, which runs their bodies in order; each
        buffer two of them share must be used row by row. Merged kernels get a `gpu.barrier`
        between the bodies."""
        rv = LoopRV(gpu_reduction.merge(self.fn, [self._loop_op(lp) for lp in loops]))
        self._record("merge", {"loops": [LoopRV(str(lp)) for lp in loops]}, [rv])
        return rv

    @_primitive
    def compute_inline(self, block: BlockRV | str) -> None:
        """Inline elementwise block `block` into the blocks that read its result."""
        inline.compute_inline(self.fn, self._block_op(block))
        cache.erase_dead_buffers(self.fn)
        self._record("compute_inline", {"block": BlockRV(str(block))})

    @_primitive
    def reverse_compute_inline(self, block: BlockRV | str) -> None:
        """Inline elementwise block `block` into the block that produces what it reads."""
        inline.reverse_compute_inline(self.fn, self._block_op(block))
        cache.erase_dead_buffers(self.fn)
        self._record("reverse_compute_inline", {"block": BlockRV(str(block))})

    @_primitive
    def compute_at(self, block: BlockRV | str, loop: LoopRV | str) -> None:
        """Compute producer `block` under `loop` of its consumers, only the region one
        iteration of the loop reads."""
        op = self._block_op(block)
        if gpu_cache.is_shared_cache(op):
            gpu_cache.compute_at_shared(self.fn, op, self._loop_op(loop))
        else:
            compute_at.compute_at(self.fn, op, self._loop_op(loop))
        self._record("compute_at", {"block": BlockRV(str(block)), "loop": LoopRV(str(loop))})

    @_primitive
    def reverse_compute_at(self, block: BlockRV | str, loop: LoopRV | str) -> None:
        """Compute consumer `block` under `loop` of its producer, right after the region one
        iteration of the loop writes."""
        compute_at.reverse_compute_at(self.fn, self._block_op(block), self._loop_op(loop))
        self._record(
            "reverse_compute_at", {"block": BlockRV(str(block)), "loop": LoopRV(str(loop))}
        )

    @_primitive
    def blockize(self, loop: LoopRV | str) -> BlockRV:
        """Wrap the loop nest rooted at `loop` (holding one block) into an outer block."""
        name = blockize.blockize(self.fn, self._loop_op(loop))
        rv = BlockRV(name)
        self._record("blockize", {"loop": LoopRV(str(loop))}, [rv])
        return rv

    @_primitive
    def cache_read(
        self, block: BlockRV | str, read_buffer_index: int, scope: str = "global"
    ) -> BlockRV:
        """Read buffer `read_buffer_index` of `block` (in `BlockOp.reads` order) from a local
        copy made by a new block in front of the block's loop nest. scope="shared": the copy is
        in GPU shared memory; compute it at a loop of the block's kernel (it then holds the
        tile one iteration reads) and share it with `cooperative_fetch`."""
        name = cache.cache_read(self.fn, self._block_op(block), read_buffer_index, scope)
        rv = BlockRV(name)
        inputs = {"block": BlockRV(str(block)), "read_buffer_index": read_buffer_index}
        if scope != "global":
            inputs["scope"] = scope
        self._record("cache_read", inputs, [rv])
        return rv

    @_primitive
    def cache_write(
        self, block: BlockRV | str, write_buffer_index: int, scope: str = "global"
    ) -> BlockRV:
        """Write buffer `write_buffer_index` of `block` into a local buffer, copied back by a
        new block after the block's loop nest. scope="local": per-thread registers of a
        reduction block already bound to threads, copied back right after its reduction loops
        by the same threads (gpu_cache.py)."""
        name = cache.cache_write(self.fn, self._block_op(block), write_buffer_index, scope)
        rv = BlockRV(name)
        inputs = {"block": BlockRV(str(block)), "write_buffer_index": write_buffer_index}
        if scope != "global":
            inputs["scope"] = scope
        self._record("cache_write", inputs, [rv])
        return rv

    @_primitive
    def tensorize(
        self,
        block: BlockRV | str,
        *,
        rows: int,
        cols: int = 0,
        pack: bool | int = False,
        parallel: bool | int = False,
        vector_width: int = 0,
        intrinsic: str = "fma_f32",
    ) -> None:
        """Tensorize matmul block `block` (under its own i, j, k loops) onto a CPU primitive:
        `fma_f32` (`hwprim.fma_microkernel`: f32, tiles of `rows` x `cols` accumulators; `pack`
        copies rhs panels into contiguous buffers, `parallel` runs column panels on threads) or
        `dot_i8` (`hwprim.dot_i8_microkernel`: i8 x i8 into i32 on AVX-512 VNNI, 2-D, row tiles
        of `rows`). A block that does not match the primitive's description is refused."""
        from strata.conversions.tprog_to_hwprim import (
            TileConfig,
            match_matmul,
            mismatch,
            tensorize_i8,
        )
        from strata.conversions.tprog_to_hwprim import tensorize as tensorize_matmul
        from strata.targets import get_target

        primitives = {"fma_f32": "hwprim.fma_microkernel", "dot_i8": "hwprim.dot_i8_microkernel"}
        if intrinsic not in primitives:
            raise ScheduleError(
                f"tensorize: unknown intrinsic '{intrinsic}'; expected one of "
                f"{', '.join(primitives)}"
            )
        op = self._block_op(block)
        match = match_matmul(op)
        if match is None:
            raise ScheduleError(
                f"tensorize: block '{block}' does not match {intrinsic} ({primitives[intrinsic]}"
                f", C[i, j] += A[i, k] * B[k, j] from C = 0): {mismatch(op)}"
            )
        if match.quantized != (intrinsic == "dot_i8"):
            found = "i8 x i8 into i32" if match.quantized else "f32"
            wanted = "i8 x i8 into i32" if intrinsic == "dot_i8" else "f32"
            other = "dot_i8" if match.quantized else "fma_f32"
            raise ScheduleError(
                f"tensorize: block '{block}' computes {found} but {intrinsic} "
                f"({primitives[intrinsic]}) takes {wanted}; use intrinsic='{other}'"
            )
        if rows < 1 or (cols < 1 and intrinsic == "fma_f32"):
            raise ScheduleError(f"tensorize: tile {rows} x {cols} of block '{block}' is empty")
        width = vector_width or get_target("cpu").vector_width
        inputs = {"block": BlockRV(str(block)), "rows": rows}
        if intrinsic == "dot_i8":
            if width != 16:
                raise ScheduleError(
                    f"tensorize: dot_i8 needs 16 i32 lanes (AVX-512 VNNI), not {width}"
                )
            if match.batch:
                raise ScheduleError(f"tensorize: dot_i8 takes 2-D matmuls; '{block}' is batched")
            tensorize_i8(match, width, int(rows))
            inputs["intrinsic"] = intrinsic
        else:
            config = TileConfig(int(rows), int(cols), bool(pack), bool(parallel))
            tensorize_matmul(match, width, config)
            inputs.update(cols=cols, pack=pack, parallel=parallel)
        if vector_width:
            inputs["vector_width"] = vector_width
        self._record("tensorize", inputs)

    # --- sampling -----------------------------------------------------------------------------
    @_primitive
    def sample_categorical(
        self, candidates: Sequence[int], decision: Sequence[int] | None = None
    ) -> IntRV:
        """One of `candidates` (uniformly, with the schedule's seed; or the given decision, an
        index into the candidates)."""
        if not candidates:
            raise ScheduleError("sample_categorical: no candidates")
        if decision is not None:
            if len(decision) != 1 or not 0 <= decision[0] < len(candidates):
                raise ScheduleError(
                    f"sample_categorical: decision {list(decision)} is not an index into "
                    f"{len(candidates)} candidates"
                )
            index = decision[0]
        else:
            index = self._rng.randrange(len(candidates))
        rv = IntRV(candidates[index])
        self._counter += 1
        rv.rv_name = f"v{self._counter}"
        self.trace.append(
            Instruction(
                "sample_categorical", {"candidates": list(candidates)}, [rv.rv_name], [index]
            )
        )
        return rv

    @_primitive
    def sample_perfect_tile(
        self,
        loop: LoopRV | str,
        n: int,
        max_innermost_factor: int = 16,
        decision: Sequence[int] | None = None,
    ) -> list[IntRV]:
        """`n` factors whose product is the extent of `loop`, drawn with the schedule's seed (or
        the given decision); the innermost is at most `max_innermost_factor`."""
        extent = nest.loop_extent(self._loop_op(loop))
        if decision is not None:
            if (
                len(decision) != n
                or math.prod(decision) != extent
                or decision[-1] > max_innermost_factor
            ):
                raise ScheduleError(
                    f"sample_perfect_tile: decision {list(decision)} is not {n} factors of "
                    f"{extent} "
                    f"with innermost <= {max_innermost_factor}"
                )
            chosen = list(decision)
        else:
            chosen = _random_perfect_tile(self._rng, extent, n, max_innermost_factor)
        outs = []
        for value in chosen:
            rv = IntRV(value)
            self._counter += 1
            rv.rv_name = f"v{self._counter}"
            outs.append(rv)
        self.trace.append(
            Instruction(
                "sample_perfect_tile",
                {"loop": LoopRV(str(loop)), "n": n, "max_innermost_factor": max_innermost_factor},
                [o.rv_name for o in outs],
                chosen,
            )
        )
        return outs


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _random_perfect_tile(rng: random.Random, extent: int, n: int, max_inner: int) -> list[int]:
    inner = rng.choice([d for d in _divisors(extent) if d <= max_inner])
    rest = extent // inner
    factors = []
    for _ in range(n - 2):
        f = rng.choice(_divisors(rest))
        factors.append(f)
        rest //= f
    return [rest, *factors[::-1], inner] if n > 1 else [extent]
