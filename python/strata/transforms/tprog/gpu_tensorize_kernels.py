"""The TensorCore kernels `tprog-gpu-tensorize` emits for a matmul block, as bound loop nests.

One kernel per matmul (per the GPU conventions of issue 6; the lanes are implicit). mma.sync
(sm_80 ... sm_90), two stages of shared tiles:

    b  (blockIdx.z, batches), bm (blockIdx.y, row tiles), bn (blockIdx.x, column tiles)
      shared A tiles, shared B tiles [2 stages]         memref.alloc in workgroup memory
      warp (threadIdx.y)
        fetch tile 0 into stage 0, cp_async_commit
        accumulators = for ko (K tiles) iter_args(f32 fragments = 0):
          fetch tile ko + 1 into the other stage, cp_async_commit      (in flight meanwhile)
          cp_async_wait 1, gpu.barrier                  tile ko is in shared memory
          per 16-deep slice: ldmatrix.x4 A fragments, ldmatrix.x2.trans B fragments, one
            mma_sync per 16x8 accumulator
          gpu.barrier                                   stage ko % 2 may be refilled
        fragment stores into C (rounded to C's element type; outside C is skipped)

A fetch: for fy (threadIdx.y), fx (threadIdx.x), r: one 16-byte cp_async per step, zero-filled
outside the matrix (or, when a row is not a whole number of 16-byte vectors, one element loaded
under a guard and stored).

wgmma (sm_90a): the same grid, two stages of shared tiles filled by vector loads and stores;
      warpgroup (threadIdx.y)
        fetch tile 0 into stage 0, wgmma_fence, gpu.barrier
        accumulator = for ko iter_args(f32 fragment = 0):
          one wgmma per 16-deep slice of stage ko % 2, wgmma_commit
          fetch tile ko + 1 into the other stage        (while the wgmma group runs)
          wgmma_wait 0, wgmma_fence, gpu.barrier
        wgmma_store into C

The wgmma tiles are core matrices (A K-major, B MN-major: both copied as 16-byte rows of the
global matrices). The fetch nests are bound to threadIdx.y inside the warp loop bound to
threadIdx.y: on the GPU each thread runs iteration tid.y of both (it fetches its share and
computes its warp's tile); in the sequential reading every warp's iteration fetches the whole
tile before computing, which gives the same values, so the two readings agree (the barriers
order the threads on the GPU). Shared rows of the mma.sync tiles are padded by 8 halves (16
bytes) so that ldmatrix's 8 row addresses fall in distinct bank groups.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from mlir import ir
from mlir.dialects import arith, gpu, memref, scf, vector

from strata.conversions.hwprim_to_nvvm_support import Index
from strata.conversions.tprog_to_hwprim import MatmulMatch
from strata.dialects.tprog import LOOP_NAME
from strata.irutil import erase
from strata.transforms.tprog import nest

WORKGROUP = "#gpu.address_space<workgroup>"
PAD = 8  # halves of padding per shared row (mma path)
WARP_M, WARP_N = 64, 32  # the tile of one warp: 4 x 4 m16n8 accumulators
WGMMA_M = 64


@dataclass(frozen=True)
class Config:
    """Block tile bm x bn x bk; `wgmma`: warpgroups of 64 rows, else warps of 64x32."""

    bm: int
    bn: int
    bk: int
    wgmma: bool

    @classmethod
    def for_shape(cls, m: int, n: int, k: int, *, wgmma: bool) -> Config:
        """64 or 128 rows; 64 or 128 columns (wgmma: the power of two >= n up to 128, any
        multiple of 8 up to 256 being valid); K tiles of 32. At 128x128x32 the mma.sync kernel
        takes 128 registers per thread and 37 KiB of shared memory (two blocks per SM), the
        wgmma one 99 and 32 KiB; two stages of K tiles of 64 would not fit the 48 KiB of
        static shared memory."""
        bm = 64 if m <= 64 else 128
        if wgmma:
            return cls(bm, min(128, max(16, 1 << (n - 1).bit_length())), 32, True)
        return cls(bm, 64 if n <= 64 else 128, 32, False)

    @property
    def lanes(self) -> int:
        return 128 if self.wgmma else 32

    @property
    def warps_n(self) -> int:
        return 1 if self.wgmma else self.bn // WARP_N

    @property
    def groups(self) -> int:
        """Warps (or warpgroups): the extent of the threadIdx.y loops."""
        return self.bm // WGMMA_M if self.wgmma else (self.bm // WARP_M) * self.warps_n


def _hwprim(name: str, operands: list, results: list, **attrs: ir.Attribute) -> ir.Operation:
    return ir.Operation.create(
        f"hwprim.{name}", results=results, operands=operands, attributes=attrs
    )


def _shared_type(shape: list[int], element: ir.Type) -> ir.MemRefType:
    return ir.MemRefType.get(shape, element, memory_space=ir.Attribute.parse(WORKGROUP))


def _view(source: ir.Value, offsets: list, sizes: list[int], drop: int = 0) -> ir.Value:
    """A subview of a shared buffer (unit strides), without its first `drop` (unit) dims."""
    t = ir.MemRefType(source.type)
    strides, base = t.get_strides_and_offset()
    static = _mixed(offsets)
    offset = ir.ShapedType.get_dynamic_stride_or_offset()
    if base != offset and all(isinstance(o, int) for o in static):
        offset = base + sum(o * stride for o, stride in zip(static, strides))
    layout = ir.StridedLayoutAttr.get(offset, strides[drop:])
    result = ir.MemRefType.get(sizes[drop:], t.element_type, layout, t.memory_space)
    return memref.subview(source, static, sizes, [1] * len(sizes), result_type=result)


def _mixed(offsets: list) -> list:
    """Offsets as subview takes them: static ints, or index values."""
    values = [o.value if isinstance(o, Index) else o for o in offsets]
    return [v if isinstance(v, int) else Index.of(v) for v in values]


def _zeros(t: ir.Type) -> ir.Value:
    element = ir.VectorType(t).element_type if isinstance(t, ir.VectorType) else t
    zero = ir.FloatAttr.get(element, 0.0)
    if isinstance(t, ir.VectorType):
        return arith.ConstantOp(t, ir.DenseElementsAttr.get_splat(t, zero)).result
    return arith.ConstantOp(t, zero).result


def _below(value: Index, bound: int) -> ir.Value:
    return arith.CmpIOp(arith.CmpIPredicate.ult, Index.of(value), Index.of(bound)).result


Writer = Callable[[Index, Index, ir.Value], None]  # (tile row, tile column, loaded value)
Copier = Callable[[Index, Index, ir.Value, list[ir.Value]], None]  # (.., source, its indices)


class KernelBuilder:
    """Emits the kernel of one matched matmul at the current insertion point."""

    def __init__(self, fn: ir.Operation, match: MatmulMatch, config: Config):
        self.fn, self.match, self.config = fn, match, config
        *self.batch, self.m, self.n = match.out.type.shape
        self.k = match.lhs.type.shape[-1]
        self.element = match.lhs.type.element_type
        self.name = match.block.block_name

    def nest(self, loops: list[tuple[str, int, str]]) -> tuple[list[Index], ir.InsertionPoint]:
        ivs, ip = [], ir.InsertionPoint.current
        for name, extent, kind in loops:
            with ip:
                loop = nest.make_loop(self.fn, f"{self.name}_{name}", extent, kind)
            body = loop.regions[0].blocks[0]
            ivs.append(Index(body.arguments[0]))
            ip = ir.InsertionPoint.at_block_terminator(body)
        return ivs, ip

    def emit(self) -> None:
        c = self.config
        grid = [("b", math.prod(self.batch), "blockIdx.z")] if self.batch else []
        grid += [("bm", -(-self.m // c.bm), "blockIdx.y"), ("bn", -(-self.n // c.bn), "blockIdx.x")]
        ivs, ip = self.nest(grid)
        with ip:
            *b, by, bx = ivs
            self.out_batch = self._batch_indices(b[0]) if b else []
            self.row0, self.col0 = by * c.bm, bx * c.bn
            if c.wgmma:
                self.emit_wgmma()
            else:
                self.emit_mma()

    def _batch_indices(self, flat: Index) -> list[Index]:
        indices: list[Index] = []
        for extent in reversed(self.batch):
            indices.insert(0, flat % extent)
            flat = flat // extent
        return indices

    def _operand_batch(self, mapping: list[int | None]) -> list[ir.Value]:
        return [Index.of(0 if p is None else self.out_batch[p]) for p in mapping]

    def _k_loop(self, inits: list[ir.Value]) -> scf.ForOp:
        tiles = -(-self.k // self.config.bk)
        loop = scf.ForOp(Index.of(0), Index.of(tiles), Index.of(1), inits)
        loop.attributes[LOOP_NAME] = ir.StringAttr.get(f"{self.name}_ko")
        return loop

    # ---- cooperative fetch -----------------------------------------------------------------

    def fetch_operands(
        self,
        tile: Index,
        write: tuple[Writer, Writer],
        copy: tuple[Copier, Copier] | None = None,
    ) -> None:
        """The cooperative fetch of K tile `tile` of A (bm x bk) and B (bk x bn)."""
        c, match = self.config, self.match
        k0 = tile * c.bk
        lhs, rhs = self._operand_batch(match.lhs_batch), self._operand_batch(match.rhs_batch)
        copy_a, copy_b = copy or (None, None)
        self.fetch(match.lhs, lhs, (c.bm, c.bk), (self.row0, k0), write[0], copy_a, "fa")
        self.fetch(match.rhs, rhs, (c.bk, c.bn), (k0, self.col0), write[1], copy_b, "fb")

    def fetch(
        self,
        src: ir.Value,
        batch: list[ir.Value],
        shape: tuple[int, int],
        at: tuple[Index, Index],
        write: Writer,
        copy: Copier | None,
        tag: str,
    ) -> None:
        """Copy the rows x cols tile of `src` at `at` (zero outside src), one vector of 8
        elements per step when src's rows are whole vectors (through `copy`, an asynchronous
        copy, if given), else one element (loaded and stored through `write`)."""
        c, (rows, cols) = self.config, shape
        extent_r, extent_c = ir.MemRefType(src.type).shape[-2:]
        width = 8 if extent_c % 8 == 0 else 1
        per_row, total = cols // width, rows * cols // width
        threads = c.lanes * c.groups
        loops = [("fy", c.groups, "threadIdx.y"), ("fx", c.lanes, "threadIdx.x")]
        reps = -(-total // threads)
        if reps > 1:
            loops.append(("fr", reps, "serial"))
        (fy, fx, *r), ip = self.nest([(f"{tag}_{n}", e, k) for n, e, k in loops])
        with ip:
            linear = (r[0] * c.groups + fy if r else fy) * c.lanes + fx
            if total % threads:
                guard = scf.IfOp(_below(linear, total))
                ip = ir.InsertionPoint(guard.then_block)
                with ip:
                    scf.YieldOp([])
                ip = ir.InsertionPoint.at_block_terminator(guard.then_block)
        with ip:
            if self.config.wgmma and width == 8:
                # 8 consecutive threads take the 8 rows of one core matrix: their 16-byte
                # stores fill 128 contiguous bytes (no bank conflict), their loads 8 rows
                tr = linear // (8 * per_row) * 8 + linear % 8
                tc = linear // 8 % per_row * 8
            else:
                tr, tc = linear // per_row, linear % per_row * width
            gr, gc = at[0] + tr, at[1] + tc
            if copy is not None and width == 8:
                copy(tr, tc, src, [*batch, Index.of(gr), Index.of(gc)])  # zero-fills outside
                return
            inside = arith.AndIOp(_below(gr, extent_r), _below(gc, extent_c)).result
            t = ir.VectorType.get([width], self.element) if width > 1 else self.element
            load = scf.IfOp(inside, [t], has_else=True)
            with ir.InsertionPoint(load.then_block):
                where = [*batch, Index.of(gr), Index.of(gc)]
                if width > 1:
                    value = vector.LoadOp(t, src, where, alignment=16).result
                else:
                    value = memref.LoadOp(src, where).result
                scf.YieldOp([value])
            with ir.InsertionPoint(load.else_block):
                scf.YieldOp([_zeros(t)])
            write(tr, tc, load.results[0])

    def _writer(self, buffer: ir.Value) -> Writer:
        return lambda row, col, value: self._store(buffer, [row, col], value)

    @staticmethod
    def _copier(buffer: ir.Value) -> Copier:
        def copy(row: Index, col: Index, src: ir.Value, where: list[ir.Value]) -> None:
            _hwprim("cp_async", [_view(buffer, [row, col], [1, 8], drop=1), src, *where], [])

        return copy

    @staticmethod
    def _store(buffer: ir.Value, where: list[Index], value: ir.Value) -> None:
        indices = [Index.of(i) for i in where]
        if isinstance(value.type, ir.VectorType):
            vector.StoreOp(value, buffer, indices, alignment=16)
        else:
            memref.StoreOp(value, buffer, indices)

    # ---- mma.sync kernels (sm_80 ... sm_90) -------------------------------------------------

    def emit_mma(self) -> None:
        """Two stages of shared tiles filled by cp.async (when rows are whole 16-byte vectors):
        the copies of tile t + 1 are in flight while the warps compute on tile t."""
        c, e = self.config, self.element
        a_tiles = memref.AllocOp(_shared_type([2, c.bm, c.bk + PAD], e), [], []).result
        b_tiles = memref.AllocOp(_shared_type([2, c.bk, c.bn + PAD], e), [], []).result

        def fetch(tile: Index) -> None:
            stages = _stage(a_tiles, tile % 2), _stage(b_tiles, tile % 2)
            writers = self._writer(stages[0]), self._writer(stages[1])
            self.fetch_operands(tile, writers, (self._copier(stages[0]), self._copier(stages[1])))
            _hwprim("cp_async_commit", [], [])

        (warp,), ip = self.nest([("warp", c.groups, "threadIdx.y")])
        with ip:
            wm, wn = warp // c.warps_n, warp % c.warps_n
            fetch(Index(0))
            acc_type = ir.VectorType.get([4], ir.F32Type.get())
            ko = self._k_loop([_zeros(acc_type)] * 16)
            with ir.InsertionPoint(ko.body):
                tile = Index(ko.induction_variable)
                fetch(tile + 1)  # the last iteration fetches zeros (past K): no branch per tile
                pending = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), 1)
                _hwprim("cp_async_wait", [], [], pending=pending)  # this thread's tile t is in
                gpu.BarrierOp()  # ... and everyone's
                a_tile, b_tile = _stage(a_tiles, tile % 2), _stage(b_tiles, tile % 2)
                accs = list(ko.inner_iter_args)
                for kk in range(0, c.bk, 16):
                    a = [
                        self._ldmatrix(_view(a_tile, [wm * WARP_M + 16 * i, kk], [16, 16]), False)
                        for i in range(4)
                    ]
                    b = [
                        self._ldmatrix(_view(b_tile, [kk, wn * WARP_N + 8 * j], [16, 8]), True)
                        for j in range(4)
                    ]
                    accs = [
                        _hwprim("mma_sync", [a[i], b[j], accs[4 * i + j]], [acc_type]).results[0]
                        for i in range(4)
                        for j in range(4)
                    ]
                gpu.BarrierOp()  # stage t % 2 is read: tile t + 2 may overwrite it
                scf.YieldOp(accs)
            for i in range(4):
                for j in range(4):
                    row = self.row0 + wm * WARP_M + 16 * i
                    col = self.col0 + wn * WARP_N + 8 * j
                    where = [Index.of(x) for x in (*self.out_batch, row, col)]
                    _hwprim("frag_store", [ko.results[4 * i + j], self.match.out, *where], [])

    def _ldmatrix(self, tile: ir.Value, trans: bool) -> ir.Value:
        rows, cols = ir.MemRefType(tile.type).shape
        t = ir.VectorType.get([rows * cols // 32], self.element)
        return _hwprim("ldmatrix", [tile], [t], trans=ir.BoolAttr.get(trans)).results[0]

    # ---- wgmma kernels (sm_90a) -------------------------------------------------------------

    def emit_wgmma(self) -> None:
        """Two stages of shared tiles: the wgmma group on tile t runs (asynchronously) while
        the threads fetch tile t + 1 into the other stage; then the wait (the group is done: its
        stage is free, the accumulator valid), the fence and the barrier publish tile t + 1."""
        c, match, e = self.config, self.match, self.element
        a_tiles = memref.AllocOp(_shared_type([2, c.bm // 8, c.bk // 8, 8, 8], e), [], []).result
        b_tiles = memref.AllocOp(_shared_type([2, c.bn // 8, c.bk // 8, 8, 8], e), [], []).result

        def fetch(tile: Index) -> None:
            a, b = _stage(a_tiles, tile % 2), _stage(b_tiles, tile % 2)
            self.fetch_operands(
                tile,
                (
                    lambda r, k, v: self._store(a, [r // 8, k // 8, r % 8, k % 8], v),  # K-major
                    lambda k, n, v: self._store(b, [n // 8, k // 8, k % 8, n % 8], v),  # MN-major
                ),
            )

        def publish() -> None:
            _hwprim("wgmma_fence", [], [])
            gpu.BarrierOp()

        (group,), ip = self.nest([("warpgroup", c.groups, "threadIdx.y")])
        with ip:
            fetch(Index(0))
            publish()
            acc_type = ir.VectorType.get([c.bn // 2], ir.F32Type.get())
            ko = self._k_loop([_zeros(acc_type)])
            with ir.InsertionPoint(ko.body):
                tile = Index(ko.induction_variable)
                a, b = _stage(a_tiles, tile % 2), _stage(b_tiles, tile % 2)
                acc = ko.inner_iter_args[0]
                _hwprim("wgmma_fence", [], [])  # orders the accumulator's registers
                for kk in range(0, c.bk // 8, 2):
                    a_k = _view(a, [group * (WGMMA_M // 8), kk, 0, 0], [WGMMA_M // 8, 2, 8, 8])
                    b_k = _view(b, [0, kk, 0, 0], [c.bn // 8, 2, 8, 8])
                    acc = _hwprim("wgmma", [acc, a_k, b_k], [acc_type]).results[0]
                _hwprim("wgmma_commit", [], [])
                fetch(tile + 1)  # the last iteration fetches zeros (past K): no branch per tile
                pending = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), 0)
                _hwprim("wgmma_wait", [], [], pending=pending)
                publish()
                scf.YieldOp([acc])
            where = [Index.of(x) for x in (*self.out_batch, self.row0 + group * WGMMA_M, self.col0)]
            _hwprim("wgmma_store", [ko.results[0], match.out, *where], [])


def _stage(buffer: ir.Value, stage: Index) -> ir.Value:
    """buffer[stage] of a [2, ...] shared buffer, as a rank-reduced strided view."""
    shape = ir.MemRefType(buffer.type).shape
    return _view(buffer, [stage, *[0] * (len(shape) - 1)], [1, *shape[1:]], drop=1)


def emit_kernel(fn: ir.Operation, match: MatmulMatch, config: Config) -> None:
    """Replace the matched block and its loops by the kernel nest."""
    outer = match.loops[0]
    with ir.InsertionPoint(outer), outer.location:
        KernelBuilder(fn, match, config).emit()
    erase(outer)
