"""The TensorCore kernels `tprog-gpu-tensorize` emits for a matmul block, as bound loop nests.

One kernel per matmul (per the GPU conventions of issue 6; the lanes are implicit), on f16/bf16
or, as TF32, on f32 (the same kernels: K tiles and slices are counted in bytes, so an f32 tile
holds half the elements; f32 operands are rounded to TF32 on their way to the TensorCores).
mma.sync (sm_80 ... sm_90), two stages of shared tiles:

    b  (blockIdx.z, batches), bm (blockIdx.y, row tiles), bn (blockIdx.x, column tiles)
      shared A tiles, shared B tiles [2 stages]         memref.alloc in workgroup memory
      warp (threadIdx.y)
        fetch tile 0 into stage 0, cp_async_commit
        accumulators = for ko (K tiles) iter_args(f32 fragments = 0):
          fetch tile ko + 1 into the other stage, cp_async_commit      (in flight meanwhile)
          cp_async_wait 1, gpu.barrier                  tile ko is in shared memory
          per 16-deep slice: ldmatrix.x4 A fragments, ldmatrix.x2.trans B fragments, one
            mma_sync per 16x8 accumulator (f32: per 8-deep slice, ldmatrix.x4 of the 16x8 A
            tiles, frag_load of the 8x8 B tiles, round_tf32 of both, mma_sync m16n8k8 .tf32)
          gpu.barrier                                   stage ko % 2 may be refilled
        fragment stores into C (rounded to C's element type; outside C is skipped)

The fetches are `gpu_tensorize_tiles.KernelBase`'s: 16-byte cp_async copies (8 halves or 4 f32)
zero-filled outside the matrix, or elements under a guard when rows are not whole vectors.

wgmma (sm_90a): the same grid, two stages of shared tiles filled by vector loads and stores;
      warpgroup (threadIdx.y)
        fetch tile 0 into stage 0, wgmma_fence, gpu.barrier
        accumulator = for ko iter_args(f32 fragment = 0):
          one wgmma per 16-deep (tf32: 8-deep) slice of stage ko % 2, wgmma_commit
          fetch tile ko + 1 into the other stage        (while the wgmma group runs)
          wgmma_wait 0, wgmma_fence, gpu.barrier
        wgmma_store into C

The wgmma tiles are core matrices (A K-major, B MN-major: both copied as 16-byte rows of the
global matrices). On f32, B is K-major too (the PTX ISA has no transposed B for tf32): its fetch
goes by columns (`fetch_columns`), each step storing 4 consecutive k of one column as one 16-byte
core-matrix row; every f32 wgmma fetch rounds to TF32 before it stores, as wgmma reads shared
memory as it is. The fetch nests are bound to threadIdx.y inside the warp loop bound to
threadIdx.y: on the GPU each thread runs iteration tid.y of both (it fetches its share and
computes its warp's tile); in the sequential reading every warp's iteration fetches the whole
tile before computing, which gives the same values, so the two readings agree (the barriers
order the threads on the GPU). Shared rows of the mma.sync A tiles are padded by 16 bytes so
that ldmatrix's 8 row addresses fall in distinct bank groups; B rows by 8 elements (f32: 32
bytes, so that a tf32 B fragment's lanes, at rows l%4 and columns l/4, hit 32 distinct banks).
"""

from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import gpu, memref, scf

from strata.conversions.hwprim_to_nvvm_support import Index
from strata.conversions.tprog_to_hwprim import MatmulMatch
from strata.dialects.tprog import LOOP_NAME
from strata.irutil import erase
from strata.transforms.tprog.gpu_tensorize_tiles import (
    WARP_M,
    WARP_N,
    WGMMA_M,
    Config,
    KernelBase,
    hwprim_op,
    shared_type,
    stage,
    view,
    zeros,
)

__all__ = ["Config", "emit_kernel"]

PAD_B = 8  # elements of padding per shared B row (mma path); A rows: 16 bytes


class KernelBuilder(KernelBase):
    """Emits the kernel of one matched matmul at the current insertion point."""

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

    def _k_loop(self, inits: list[ir.Value]) -> scf.ForOp:
        tiles = -(-self.k // self.config.bk)
        loop = scf.ForOp(Index.of(0), Index.of(tiles), Index.of(1), inits)
        loop.attributes[LOOP_NAME] = ir.StringAttr.get(f"{self.name}_ko")
        return loop

    # ---- mma.sync kernels (sm_80 ... sm_90) -------------------------------------------------

    def emit_mma(self) -> None:
        """Two stages of shared tiles filled by cp.async (when rows are whole 16-byte vectors):
        the copies of tile t + 1 are in flight while the warps compute on tile t."""
        c, e = self.config, self.element
        a_tiles = memref.AllocOp(shared_type([2, c.bm, c.bk + c.vector], e), [], []).result
        b_tiles = memref.AllocOp(shared_type([2, c.bk, c.bn + PAD_B], e), [], []).result

        def fetch(tile: Index) -> None:
            stages = stage(a_tiles, tile % 2), stage(b_tiles, tile % 2)
            writers = self._writer(stages[0]), self._writer(stages[1])
            self.fetch_operands(tile, writers, (self._copier(stages[0]), self._copier(stages[1])))
            hwprim_op("cp_async_commit", [], [])

        (warp,), ip = self.nest([("warp", c.groups, "threadIdx.y")])
        with ip:
            wm, wn = warp // c.warps_n, warp % c.warps_n
            fetch(Index(0))
            acc_type = ir.VectorType.get([4], ir.F32Type.get())
            ko = self._k_loop([zeros(acc_type)] * 16)
            with ir.InsertionPoint(ko.body):
                tile = Index(ko.induction_variable)
                fetch(tile + 1)  # the last iteration fetches zeros (past K): no branch per tile
                pending = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), 1)
                hwprim_op("cp_async_wait", [], [], pending=pending)  # this thread's tile t is in
                gpu.BarrierOp()  # ... and everyone's
                a_tile, b_tile = stage(a_tiles, tile % 2), stage(b_tiles, tile % 2)
                accs = list(ko.inner_iter_args)
                ks = c.k_step
                for kk in range(0, c.bk, ks):
                    a = [
                        self._fragment(view(a_tile, [wm * WARP_M + 16 * i, kk], [16, ks]), "a")
                        for i in range(4)
                    ]
                    b = [
                        self._fragment(view(b_tile, [kk, wn * WARP_N + 8 * j], [ks, 8]), "b")
                        for j in range(4)
                    ]
                    accs = [
                        hwprim_op("mma_sync", [a[i], b[j], accs[4 * i + j]], [acc_type]).results[0]
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
                    hwprim_op("frag_store", [ko.results[4 * i + j], self.match.out, *where], [])

    def _fragment(self, tile: ir.Value, operand: str) -> ir.Value:
        """The A or B fragment of a shared tile: ldmatrix (x4 of A; x2.trans of a 16-bit B),
        or, for a tf32 B (a column of 32-bit elements per lane), frag_load; tf32 rounded."""
        rows, cols = ir.MemRefType(tile.type).shape
        t = ir.VectorType.get([rows * cols // 32], self.element)
        if self.config.tf32 and operand == "b":
            fragment = hwprim_op("frag_load", [tile], [t], operand=ir.StringAttr.get("b"))
        else:
            trans = ir.BoolAttr.get(operand == "b")
            fragment = hwprim_op("ldmatrix", [tile], [t], trans=trans)
        return self._round(fragment.results[0])

    # ---- wgmma kernels (sm_90a) -------------------------------------------------------------

    def emit_wgmma(self) -> None:
        """Two stages of shared tiles: the wgmma group on tile t runs (asynchronously) while
        the threads fetch tile t + 1 into the other stage; then the wait (the group is done: its
        stage is free, the accumulator valid), the fence and the barrier publish tile t + 1."""
        c, match, e = self.config, self.match, self.element
        w = c.vector  # elements in a 16-byte row of a core matrix
        a_tiles = memref.AllocOp(shared_type([2, c.bm // 8, c.bk // w, 8, w], e), [], []).result
        b_tiles = memref.AllocOp(shared_type([2, c.bn // 8, c.bk // w, 8, w], e), [], []).result

        def fetch(tile: Index) -> None:
            a, b = stage(a_tiles, tile % 2), stage(b_tiles, tile % 2)

            def write_a(r: Index, k: Index, v: ir.Value) -> None:  # K-major
                self._store(a, [r // 8, k // w, r % 8, k % w], self._round(v))

            def write_b(k: Index, n: Index, v: ir.Value) -> None:
                if c.tf32:  # K-major: v is 4 consecutive k of column n
                    self._store(b, [n // 8, k // w, n % 8, 0], self._round(v))
                else:  # MN-major: v is consecutive n of row k
                    self._store(b, [n // 8, k // w, k % w, n % 8], v)

            self.fetch_operands(tile, (write_a, write_b), b_columns=c.tf32)

        def publish() -> None:
            hwprim_op("wgmma_fence", [], [])
            gpu.BarrierOp()

        (group,), ip = self.nest([("warpgroup", c.groups, "threadIdx.y")])
        with ip:
            fetch(Index(0))
            publish()
            acc_type = ir.VectorType.get([c.bn // 2], ir.F32Type.get())
            ko = self._k_loop([zeros(acc_type)])
            with ir.InsertionPoint(ko.body):
                tile = Index(ko.induction_variable)
                a, b = stage(a_tiles, tile % 2), stage(b_tiles, tile % 2)
                acc = ko.inner_iter_args[0]
                hwprim_op("wgmma_fence", [], [])  # orders the accumulator's registers
                for kk in range(0, c.bk // w, 2):  # one k_step: two core matrices deep
                    a_k = view(a, [group * (WGMMA_M // 8), kk, 0, 0], [WGMMA_M // 8, 2, 8, w])
                    b_k = view(b, [0, kk, 0, 0], [c.bn // 8, 2, 8, w])
                    acc = hwprim_op("wgmma", [acc, a_k, b_k], [acc_type]).results[0]
                hwprim_op("wgmma_commit", [], [])
                fetch(tile + 1)  # the last iteration fetches zeros (past K): no branch per tile
                pending = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), 0)
                hwprim_op("wgmma_wait", [], [], pending=pending)
                publish()
                scf.YieldOp([acc])
            where = [Index.of(x) for x in (*self.out_batch, self.row0 + group * WGMMA_M, self.col0)]
            hwprim_op("wgmma_store", [ko.results[0], match.out, *where], [])


def emit_kernel(fn: ir.Operation, match: MatmulMatch, config: Config) -> None:
    """Replace the matched block and its loops by the kernel nest."""
    outer = match.loops[0]
    with ir.InsertionPoint(outer), outer.location:
        KernelBuilder(fn, match, config).emit()
    erase(outer)
