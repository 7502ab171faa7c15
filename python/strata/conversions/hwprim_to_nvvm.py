"""convert-hwprim-to-nvvm: TensorCore `hwprim` ops -> per-lane NVVM ops.

Input: warp-level (ldmatrix, frag_load, mma_sync, frag_store) and warpgroup-level (wgmma and its
fence, commit, wait, store) hwprim ops inside GPU kernels (`gpu.launch` bodies or `gpu.func`s),
whose threadIdx.x is the lane (blockDim.x = 32, or 128 for wgmma), and per-thread cp_async
copies and round_tf32 conversions. Output: no such op; each lane computes its own addresses from
`gpu.lane_id` (`gpu.thread_id x` mod 128 in a warpgroup) with the coordinate functions of
`tensorcore_layouts`, and issues `nvvm.ldmatrix`, `nvvm.mma.sync` (with its PTX types: f16, bf16,
or tf32 on f32 fragments), `nvvm.wgmma.*` with shared-memory matrix descriptors,
`nvvm.cp.async.*`, `nvvm.convert.float.to.tf32` (cvt.rna), or scalar loads and guarded stores.
The result still holds memref views: `expand-strided-metadata` and `convert-gpu-to-nvvm`,
`convert-nvvm-to-llvm` (wgmma becomes inline PTX) follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlir import ir
from mlir.dialects import arith, gpu, llvm, memref, scf, vector

from strata.conversions import hwprim_to_nvvm_semantics  # noqa: F401  (registers the semantics)
from strata.conversions import tensorcore_layouts as layouts
from strata.conversions.hwprim_to_nvvm_support import (
    Chip,
    Index,
    bits,
    byte_address,
    concat,
    index,
    nvvm_op,
    pointer,
    strides,
    struct_fields,
)
from strata.diagnostics import CompileError
from strata.irutil import walk
from strata.passes import Pass

WARP_OPS = frozenset(
    {"hwprim.ldmatrix", "hwprim.frag_load", "hwprim.mma_sync", "hwprim.frag_store"}
)
WARPGROUP_OPS = frozenset(
    {"hwprim.wgmma", "hwprim.wgmma_fence", "hwprim.wgmma_commit", "hwprim.wgmma_wait"}
    | {"hwprim.wgmma_store"}
)


@dataclass(frozen=True)
class Options:
    chip: str = field(default="sm_80", metadata={"help": "target GPU: sm_80 ... sm_90, sm_90a"})

    def __post_init__(self) -> None:
        Chip.parse(self.chip, "convert-hwprim-to-nvvm")  # a PipelineError naming the bad value


def lower_ldmatrix(op: ir.Operation) -> ir.Value:
    tile, result_type = op.operands[0], ir.VectorType(op.results[0].type)
    tile_type = ir.MemRefType(tile.type)
    rows, cols = tile_type.shape
    element_bits = bits(tile_type.element_type)  # 32: f32 through the same b16 instruction
    count = (rows // 8) * (cols // layouts.matrix_columns(element_bits))
    trans = ir.BoolAttr(op.attributes["trans"]).value
    lane = Index(gpu.lane_id())
    row, col = layouts.ldmatrix_row_address(lane, rows, cols, element_bits)
    address = pointer(byte_address(tile, [row, col]), 3)
    i32 = ir.IntegerType.get_signless(32)
    struct = ir.Type.parse(f"!llvm.struct<({', '.join(['i32'] * count)})>")
    loaded = nvvm_op(
        "nvvm.ldmatrix",
        [address],
        [i32 if count == 1 else struct],
        {
            "num": f"{count} : i32",
            "layout": f"#nvvm.mma_layout<{'col' if trans else 'row'}>",
            "eltType": "#nvvm.ld_st_matrix_elt_type<b16>",
            "shape": "#nvvm.ld_st_matrix_shape<m = 8, n = 8>",
        },
    ).results[0]
    registers = [loaded] if count == 1 else struct_fields(loaded, count)
    if element_bits == 32:
        f32 = result_type.element_type
        return vector.from_elements(result_type, [llvm.BitcastOp(f32, r).result for r in registers])
    pair = ir.VectorType.get([2], result_type.element_type)
    return concat([llvm.BitcastOp(pair, r).result for r in registers])


def lower_frag_load(op: ir.Operation) -> ir.Value:
    """One scalar load per fragment element, at the lane's position in the operand layout."""
    tile, result_type = op.operands[0], ir.VectorType(op.results[0].type)
    element = str(ir.MemRefType(tile.type).element_type)
    coords = layouts.operand_coords(ir.StringAttr(op.attributes["operand"]).value, element)
    lane = Index(gpu.lane_id())
    values = []
    for i in range(result_type.shape[0]):
        row, col = coords(lane, i)
        values.append(memref.LoadOp(tile, [Index.of(row), Index.of(col)]).result)
    return vector.from_elements(result_type, values)


def round_tf32(value: ir.Value) -> ir.Value:
    """cvt.rna.tf32.f32 of one f32 value, as f32."""
    i32 = ir.IntegerType.get_signless(32)
    attributes = {"rnd": "#nvvm.fp_rnd_mode<rna>"}
    rounded = nvvm_op("nvvm.convert.float.to.tf32", [value], [i32], attributes).results[0]
    return llvm.BitcastOp(value.type, rounded).result


def lower_round_tf32(op: ir.Operation) -> ir.Value:
    value = op.operands[0]
    if not isinstance(value.type, ir.VectorType):
        return round_tf32(value)
    t = ir.VectorType(value.type)
    elements = [round_tf32(vector.ExtractOp(value, [], [i]).result) for i in range(t.shape[0])]
    return vector.from_elements(t, elements)


def lower_mma_sync(op: ir.Operation) -> ir.Value:
    a, b, c = op.operands
    element = str(ir.VectorType(a.type).element_type)
    if element == "f32":
        return _lower_mma_sync_tf32(op)
    i32 = ir.IntegerType.get_signless(32)

    def registers(v: ir.Value, count: int) -> list[ir.Value]:
        pairs = [vector.ShuffleOp(v, v, [2 * i, 2 * i + 1]).result for i in range(count)]
        # bf16 pairs travel in i32 registers (the NVVM op's operand types for bf16)
        return [llvm.BitcastOp(i32, p).result for p in pairs] if element == "bf16" else pairs

    accs = [vector.ExtractOp(c, [], [i]).result for i in range(4)]
    struct = ir.Type.parse("!llvm.struct<(f32, f32, f32, f32)>")
    mma = nvvm_op(
        "nvvm.mma.sync",
        [*registers(a, 4), *registers(b, 2), *accs],
        [struct],
        {
            "layoutA": "#nvvm.mma_layout<row>",
            "layoutB": "#nvvm.mma_layout<col>",
            # without the PTX types the NVVM op aborts the process (assertion-enabled wheels)
            "multiplicandAPtxType": f"#nvvm.mma_type<{element}>",
            "multiplicandBPtxType": f"#nvvm.mma_type<{element}>",
            "shape": "#nvvm.shape<m = 16, n = 8, k = 16>",
            "operandSegmentSizes": "array<i32: 4, 2, 4>",
        },
    ).results[0]
    return vector.from_elements(ir.VectorType(c.type), struct_fields(mma, 4))


def _lower_mma_sync_tf32(op: ir.Operation) -> ir.Value:
    """m16n8k8 .tf32: A as four b32 registers, B as two (the f32 bits), C as four f32."""
    a, b, c = op.operands
    i32 = ir.IntegerType.get_signless(32)

    def registers(v: ir.Value, count: int) -> list[ir.Value]:
        return [
            llvm.BitcastOp(i32, vector.ExtractOp(v, [], [i]).result).result for i in range(count)
        ]

    accs = [vector.ExtractOp(c, [], [i]).result for i in range(4)]
    mma = nvvm_op(
        "nvvm.mma.sync",
        [*registers(a, 4), *registers(b, 2), *accs],
        [ir.Type.parse("!llvm.struct<(f32, f32, f32, f32)>")],
        {
            "layoutA": "#nvvm.mma_layout<row>",
            "layoutB": "#nvvm.mma_layout<col>",
            "multiplicandAPtxType": "#nvvm.mma_type<tf32>",
            "multiplicandBPtxType": "#nvvm.mma_type<tf32>",
            "shape": "#nvvm.shape<m = 16, n = 8, k = 8>",
            "operandSegmentSizes": "array<i32: 4, 2, 4>",
        },
    ).results[0]
    return vector.from_elements(ir.VectorType(c.type), struct_fields(mma, 4))


def _dim(source: ir.Value, d: int) -> ir.Value:
    size = ir.MemRefType(source.type).shape[d]
    return (
        memref.DimOp(source, index(d)).result
        if ir.ShapedType.is_dynamic_size(size)
        else index(size)
    )


def _store_fragment(op: ir.Operation, coords: Any, lane: Index) -> None:
    """Guarded scalar stores of each fragment element at its (row, col) in the tile."""
    frag, base, *indices = op.operands
    base_type = ir.MemRefType(base.type)
    *lead, row0, col0 = indices
    height, width = (_dim(base, d) for d in (base_type.rank - 2, base_type.rank - 1))
    element = base_type.element_type
    for i in range(ir.VectorType(frag.type).shape[0]):
        r, c = coords(lane, i)
        row, col = (Index(row0) + r).value, (Index(col0) + c).value
        inside = arith.AndIOp(
            arith.CmpIOp(arith.CmpIPredicate.ult, row, height).result,
            arith.CmpIOp(arith.CmpIPredicate.ult, col, width).result,
        ).result
        guard = scf.IfOp(inside)
        with ir.InsertionPoint(guard.then_block):
            value = vector.ExtractOp(frag, [], [i]).result
            if str(element) != "f32":
                value = arith.TruncFOp(element, value).result
            memref.StoreOp(value, base, [*lead, row, col])
            scf.YieldOp([])


def lower_frag_store(op: ir.Operation) -> None:
    _store_fragment(op, layouts.c_coords, Index(gpu.lane_id()))


def lower_wgmma_store(op: ir.Operation) -> None:
    thread = Index(gpu.thread_id(gpu.Dimension.x)) % layouts.WARPGROUP
    _store_fragment(op, layouts.wgmma_d_coords, thread)


def _descriptor(tile: ir.Value) -> ir.Value:
    """The 64-bit wgmma matrix descriptor of core matrices [groups][kgroups][8][8] without
    swizzling (K-major or MN-major alike): start address, leading byte offset (between k
    groups: stride of dim 1) and stride byte offset (between row or column groups: stride of
    dim 0), each in 16-byte units."""
    i64 = ir.IntegerType.get_signless(64)
    meta = memref.ExtractStridedMetadataOp(tile)
    base = memref.extract_aligned_pointer_as_index(meta.base_buffer)
    scale = bits(ir.MemRefType(tile.type).element_type) // 8
    address = Index(base) + Index(meta.offset) * scale

    def field(value: Index, shift: int) -> ir.Value:
        word = arith.IndexCastOp(i64, Index.of(value)).result
        units = arith.ShRUIOp(word, arith.ConstantOp(i64, 4).result).result
        masked = arith.AndIOp(units, arith.ConstantOp(i64, 0x3FFF).result).result
        return arith.ShLIOp(masked, arith.ConstantOp(i64, shift).result).result

    groups, kgroups = strides(tile, meta)[:2]
    lead = field(kgroups * scale, 16)
    stride = field(groups * scale, 32)
    return arith.OrIOp(arith.OrIOp(field(address, 0), lead).result, stride).result


def lower_wgmma(op: ir.Operation) -> ir.Value:
    acc, a, b = op.operands
    n = 8 * ir.MemRefType(b.type).shape[0]
    element = str(ir.MemRefType(a.type).element_type)
    tf32 = element == "f32"  # m64nNk8 .tf32, B K-major (no transposed B for 32-bit types)
    struct = ir.Type.parse(f"!llvm.struct<({', '.join(['f32'] * (n // 2))})>")
    packed = llvm.mlir_undef(struct)
    for i in range(n // 2):
        packed = llvm.InsertValueOp(packed, vector.ExtractOp(acc, [], [i]).result, [i]).result
    mma = nvvm_op(
        "nvvm.wgmma.mma_async",
        [packed, _descriptor(a), _descriptor(b)],
        [struct],
        {
            "shape": f"#nvvm.shape<m = 64, n = {n}, k = {8 if tf32 else 16}>",
            "typeA": f"#nvvm.wgmma_type<{'tf32' if tf32 else element}>",
            "typeB": f"#nvvm.wgmma_type<{'tf32' if tf32 else element}>",
            "typeD": "#nvvm.wgmma_type<f32>",
            "scaleA": "#nvvm.wgmma_scale_in<one>",
            "scaleB": "#nvvm.wgmma_scale_in<one>",
            "scaleD": "#nvvm.wgmma_scale_out<one>",
            "layoutA": "#nvvm.mma_layout<row>",  # K-major A
            # MN-major B (imm-trans-b = 1); col: K-major B (tf32)
            "layoutB": f"#nvvm.mma_layout<{'col' if tf32 else 'row'}>",
        },
    ).results[0]
    return vector.from_elements(ir.VectorType(acc.type), struct_fields(mma, n // 2))


def lower_wgmma_sync(op: ir.Operation) -> None:
    if op.name == "hwprim.wgmma_fence":
        nvvm_op(
            "nvvm.fence.proxy",
            [],
            [],
            {"kind": "#nvvm.proxy_kind<async.shared>", "space": "#nvvm.shared_space<cta>"},
        )
        nvvm_op("nvvm.wgmma.fence.aligned", [], [], {})
    elif op.name == "hwprim.wgmma_commit":
        nvvm_op("nvvm.wgmma.commit.group.sync.aligned", [], [], {})
    else:
        pending = ir.IntegerAttr(op.attributes["pending"]).value
        nvvm_op("nvvm.wgmma.wait.group.sync.aligned", [], [], {"group": f"{pending} : i64"})


def lower_cp_async(op: ir.Operation) -> None:
    """cp.async.cg of 16 bytes; out of bounds: src-size 0 (zero-fill) from a clamped address."""
    dst, src, *indices = op.operands
    rank = ir.MemRefType(src.type).rank
    width = ir.MemRefType(dst.type).shape[0]  # 8 halves or 4 f32
    below = [
        arith.CmpIOp(arith.CmpIPredicate.ult, i, _dim(src, d)).result
        for d, i in enumerate(indices[:-1])
    ]
    end = (Index(indices[-1]) + width).value
    below.append(arith.CmpIOp(arith.CmpIPredicate.ule, end, _dim(src, rank - 1)).result)
    inside = below[0]
    for condition in below[1:]:
        inside = arith.AndIOp(inside, condition).result
    safe = [arith.SelectOp(inside, i, index(0)).result for i in indices]
    i32 = ir.IntegerType.get_signless(32)
    size = arith.SelectOp(
        inside, arith.ConstantOp(i32, 16).result, arith.ConstantOp(i32, 0).result
    ).result
    nvvm_op(
        "nvvm.cp.async.shared.global",
        [pointer(byte_address(dst, [0]), 3), pointer(byte_address(src, safe), 1), size],
        [],
        {"size": "16 : i32", "modifier": "#nvvm<load_cache_modifier cg>"},
    )


def lower_cp_async_sync(op: ir.Operation) -> None:
    if op.name == "hwprim.cp_async_commit":
        nvvm_op("nvvm.cp.async.commit.group", [], [], {})
    else:
        pending = ir.IntegerAttr(op.attributes["pending"]).value
        nvvm_op("nvvm.cp.async.wait.group", [], [], {"n": f"{pending} : i32"})


_LOWERINGS = {
    "hwprim.ldmatrix": lower_ldmatrix,
    "hwprim.frag_load": lower_frag_load,
    "hwprim.round_tf32": lower_round_tf32,
    "hwprim.mma_sync": lower_mma_sync,
    "hwprim.frag_store": lower_frag_store,
    "hwprim.wgmma": lower_wgmma,
    "hwprim.wgmma_store": lower_wgmma_store,
    "hwprim.wgmma_fence": lower_wgmma_sync,
    "hwprim.wgmma_commit": lower_wgmma_sync,
    "hwprim.wgmma_wait": lower_wgmma_sync,
    "hwprim.cp_async": lower_cp_async,
    "hwprim.cp_async_commit": lower_cp_async_sync,
    "hwprim.cp_async_wait": lower_cp_async_sync,
}
SM80_OPS = frozenset({"hwprim.ldmatrix", "hwprim.mma_sync", "hwprim.cp_async"})


def verify(op: ir.Operation) -> None:
    """The op's verifier (Python passes may see IR strata-opt did not verify)."""
    from strata.dialects.gpu_verifiers import GPU_VERIFIERS

    check = GPU_VERIFIERS.get(op.name)
    try:
        if check is not None:
            check(op)
    except (ValueError, TypeError, RuntimeError) as e:  # attributes of the wrong form
        raise CompileError(f"malformed '{op.name}': {e}", op.location) from None


def check_chip(op: ir.Operation, chip: Chip) -> None:
    """Refuse an op the chip does not have, at the op."""
    if op.name in WARPGROUP_OPS and not chip.has_wgmma:
        raise CompileError(
            f"'{op.name}' needs sm_90a (wgmma exists only on Hopper's arch-specific target), "
            f"but the chip is {chip.name}",
            op.location,
        )
    if op.name == "hwprim.round_tf32" and not chip.has_mma_sync:
        raise CompileError(
            f"'{op.name}' needs sm_80 or newer (cvt.rna.tf32.f32), but the chip is {chip.name}",
            op.location,
        )
    if op.name in SM80_OPS and not chip.has_mma_sync:
        raise CompileError(
            f"'{op.name}' needs sm_80 or newer (mma.sync m16n8k16, ldmatrix, cp.async), but "
            f"the chip is {chip.name}",
            op.location,
        )


class ConvertHwprimToNvvmPass(Pass):
    """Lower TensorCore hwprim ops (ldmatrix, mma_sync, wgmma, cp_async, loads, stores) to NVVM"""

    argument = "convert-hwprim-to-nvvm"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        chip = Chip.parse(self.options.chip, self.argument)
        ops = [op for op in walk(module) if op.name in _LOWERINGS]
        for op in ops:  # every op is checked before any is rewritten
            check_chip(op, chip)
            verify(op)
        for op in ops:
            with ir.InsertionPoint(op), op.location:
                new = _LOWERINGS[op.name](op)
            if new is not None:
                op.results[0].replace_all_uses_with(new)
            op.erase()
