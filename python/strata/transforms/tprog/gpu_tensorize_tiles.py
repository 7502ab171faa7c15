"""The block tiles of the TensorCore kernels of `tprog-gpu-tensorize`: their sizes (`Config`),
the cooperative fetch that stages operand tiles in shared memory, and the IR helpers the kernels
share (`gpu_tensorize_kernels` emits the kernels on top of `KernelBase`).

A fetch: for fy (threadIdx.y), fx (threadIdx.x), r: one 16-byte step per iteration (8 halves or
4 f32), zero-filled outside the matrix: a cp_async copy, or a vector load and a store (through a
writer: the wgmma kernels store core matrices, rounding f32 to TF32); when a row is not a whole
number of 16-byte vectors, one element loaded under a guard and stored. `fetch_columns` copies by
columns instead (16 bytes' worth of consecutive rows of one column per step) for a transposing
store: tf32 wgmma's K-major B.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlir import ir
from mlir.dialects import arith, memref, scf, vector

from strata.conversions.hwprim_to_nvvm_support import Index
from strata.conversions.tprog_to_hwprim import MatmulMatch
from strata.transforms.tprog import nest

WORKGROUP = "#gpu.address_space<workgroup>"
WARP_M, WARP_N = 64, 32  # the tile of one warp: 4 x 4 m16n8 accumulators
WGMMA_M = 64


@dataclass(frozen=True)
class Config:
    """Block tile bm x bn x bk; `wgmma`: warpgroups of 64 rows, else warps of 64x32; `bits`:
    16 (f16/bf16) or 32 (f32 as TF32)."""

    bm: int
    bn: int
    bk: int
    wgmma: bool
    bits: int = 16

    @classmethod
    def for_shape(cls, m: int, n: int, k: int, *, wgmma: bool, bits: int = 16) -> Config:
        """64 or 128 rows; 64 or 128 columns (wgmma: the power of two >= n up to 128, any
        multiple of 8 up to 256 being valid); K tiles of 64 bytes (32 halves, 16 f32). At
        128x128 the f16 mma.sync kernel takes 128 registers per thread and 37 KiB of shared
        memory (two blocks per SM), the wgmma one 99 and 32 KiB; the tf32 ones (ptxas -v,
        4096^3) 124 registers and 37 KiB (sm_80), 96 and 32 KiB (sm_90a). Two stages of K
        tiles of 128 bytes would not fit the 48 KiB of static shared memory."""
        bm, bk = 64 if m <= 64 else 128, 512 // bits
        if wgmma:
            return cls(bm, min(128, max(16, 1 << (n - 1).bit_length())), bk, True, bits)
        return cls(bm, 64 if n <= 64 else 128, bk, False, bits)

    @property
    def tf32(self) -> bool:
        return self.bits == 32

    @property
    def vector(self) -> int:
        """Elements in 16 bytes: a cp.async copy, an ldmatrix or core-matrix row."""
        return 128 // self.bits

    @property
    def k_step(self) -> int:
        """The K of one mma.sync or wgmma: 16 (f16/bf16) or 8 (tf32)."""
        return 256 // self.bits

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


def hwprim_op(name: str, operands: list, results: list, **attrs: ir.Attribute) -> ir.Operation:
    return ir.Operation.create(
        f"hwprim.{name}", results=results, operands=operands, attributes=attrs
    )


def shared_type(shape: list[int], element: ir.Type) -> ir.MemRefType:
    return ir.MemRefType.get(shape, element, memory_space=ir.Attribute.parse(WORKGROUP))


def view(source: ir.Value, offsets: list, sizes: list[int], drop: int = 0) -> ir.Value:
    """A subview of a shared buffer (unit strides), without its first `drop` (unit) dims."""
    t = ir.MemRefType(source.type)
    strides, base = t.get_strides_and_offset()
    static = mixed(offsets)
    offset = ir.ShapedType.get_dynamic_stride_or_offset()
    if base != offset and all(isinstance(o, int) for o in static):
        offset = base + sum(o * stride for o, stride in zip(static, strides))
    layout = ir.StridedLayoutAttr.get(offset, strides[drop:])
    result = ir.MemRefType.get(sizes[drop:], t.element_type, layout, t.memory_space)
    return memref.subview(source, static, sizes, [1] * len(sizes), result_type=result)


def mixed(offsets: list) -> list:
    """Offsets as subview takes them: static ints, or index values."""
    values = [o.value if isinstance(o, Index) else o for o in offsets]
    return [v if isinstance(v, int) else Index.of(v) for v in values]


def zeros(t: ir.Type) -> ir.Value:
    element = ir.VectorType(t).element_type if isinstance(t, ir.VectorType) else t
    zero = ir.FloatAttr.get(element, 0.0)
    if isinstance(t, ir.VectorType):
        return arith.ConstantOp(t, ir.DenseElementsAttr.get_splat(t, zero)).result
    return arith.ConstantOp(t, zero).result


def below(value: Index, bound: int) -> ir.Value:
    return arith.CmpIOp(arith.CmpIPredicate.ult, Index.of(value), Index.of(bound)).result


Writer = Callable[[Index, Index, ir.Value], None]  # (tile row, tile column, loaded value)
Copier = Callable[[Index, Index, ir.Value, list[ir.Value]], None]  # (.., source, its indices)


def stage(buffer: ir.Value, index: Index) -> ir.Value:
    """buffer[index] of a [2, ...] shared buffer (two stages), as a rank-reduced strided view."""
    shape = ir.MemRefType(buffer.type).shape
    return view(buffer, [index, *[0] * (len(shape) - 1)], [1, *shape[1:]], drop=1)


class KernelBase:
    """The state of one kernel being emitted (the matched matmul, its tiles, the block's
    corner) and the cooperative fetch of its operand tiles."""

    def __init__(self, fn: ir.Operation, match: MatmulMatch, config: Config):
        self.fn, self.match, self.config = fn, match, config
        *self.batch, self.m, self.n = match.out.type.shape
        self.k = match.lhs.type.shape[-1]
        self.element = match.lhs.type.element_type
        self.name = match.block.block_name
        # the block's output tile corner and batch indices (set by the kernel's grid loops)
        self.row0, self.col0 = Index(0), Index(0)
        self.out_batch: list[Index] = []

    def nest(self, loops: list[tuple[str, int, str]]) -> tuple[list[Index], ir.InsertionPoint]:
        """Nested named loops (name, extent, kind) at the current insertion point: their
        induction variables and the insertion point of the innermost body."""
        ivs, ip = [], ir.InsertionPoint.current
        for name, extent, kind in loops:
            with ip:
                loop = nest.make_loop(self.fn, f"{self.name}_{name}", extent, kind)
            body = loop.regions[0].blocks[0]
            ivs.append(Index(body.arguments[0]))
            ip = ir.InsertionPoint.at_block_terminator(body)
        return ivs, ip

    def _operand_batch(self, mapping: list[int | None]) -> list[ir.Value]:
        return [Index.of(0 if p is None else self.out_batch[p]) for p in mapping]

    # ---- cooperative fetch -----------------------------------------------------------------

    def fetch_operands(
        self,
        tile: Index,
        write: tuple[Writer, Writer],
        copy: tuple[Copier, Copier] | None = None,
        b_columns: bool = False,
    ) -> None:
        """The cooperative fetch of K tile `tile` of A (bm x bk) and B (bk x bn); `b_columns`:
        B by columns of 16 bytes (`fetch_columns`)."""
        c, match = self.config, self.match
        k0 = tile * c.bk
        lhs, rhs = self._operand_batch(match.lhs_batch), self._operand_batch(match.rhs_batch)
        copy_a, copy_b = copy or (None, None)
        self.fetch(match.lhs, lhs, (c.bm, c.bk), (self.row0, k0), write[0], copy_a, "fa")
        if b_columns:
            self.fetch_columns(match.rhs, rhs, (c.bk, c.bn), (k0, self.col0), write[1], "fb")
        else:
            self.fetch(match.rhs, rhs, (c.bk, c.bn), (k0, self.col0), write[1], copy_b, "fb")

    def _steps(self, total: int, tag: str) -> tuple[Index, ir.InsertionPoint]:
        """Loops spreading `total` fetch steps over the kernel's threads (fy on threadIdx.y, fx
        on threadIdx.x, fr serial): the step index and the insertion point of its body."""
        c = self.config
        threads = c.lanes * c.groups
        loops = [("fy", c.groups, "threadIdx.y"), ("fx", c.lanes, "threadIdx.x")]
        reps = -(-total // threads)
        if reps > 1:
            loops.append(("fr", reps, "serial"))
        (fy, fx, *r), ip = self.nest([(f"{tag}_{n}", e, k) for n, e, k in loops])
        with ip:
            linear = (r[0] * c.groups + fy if r else fy) * c.lanes + fx
            if total % threads:
                guard = scf.IfOp(below(linear, total))
                with ir.InsertionPoint(guard.then_block):
                    scf.YieldOp([])
                ip = ir.InsertionPoint.at_block_terminator(guard.then_block)
        return linear, ip

    def _load(self, src: ir.Value, where: list[ir.Value], t: ir.Type, inside: ir.Value) -> ir.Value:
        """src[where] (a vector of type t, or one element) when `inside`, else zeros."""
        load = scf.IfOp(inside, [t], has_else=True)
        with ir.InsertionPoint(load.then_block):
            if isinstance(t, ir.VectorType):
                value = vector.LoadOp(t, src, where, alignment=16).result
            else:
                value = memref.LoadOp(src, where).result
            scf.YieldOp([value])
        with ir.InsertionPoint(load.else_block):
            scf.YieldOp([zeros(t)])
        return load.results[0]

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
        """Copy the rows x cols tile of `src` at `at` (zero outside src), one vector of 16 bytes
        per step when src's rows are whole vectors (through `copy`, an asynchronous copy, if
        given), else one element (loaded and stored through `write`)."""
        c, (rows, cols) = self.config, shape
        extent_r, extent_c = ir.MemRefType(src.type).shape[-2:]
        width = c.vector if extent_c % c.vector == 0 else 1
        per_row = cols // width
        linear, ip = self._steps(rows * per_row, tag)
        with ip:
            if self.config.wgmma and width > 1:
                # 8 consecutive threads take the 8 rows of one core matrix: their 16-byte
                # stores fill 128 contiguous bytes (no bank conflict), their loads 8 rows
                tr = linear // (8 * per_row) * 8 + linear % 8
                tc = linear // 8 % per_row * width
            else:
                tr, tc = linear // per_row, linear % per_row * width
            gr, gc = at[0] + tr, at[1] + tc
            where = [*batch, Index.of(gr), Index.of(gc)]
            if copy is not None and width > 1:
                copy(tr, tc, src, where)  # zero-fills outside
                return
            inside = arith.AndIOp(below(gr, extent_r), below(gc, extent_c)).result
            t = ir.VectorType.get([width], self.element) if width > 1 else self.element
            write(tr, tc, self._load(src, where, t, inside))

    def fetch_columns(
        self,
        src: ir.Value,
        batch: list[ir.Value],
        shape: tuple[int, int],
        at: tuple[Index, Index],
        write: Writer,
        tag: str,
    ) -> None:
        """Copy the rows x cols tile of `src` at `at` (zero outside src) by columns: each step
        loads 16 bytes' worth of consecutive rows of one column (consecutive threads take
        consecutive columns: each load of a warp reads one contiguous run) and writes them as
        one vector, for a transposing store (tf32 wgmma's K-major B)."""
        c, (rows, cols) = self.config, shape
        extent_r, extent_c = ir.MemRefType(src.type).shape[-2:]
        linear, ip = self._steps(rows // c.vector * cols, tag)
        with ip:
            tr, tc = linear // cols * c.vector, linear % cols
            gr, gc = at[0] + tr, at[1] + tc
            column = below(gc, extent_c)
            elements = []
            for e in range(c.vector):
                inside = arith.AndIOp(below(gr + e, extent_r), column).result
                where = [*batch, Index.of(gr + e), Index.of(gc)]
                elements.append(self._load(src, where, self.element, inside))
            t = ir.VectorType.get([c.vector], self.element)
            write(tr, tc, vector.from_elements(t, elements))

    def _round(self, value: ir.Value) -> ir.Value:
        """f32 values rounded to TF32 (halves pass through)."""
        if not self.config.tf32:
            return value
        return hwprim_op("round_tf32", [value], [value.type]).results[0]

    def _writer(self, buffer: ir.Value) -> Writer:
        return lambda row, col, value: self._store(buffer, [row, col], value)

    def _copier(self, buffer: ir.Value) -> Copier:
        width = self.config.vector

        def copy(row: Index, col: Index, src: ir.Value, where: list[ir.Value]) -> None:
            hwprim_op("cp_async", [view(buffer, [row, col], [1, width], drop=1), src, *where], [])

        return copy

    @staticmethod
    def _store(buffer: ir.Value, where: list[Index | int], value: ir.Value) -> None:
        indices = [Index.of(i) for i in where]
        if isinstance(value.type, ir.VectorType):
            vector.StoreOp(value, buffer, indices, alignment=16)
        else:
            memref.StoreOp(value, buffer, indices)
