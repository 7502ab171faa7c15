"""convert-tprog-to-hwprim: tensorize matmul blocks into the `hwprim.fma_microkernel` primitive.

Input: tensor programs. A block is tensorized when it is C[i,j] += A[i,k] * B[k,j] on f32 with
C[i,j] = 0 as init, under its own three loops (i, j, k). Output: the init becomes its own block
over (i, j) (TensorIR's decompose_reduction) and the update becomes loops over MR x NR tiles of C,
each one micro-kernel call on subviews. Blocks that do not match are left as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mlir import ir
from mlir.dialects import arith, memref, scf

from strata.conversions.tprog_builder import emit_block, loop_nest, uniquify_loop_names
from strata.dialects.hwprim import DotI8MicrokernelOp, FmaMicrokernelOp
from strata.dialects.tprog import BlockOp, IterType
from strata.irutil import float_constant, index_constant, walk
from strata.passes import Pass
from strata.transforms.tprog.nest import LOOP_KIND

PARALLEL_MIN_MACS = 1 << 20  # below this, starting threads costs more than it saves
PACK_MIN_ROWS = 16  # pack rhs panels when this many lhs rows reuse each of them (measured: MLP
# batch 16-32 and a 32x2048x2048 matmul gain 1.4-1.6x; batch 1 does not)
MAX_ROWS = 8  # accumulator rows; 8 rows x 2 vectors fit the 16 (AVX2) or 32 (AVX-512) registers


@dataclass(frozen=True)
class Options:
    vector_width: int = field(
        default=16, metadata={"help": "f32 lanes per vector register (16 AVX-512, 8 AVX2)"}
    )
    vnni: bool = field(
        default=False,
        metadata={"help": "tensorize i8 matmuls into dot_i8 micro-kernels (AVX-512 VNNI)"},
    )


@dataclass
class MatmulMatch:
    block: BlockOp
    lhs: ir.Value
    rhs: ir.Value
    out: ir.Value
    loops: list[ir.Operation]  # batch loops, then i, j, k, from the outside in
    lhs_batch: list[int | None]  # per batch dim of lhs: the batch variable it reads, or None (0)
    rhs_batch: list[int | None]

    @property
    def batch(self) -> int:
        return len(self.out.type.shape) - 2

    @property
    def quantized(self) -> bool:
        """i8 x i8 into i32 (the dot_i8 micro-kernel), else f32 (fma)."""
        return str(self.lhs.type.element_type) == "i8"


def _ops(block: ir.Block) -> list[ir.Operation]:
    return [op.operation for op in block.operations][:-1]  # without the terminator


def _defining(value: ir.Value) -> ir.Operation | None:
    owner = value.owner
    return owner.operation if isinstance(owner, (ir.Operation, ir.OpView)) else None


def _is_zero_index(value: ir.Value) -> bool:
    op = _defining(value)
    return (
        op is not None
        and op.name == "arith.constant"
        and isinstance(op.results[0].type, ir.IndexType)
        and ir.IntegerAttr(op.attributes["value"]).value == 0
    )


def _load(value: ir.Value) -> tuple[ir.Value, list[ir.Value]] | None:
    op = _defining(value)
    if op is None or op.name != "memref.load":
        return None
    return op.operands[0], list(op.operands)[1:]


def _batch_map(indices: list[ir.Value], batch_vars: list[ir.Value]) -> list[int | None] | None:
    """For each batch index of an operand: which batch variable it is, or None for a constant 0
    (a broadcast dimension); None when it is anything else."""
    mapping: list[int | None] = []
    for index in indices:
        if index in batch_vars:
            mapping.append(batch_vars.index(index))
        elif _is_zero_index(index):
            mapping.append(None)
        else:
            return None
    return mapping


def match_matmul(op: ir.Operation) -> MatmulMatch | None:
    """C[b.., i, j] += A[b.., i, k] * B[b.., k, j] with C = 0 as init (batch indices of A and B
    may be broadcast), under its own loops: f32, or i8 operands sign-extended into an i32 C;
    None when the block is anything else (`mismatch` says why)."""
    found = _match(op)
    return found if isinstance(found, MatmulMatch) else None


def mismatch(op: ir.Operation) -> str | None:
    """Why block `op` is not a matmul a micro-kernel implements (None when it is)."""
    found = _match(op)
    return found if isinstance(found, str) else None


def _strip_extsi(value: ir.Value) -> ir.Value:
    op = _defining(value)
    return op.operands[0] if op is not None and op.name == "arith.extsi" else value


def matmul_iterators(block: Any) -> tuple[list[ir.Value], ir.Value, ir.Value, ir.Value] | str:
    """The body arguments (batch..., i, j, k) of a block iterating spatial dims then one
    reduction, or why it does not."""
    types = block.iter_types
    if len(types) < 3 or types[-1] != IterType.REDUCTION or IterType.REDUCTION in types[:-1]:
        return "its iterators are not spatial ones followed by one reduction (i, j, k)"
    args = list(block.body.arguments)
    nb = len(args) - 3
    return args[:nb], args[nb], args[nb + 1], args[nb + 2]


def _match(op: ir.Operation) -> MatmulMatch | str:
    block = op.opview
    iterators = matmul_iterators(block)
    if isinstance(iterators, str):
        return iterators
    vb, vi, vj, vk = iterators
    nb = len(vb)
    body = [
        o
        for o in _ops(block.body)
        if not (o.name == "arith.constant" and _is_zero_index(o.results[0]))
    ]
    shape = "its body is not a load-multiply-add-store C[i, j] += A[i, k] * B[k, j]"
    if not body or body[-1].name != "memref.store" or len(body) not in (6, 8):
        return shape
    store = body[-1]
    out = store.operands[1]
    if list(store.operands)[2:] != [*vb, vi, vj]:
        return "it does not store C[i, j] at its own spatial iteration values"
    add = _defining(store.operands[0])
    if add is None or add.name not in ("arith.addf", "arith.addi"):
        return f"{shape} (the update is not an addition)"
    found = None
    for acc, prod in (tuple(add.operands), tuple(add.operands)[::-1]):
        mul = _defining(prod)
        if _load(acc) != (out, [*vb, vi, vj]) or mul is None:
            continue
        if mul.name not in ("arith.mulf", "arith.muli"):
            continue
        for x, y in (tuple(mul.operands), tuple(mul.operands)[::-1]):
            a, b = _load(_strip_extsi(x)), _load(_strip_extsi(y))
            if a is None or b is None or a[1][-2:] != [vi, vk] or b[1][-2:] != [vk, vj]:
                continue
            lhs_batch, rhs_batch = _batch_map(a[1][:-2], vb), _batch_map(b[1][:-2], vb)
            if lhs_batch is not None and rhs_batch is not None:
                found = (a[0], b[0], lhs_batch, rhs_batch)
                break
        if found:
            break
    if found is None:
        return f"{shape} (operands are not A[.., i, k] and B[.., k, j])"
    lhs, rhs, lhs_batch, rhs_batch = found
    init = [
        o
        for o in _ops(block.init)
        if not (o.name == "arith.constant" and _is_zero_index(o.results[0]))
    ]
    init_args = list(block.init.arguments)
    if (
        len(init) != 2
        or init[1].name != "memref.store"
        or list(init[1].operands)[1:] != [out, *init_args[: nb + 2]]
    ):
        return "its init does not store C[i, j] = 0"
    zero = _defining(init[1].operands[0])
    if zero is None or zero.name != "arith.constant" or _constant_value(zero) != 0:
        return "its init does not store C[i, j] = 0"
    elements = [str(v.type.element_type) for v in (lhs, rhs, out)]
    if elements not in (["f32", "f32", "f32"], ["i8", "i8", "i32"]):
        kinds = f"{' x '.join(elements[:2])} into {elements[2]}"
        return f"its operands are {kinds}, not f32 or i8 into i32"
    loops = _enclosing_loops(op, block.iter_values)
    if loops is None:
        return "it is not directly under its own loops, one per iteration value"
    return MatmulMatch(block, lhs, rhs, out, loops, lhs_batch, rhs_batch)


def _constant_value(op: ir.Operation) -> float:
    attr = op.attributes["value"]
    return float(attr.value) if isinstance(attr, (ir.FloatAttr, ir.IntegerAttr)) else float("nan")


def _enclosing_loops(op: ir.Operation, ivs: list[ir.Value]) -> list[ir.Operation] | None:
    """The loops binding `ivs`, if they are perfectly nested directly around `op`."""
    loops: list[ir.Operation] = []
    inner = op
    for iv in reversed(ivs):
        loop = inner.parent
        if (
            loop is None
            or loop.name != "scf.for"
            or len(list(loop.regions[0].blocks[0].operations)) != 2
        ):
            return None
        if loop.regions[0].blocks[0].arguments[0] != iv:
            return None
        loops.insert(0, loop)
        inner = loop
    return loops


def _split_extent(extent: int, tile: int) -> list[tuple[int, int, int]]:
    """(start, end, tile) pieces covering [0, extent): full tiles, then one remainder tile."""
    main = extent - extent % tile
    pieces = [(0, main, tile)] if main else []
    if extent % tile:
        pieces.append((main, extent, extent % tile))
    return pieces


@dataclass(frozen=True)
class TileConfig:
    """The decisions of a tensorized matmul: the register tile (rows x cols of the accumulator),
    whether rhs panels are packed, and whether column panels run on parallel threads."""

    rows: int
    cols: int
    pack: bool
    parallel: bool


def default_config(match: MatmulMatch, vector_width: int) -> TileConfig:
    """Up to MAX_ROWS accumulator rows of two vectors each; packing when PACK_MIN_ROWS or more
    rows reuse a panel; threads above PARALLEL_MIN_MACS (over batches when there are several,
    else over panels)."""
    *batch, m, n = match.out.type.shape
    k = match.lhs.type.shape[-1]
    rows, cols = min(m, MAX_ROWS), min(n, 2 * vector_width)
    work = m * n * k * math.prod(batch)
    split = (batch[0] if batch else 1) >= 2 or n // cols >= 2
    return TileConfig(
        rows, cols, m >= PACK_MIN_ROWS and n > cols, work >= PARALLEL_MIN_MACS and split
    )


def tensorize(match: MatmulMatch, vector_width: int, config: TileConfig | None = None) -> None:
    """Replace the matched block and its loops by micro-kernel tiles (the last row tile and
    column tile take what remains: a partial vector where a row is not a multiple of the width).
    Batch dimensions stay loops around the tiles; `parallel` runs the outermost batch loop on
    threads when there is one, else the column panels."""
    *batch, m, n = match.out.type.shape
    k = match.lhs.type.shape[-1]
    config = config or default_config(match, vector_width)
    rows, cols = min(m, config.rows), min(n, config.cols)
    outer = match.loops[0]
    fn = outer.parent
    while fn.name != "func.func":
        fn = fn.parent
    name = match.block.block_name
    with ir.InsertionPoint(outer), outer.location:
        element = match.out.type.element_type

        def init(v: list[ir.Value]) -> None:
            memref.StoreOp(float_constant(element, 0.0), match.out, v)

        batch_names = [f"b{d}" for d in range(len(batch))]
        shape = [*batch, m, n]
        emit_block(
            f"{name}_init", [*batch_names, "i", "j"], shape, [IterType.SPATIAL] * len(shape), init
        )
        bvs, ip = loop_nest(batch_names, batch) if batch else ([], ir.InsertionPoint.current)
        if batch and config.parallel and batch[0] >= 2:
            bvs[0].owner.owner.attributes[LOOP_KIND] = ir.StringAttr.get("parallel")
        parallel_panels = config.parallel and not (batch and batch[0] >= 2)

        def batch_offsets(mapping: list[int | None]) -> list:
            return [0 if p is None else bvs[p] for p in mapping]

        lhs_off, rhs_off = batch_offsets(match.lhs_batch), batch_offsets(match.rhs_batch)
        # Column panels outside: one K x NR panel of rhs stays in cache while every row tile
        # of lhs streams past it. Independent panels run on parallel threads when big enough.
        with ip:
            for j_start, j_end, nr in _split_extent(n, cols):
                (jo,), jp = loop_nest(["j"], [j_end], steps=[nr], starts=[j_start])
                if parallel_panels and (j_end - j_start) // nr >= 2:
                    jo.owner.owner.attributes[LOOP_KIND] = ir.StringAttr.get("parallel")
                with jp:
                    b = _subview(match.rhs, [*rhs_off, 0, jo], [k, nr])
                    if config.pack:
                        b = _pack(b, f"{name}_pack_rhs")
                    for i_start, i_end, mr in _split_extent(m, rows):
                        (io,), inner = loop_nest(["i"], [i_end], steps=[mr], starts=[i_start])
                        with inner:
                            a = _subview(match.lhs, [*lhs_off, io, 0], [mr, k])
                            c = _subview(match.out, [*bvs, io, jo], [mr, nr])
                            FmaMicrokernelOp(a, b, c, vector_width=vector_width)
    outer.erase()
    uniquify_loop_names(fn)


def tensorize_i8(match: MatmulMatch, vector_width: int, rows: int = MAX_ROWS) -> None:
    """Replace an i8 matmul block (2-D) by `hwprim.dot_i8_microkernel` tiles (VNNI).

    vpdpbusd multiplies unsigned by signed bytes, so the program computes with lhs + 128:
    C = (A + 128) B - 128 colsum(B). Blocks: rhs packed into VNNI layout (K/4 x N'*4, zero
    padded to whole vectors and a multiple of 4 in k), its column sums, lhs shifted into
    unsigned bytes (xor 0x80), the accumulator C' (M x N') initialized to -128 colsum, the
    micro-kernel tiles (column panels of two vectors, row tiles of `rows`; panels on parallel
    threads above PARALLEL_MIN_MACS), then C = C' (C' is C itself when N is whole vectors)."""
    m, n = match.out.type.shape
    k = match.lhs.type.shape[-1]
    k_pad, n_pad = -(-k // 4) * 4, -(-n // vector_width) * vector_width
    i8, i32 = ir.IntegerType.get_signless(8), ir.IntegerType.get_signless(32)
    outer = match.loops[0]
    fn = outer.parent
    while fn.name != "func.func":
        fn = fn.parent
    name = match.block.block_name
    spatial = [IterType.SPATIAL] * 3
    with ir.InsertionPoint(outer), outer.location:
        rhs_packed = memref.AllocOp(ir.MemRefType.get([k_pad // 4, n_pad * 4], i8), [], []).result
        colsum = memref.AllocOp(ir.MemRefType.get([n_pad], i32), [], []).result
        lhs_u8 = memref.AllocOp(ir.MemRefType.get([m, k_pad], i8), [], []).result
        direct = n == n_pad  # whole vectors: accumulate in the output itself
        acc = match.out if direct else memref.AllocOp(ir.MemRefType.get([m, n_pad], i32), [], [])
        acc = acc if direct else acc.result
        four = index_constant(4)

        def below(value: ir.Value, bound: int) -> ir.Value:
            return arith.CmpIOp(arith.CmpIPredicate.ult, value, index_constant(bound)).result

        def pack_rhs(v: list[ir.Value]) -> None:
            """rhs_packed[q, 4 j + r] = rhs[4 q + r, j], zero outside rhs."""
            q, c = v
            kk = arith.AddIOp(arith.MulIOp(q, four).result, arith.RemUIOp(c, four).result).result
            j = arith.DivUIOp(c, four).result
            inside = arith.AndIOp(below(kk, k), below(j, n)).result
            guard = scf.IfOp(inside, [i8], has_else=True)
            with ir.InsertionPoint(guard.then_block):
                scf.YieldOp([memref.LoadOp(match.rhs, [kk, j]).result])
            with ir.InsertionPoint(guard.else_block):
                scf.YieldOp([arith.ConstantOp(i8, 0).result])
            memref.StoreOp(guard.results[0], rhs_packed, [q, c])

        def colsum_init(v: list[ir.Value]) -> None:
            memref.StoreOp(arith.ConstantOp(i32, 0).result, colsum, v[1:])

        def colsum_body(v: list[ir.Value]) -> None:
            kk, j = v  # k outside, j inside: rows of rhs are read contiguously
            guard = scf.IfOp(below(j, n))
            with ir.InsertionPoint(guard.then_block):
                value = arith.ExtSIOp(i32, memref.LoadOp(match.rhs, [kk, j]).result).result
                total = arith.AddIOp(memref.LoadOp(colsum, [j]).result, value).result
                memref.StoreOp(total, colsum, [j])
                scf.YieldOp([])

        def shift_lhs(v: list[ir.Value]) -> None:
            i, kk = v
            guard = scf.IfOp(below(kk, k), [i8], has_else=True)
            with ir.InsertionPoint(guard.then_block):
                value = memref.LoadOp(match.lhs, [i, kk]).result
                scf.YieldOp([arith.XOrIOp(value, arith.ConstantOp(i8, -128).result).result])
            with ir.InsertionPoint(guard.else_block):
                scf.YieldOp([arith.ConstantOp(i8, 0).result])
            memref.StoreOp(guard.results[0], lhs_u8, [i, kk])

        def acc_init(v: list[ir.Value]) -> None:
            scaled = arith.MulIOp(memref.LoadOp(colsum, v[1:]).result, arith.ConstantOp(i32, -128))
            memref.StoreOp(scaled.result, acc, v)

        def copy_out(v: list[ir.Value]) -> None:
            memref.StoreOp(memref.LoadOp(acc, v).result, match.out, v)

        packed_shape = [k_pad // 4, n_pad * 4]
        emit_block(f"{name}_pack_rhs", ["q", "c"], packed_shape, spatial[:2], pack_rhs)
        reduction_first = [IterType.REDUCTION, IterType.SPATIAL]
        emit_block(
            f"{name}_colsum", ["k", "j"], [k, n_pad], reduction_first, colsum_body, colsum_init
        )
        emit_block(f"{name}_shift_lhs", ["i", "k"], [m, k_pad], spatial[:2], shift_lhs)
        emit_block(f"{name}_init", ["i", "j"], [m, n_pad], spatial[:2], acc_init)
        cols = min(n_pad, 2 * vector_width)
        threads = m * n * k >= PARALLEL_MIN_MACS  # column panels on parallel threads
        for j_start, j_end, nr in _split_extent(n_pad, cols):
            (jo,), jp = loop_nest(["j"], [j_end], steps=[nr], starts=[j_start])
            if threads and (j_end - j_start) // nr >= 2:
                jo.owner.owner.attributes[LOOP_KIND] = ir.StringAttr.get("parallel")
            with jp:
                j_bytes = arith.MulIOp(jo, four).result
                b = _subview_2d(rhs_packed, [0, j_bytes], [k_pad // 4, nr * 4])
                for i_start, i_end, mr in _split_extent(m, min(m, rows)):
                    (io,), inner = loop_nest(["i"], [i_end], steps=[mr], starts=[i_start])
                    with inner:
                        a = _subview_2d(lhs_u8, [io, 0], [mr, k_pad])
                        c = _subview_2d(acc, [io, jo], [mr, nr])
                        DotI8MicrokernelOp(a, b, c, vector_width=vector_width)
        if not direct:
            emit_block(f"{name}_copy_out", ["i", "j"], [m, n], spatial[:2], copy_out)
    outer.erase()
    uniquify_loop_names(fn)


def _subview_2d(source: ir.Value, offsets: list, tile: list[int]) -> ir.Value:
    return memref.subview(source, offsets, tile, [1, 1], result_type=_tile_type(source, *tile))


def _subview(source: ir.Value, offsets: list, tile: list[int]) -> ir.Value:
    """The 2-D tile at `offsets` (batch dimensions of size 1 are dropped)."""
    rank = len(source.type.shape)
    sizes = [1] * (rank - 2) + tile
    return memref.subview(source, offsets, sizes, [1] * rank, result_type=_tile_type(source, *tile))


def _pack(panel: ir.Value, block_name: str) -> ir.Value:
    """Copy a strided K x NR panel into a contiguous buffer (TensorIR's cache_read): the
    micro-kernel then walks one page instead of K of them."""
    rows, cols = panel.type.shape
    packed = memref.AllocOp(ir.MemRefType.get([rows, cols], panel.type.element_type), [], []).result

    def copy(v: list[ir.Value]) -> None:
        memref.StoreOp(memref.LoadOp(panel, v).result, packed, v)

    block = emit_block(block_name, ["kp", "jp"], [rows, cols], [IterType.SPATIAL] * 2, copy)
    inner = block.operation.parent
    inner.attributes[LOOP_KIND] = ir.StringAttr.get("vectorized")
    return packed


def _tile_type(source: ir.Value, rows: int, cols: int) -> ir.MemRefType:
    strides, _ = source.type.get_strides_and_offset()
    layout = ir.StridedLayoutAttr.get(
        ir.ShapedType.get_dynamic_stride_or_offset(), list(strides)[-2:]
    )
    return ir.MemRefType.get([rows, cols], source.type.element_type, layout)


class ConvertTprogToHwprimPass(Pass):
    """Tensorize matmul blocks into register-blocked FMA micro-kernels"""

    argument = "convert-tprog-to-hwprim"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        for op in [op for op in walk(module) if op.name == "tprog.block"]:
            match = match_matmul(op)
            if match is None:
                continue
            if not match.quantized:
                tensorize(match, self.options.vector_width)
            elif self.options.vnni and self.options.vector_width == 16 and match.batch == 0:
                tensorize_i8(match, 16)
