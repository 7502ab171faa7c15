"""convert-tprog-to-hwprim: tensorize matmul blocks into the `hwprim.fma_microkernel` primitive.

Input: tensor programs. A block is tensorized when it is C[i,j] += A[i,k] * B[k,j] on f32 with
C[i,j] = 0 as init, under its own three loops (i, j, k). Output: the init becomes its own block
over (i, j) (TensorIR's decompose_reduction) and the update becomes loops over MR x NR tiles of C,
each one micro-kernel call on subviews. Blocks that do not match are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlir import ir
from mlir.dialects import memref

from strata.conversions.tprog_builder import emit_block, loop_nest, uniquify_loop_names
from strata.dialects.hwprim import FmaMicrokernelOp
from strata.dialects.tprog import BlockOp, IterType
from strata.irutil import float_constant, walk
from strata.passes import Pass
from strata.transforms.tprog.nest import LOOP_KIND

PARALLEL_MIN_MACS = 1 << 20  # below this, starting threads costs more than it saves
PACK_MIN_ROWS = 64  # pack rhs panels when this many lhs rows reuse each of them
MAX_ROWS = 8  # accumulator rows; 8 rows x 2 vectors fit the 16 (AVX2) or 32 (AVX-512) registers


@dataclass(frozen=True)
class Options:
    vector_width: int = field(
        default=16, metadata={"help": "f32 lanes per vector register (16 AVX-512, 8 AVX2)"}
    )


@dataclass
class MatmulMatch:
    block: BlockOp
    lhs: ir.Value
    rhs: ir.Value
    out: ir.Value
    loops: list[ir.Operation]  # i, j, k from the outside in


def _ops(block: ir.Block) -> list[ir.Operation]:
    return [op.operation for op in block.operations][:-1]  # without the terminator


def _defining(value: ir.Value) -> ir.Operation | None:
    owner = value.owner
    return owner.operation if isinstance(owner, (ir.Operation, ir.OpView)) else None


def _is_load(value: ir.Value, indices: list[ir.Value]) -> ir.Value | None:
    op = _defining(value)
    if op is None or op.name != "memref.load" or list(op.operands)[1:] != indices:
        return None
    return op.operands[0]


def match_matmul(op: ir.Operation) -> MatmulMatch | None:
    block = op.opview
    if block.iter_types != [IterType.SPATIAL, IterType.SPATIAL, IterType.REDUCTION]:
        return None
    vi, vj, vk = block.body.arguments
    body = _ops(block.body)
    if len(body) != 6 or body[-1].name != "memref.store":
        return None
    store = body[-1]
    if list(store.operands)[2:] != [vi, vj]:
        return None
    out = store.operands[1]
    add = _defining(store.operands[0])
    if add is None or add.name != "arith.addf":
        return None
    for acc, prod in (tuple(add.operands), tuple(add.operands)[::-1]):
        mul = _defining(prod)
        if _is_load(acc, [vi, vj]) != out or mul is None or mul.name != "arith.mulf":
            continue
        for x, y in (tuple(mul.operands), tuple(mul.operands)[::-1]):
            lhs, rhs = _is_load(x, [vi, vk]), _is_load(y, [vk, vj])
            if lhs is not None and rhs is not None:
                break
        else:
            continue
        break
    else:
        return None
    init = _ops(block.init)
    ii, ij, _ = block.init.arguments
    if (
        len(init) != 2
        or init[1].name != "memref.store"
        or list(init[1].operands)[1:] != [out, ii, ij]
    ):
        return None
    zero = _defining(init[1].operands[0])
    if (
        zero is None
        or zero.name != "arith.constant"
        or float(ir.FloatAttr(zero.attributes["value"]).value) != 0.0
    ):
        return None
    if any(str(v.type.element_type) != "f32" or len(v.type.shape) != 2 for v in (lhs, rhs, out)):
        return None
    loops = _enclosing_loops(op, block.iter_values)
    return None if loops is None else MatmulMatch(block, lhs, rhs, out, loops)


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
    """Up to MAX_ROWS accumulator rows of two vectors each; packing when 64+ rows reuse a panel;
    threads above PARALLEL_MIN_MACS."""
    m, n = match.out.type.shape
    k = match.lhs.type.shape[1]
    rows, cols = min(m, MAX_ROWS), min(n, 2 * vector_width)
    return TileConfig(
        rows,
        cols,
        m >= PACK_MIN_ROWS and n > cols,
        m * n * k >= PARALLEL_MIN_MACS and n // cols >= 2,
    )


def tensorize(match: MatmulMatch, vector_width: int, config: TileConfig | None = None) -> None:
    """Replace the matched block and its loops by micro-kernel tiles (the last row tile and
    column tile take what remains: a partial vector where a row is not a multiple of the width)."""
    m, n = match.out.type.shape
    k = match.lhs.type.shape[1]
    config = config or default_config(match, vector_width)
    rows, cols, parallel = min(m, config.rows), min(n, config.cols), config.parallel
    outer = match.loops[0]
    fn = outer.parent
    while fn.name != "func.func":
        fn = fn.parent
    name = match.block.block_name
    with ir.InsertionPoint(outer), outer.location:
        element = match.out.type.element_type

        def init(v: list[ir.Value]) -> None:
            memref.StoreOp(float_constant(element, 0.0), match.out, v)

        emit_block(f"{name}_init", ["i", "j"], [m, n], [IterType.SPATIAL] * 2, init)
        # Column panels outside: one K x NR panel of rhs stays in cache while every row tile
        # of lhs streams past it. Independent panels run on parallel threads when big enough.
        for j_start, j_end, nr in _split_extent(n, cols):
            (jo,), ip = loop_nest(["j"], [j_end], steps=[nr], starts=[j_start])
            if parallel and (j_end - j_start) // nr >= 2:
                jo.owner.owner.attributes[LOOP_KIND] = ir.StringAttr.get("parallel")
            with ip:
                b = memref.subview(
                    match.rhs, [0, jo], [k, nr], [1, 1], result_type=_tile_type(match.rhs, k, nr)
                )
                if config.pack:
                    b = _pack(b, f"{name}_pack_rhs")
                for i_start, i_end, mr in _split_extent(m, rows):
                    (io,), inner = loop_nest(["i"], [i_end], steps=[mr], starts=[i_start])
                    with inner:
                        a = memref.subview(
                            match.lhs,
                            [io, 0],
                            [mr, k],
                            [1, 1],
                            result_type=_tile_type(match.lhs, mr, k),
                        )
                        c = memref.subview(
                            match.out,
                            [io, jo],
                            [mr, nr],
                            [1, 1],
                            result_type=_tile_type(match.out, mr, nr),
                        )
                        FmaMicrokernelOp(a, b, c, vector_width=vector_width)
    outer.erase()
    uniquify_loop_names(fn)


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
    layout = ir.StridedLayoutAttr.get(ir.ShapedType.get_dynamic_stride_or_offset(), list(strides))
    return ir.MemRefType.get([rows, cols], source.type.element_type, layout)


class ConvertTprogToHwprimPass(Pass):
    """Tensorize matmul blocks into register-blocked FMA micro-kernels"""

    argument = "convert-tprog-to-hwprim"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        for op in [op for op in walk(module) if op.name == "tprog.block"]:
            match = match_matmul(op)
            if match is not None:
                tensorize(match, self.options.vector_width)
