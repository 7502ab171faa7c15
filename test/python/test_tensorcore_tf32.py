"""TF32 on the TensorCores: the m16n8k8 .tf32 fragment layouts and 32-bit ldmatrix against the PTX
ISA tables, cvt.rna.tf32.f32 rounding, the simulator semantics of the f32 forms of ldmatrix /
frag_load / mma_sync / wgmma / cp_async against numpy, f32 matmuls tensorized with
`tprog-gpu-tensorize{tf32=true}` simulated against numpy, the lowered frag_load run lane by
lane, and PTX with mma.sync .tf32 (sm_80) and wgmma .tf32 (sm_90a) accepted by ptxas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import strata
from mlir import ir
from strata.compiler import parse_module
from strata.conversions import tensorcore_layouts as layouts
from strata.conversions.hwprim_to_nvvm import ConvertHwprimToNvvmPass
from strata.frontends.builder import GraphBuilder
from strata.irutil import walk
from strata.passes import get_pass
from strata.pipelines import Pipeline
from tensorcore_ptx import assembles, kernel_ptx, needs_ptxas

WG = "#gpu.address_space<workgroup>"


def entries(table: layouts.Table, lane: int) -> list[tuple[int, int]]:
    rows, cols = table
    return [(int(r), int(c)) for r, c in zip(rows[lane], cols[lane])]


# ---- layouts: entries copied from the PTX ISA's m16n8k8 .tf32 fragment figures ----------------


def test_tf32_a_fragment_matches_ptx_isa() -> None:
    # rows 0 and 8 of A: T0..T3 hold a0 / a1 at columns 0..3, a2 / a3 at columns 4..7
    table = layouts.tf32_a_layout()
    assert entries(table, 0) == [(0, 0), (8, 0), (0, 4), (8, 4)]
    assert entries(table, 5) == [(1, 1), (9, 1), (1, 5), (9, 5)]
    assert entries(table, 31) == [(7, 3), (15, 3), (7, 7), (15, 7)]


def test_tf32_b_fragment_matches_ptx_isa() -> None:
    # B (k x n): column n is held by lanes 4n..4n+3, b0 at rows 0..3, b1 at rows 4..7
    table = layouts.tf32_b_layout()
    assert entries(table, 0) == [(0, 0), (4, 0)]
    assert entries(table, 5) == [(1, 1), (5, 1)]
    assert entries(table, 30) == [(2, 7), (6, 7)]


def test_32_bit_ldmatrix_gives_the_tf32_a_fragment() -> None:
    # one 8x4 f32 matrix (8 rows of 16 bytes): lane i holds element (i / 4, i % 4)
    assert entries(layouts.ldmatrix_layout(8, 4, False, 32), 5) == [(1, 1)]
    assert entries(layouts.ldmatrix_layout(8, 8, False, 32), 13) == [(3, 1), (3, 5)]
    # .x4 of a 16x8 f32 tile: matrices (0, 0), (8, 0), (0, 4), (8, 4): the A fragment
    np.testing.assert_array_equal(
        layouts.ldmatrix_layout(16, 8, False, 32), layouts.tf32_a_layout()
    )
    # lanes 8q..8q+7 address the rows of matrix q; its columns start at 4 * (q div 2)
    assert layouts.ldmatrix_row_address(13, 16, 8, 32) == (13, 0)
    assert layouts.ldmatrix_row_address(17, 16, 8, 32) == (1, 4)
    assert layouts.ldmatrix_row_address(31, 16, 8, 32) == (15, 4)


@pytest.mark.parametrize(
    "table, shape",
    [(layouts.tf32_a_layout(), (16, 8)), (layouts.tf32_b_layout(), (8, 8))],
)
def test_every_tf32_element_is_held_once(table: layouts.Table, shape: tuple[int, int]) -> None:
    counts = np.zeros(shape, dtype=int)
    np.add.at(counts, table, 1)
    assert (counts == 1).all()


def test_core_matrices_of_f32(rng: np.random.Generator) -> None:
    matrix = rng.standard_normal((64, 8)).astype(np.float32)
    tiles = layouts.to_core_matrices(matrix, 4)  # [row group, k group, row, k]: 8 rows of 4 f32
    assert tiles.shape == (8, 2, 8, 4) and tiles[3, 1, 5, 2] == matrix[8 * 3 + 5, 4 * 1 + 2]
    np.testing.assert_array_equal(layouts.from_core_matrices(tiles), matrix)


# ---- cvt.rna.tf32.f32 ---------------------------------------------------------------------------


def _rna_reference(x: np.ndarray) -> np.ndarray:
    """Round to 11 significant bits, ties away from zero, in float64 (normal numbers)."""
    mantissa, exponent = np.frexp(x.astype(np.float64))  # |mantissa| in [0.5, 1): 24 bits
    scaled = mantissa * 2.0**11
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    return np.ldexp(rounded / 2.0**11, exponent).astype(np.float32)


def test_round_tf32_is_round_to_nearest_ties_away(rng: np.random.Generator) -> None:
    ulp = 2.0**-10  # TF32's 10 mantissa bits at 1.0
    values = np.array(
        [1 + ulp / 2, -(1 + ulp / 2), 1 + 3 * ulp / 2, 1 + ulp / 2 - 2.0**-23, 1 + ulp],
        dtype=np.float32,
    )
    expected = np.array([1 + ulp, -(1 + ulp), 1 + 2 * ulp, 1, 1 + ulp], dtype=np.float32)
    np.testing.assert_array_equal(layouts.round_tf32(values), expected)  # even would give 1
    x = (rng.standard_normal(10_000) * 10.0 ** rng.integers(-30, 30, 10_000)).astype(np.float32)
    np.testing.assert_array_equal(layouts.round_tf32(x), _rna_reference(x))
    assert layouts.is_tf32(layouts.round_tf32(x)) and not layouts.is_tf32(x)


def test_round_tf32_special_values() -> None:
    largest = np.finfo(np.float32).max  # rounds up past the largest TF32: infinity
    values = np.array([largest, -largest, np.inf, -np.inf, np.nan, 0.0, -0.0], np.float32)
    rounded = layouts.round_tf32(values)
    np.testing.assert_array_equal(rounded[:4], [np.inf, -np.inf, np.inf, -np.inf])
    assert np.isnan(rounded[4]) and layouts.is_tf32(rounded)
    assert rounded[5] == 0 and np.signbit(rounded[6])
    tiny = np.array([3e-39, 1.5e-45], np.float32)  # subnormals keep 10 bits below 2^-126
    assert layouts.is_tf32(layouts.round_tf32(tiny))
    assert layouts.round_tf32(tiny)[1] == 0  # 2^-149 is below half a TF32 subnormal ulp


# ---- simulator semantics of single ops -------------------------------------------------------


def test_ldmatrix_frag_load_round_mma_tf32(rng: np.random.Generator) -> None:
    """ldmatrix.x4 of a 16x8 f32 A, frag_load of an 8x8 B, round_tf32 of both, two chained
    mma.sync m16n8k8 .tf32 and a fragment store == 2 round(A) round(B)."""
    text = f"""
    func.func @f(%a: memref<16x8xf32, {WG}>, %b: memref<8x8xf32, {WG}>, %c: memref<16x8xf32>) {{
      %c0 = arith.constant 0 : index
      %fa = "hwprim.ldmatrix"(%a) {{trans = false}} : (memref<16x8xf32, {WG}>) -> vector<4xf32>
      %fb = "hwprim.frag_load"(%b) {{operand = "b"}} : (memref<8x8xf32, {WG}>) -> vector<2xf32>
      %ra = "hwprim.round_tf32"(%fa) : (vector<4xf32>) -> vector<4xf32>
      %rb = "hwprim.round_tf32"(%fb) : (vector<2xf32>) -> vector<2xf32>
      %zero = arith.constant dense<0.0> : vector<4xf32>
      %d = "hwprim.mma_sync"(%ra, %rb, %zero) : (vector<4xf32>, vector<2xf32>, vector<4xf32>) -> vector<4xf32>
      %e = "hwprim.mma_sync"(%ra, %rb, %d) : (vector<4xf32>, vector<2xf32>, vector<4xf32>) -> vector<4xf32>
      "hwprim.frag_store"(%e, %c, %c0, %c0) : (vector<4xf32>, memref<16x8xf32>, index, index) -> ()
      return
    }}"""  # noqa: E501
    a = rng.standard_normal((16, 8)).astype(np.float32)
    b = rng.standard_normal((8, 8)).astype(np.float32)
    c = np.zeros((16, 8), np.float32)
    strata.simulate(parse_module(text), a, b, c)
    rounded = layouts.round_tf32(a).astype(np.float64) @ layouts.round_tf32(b)
    np.testing.assert_allclose(c, 2 * rounded, rtol=1e-6, atol=1e-6)
    assert np.abs(c - 2 * (a.astype(np.float64) @ b)).max() > 1e-5  # TF32, not f32, products


def test_mma_tf32_refuses_operands_that_are_not_tf32(rng: np.random.Generator) -> None:
    text = """
    func.func @f(%a: vector<4xf32>, %b: vector<2xf32>, %c: vector<4xf32>) -> vector<4xf32> {
      %d = "hwprim.mma_sync"(%a, %b, %c) : (vector<4xf32>, vector<2xf32>, vector<4xf32>) -> vector<4xf32>
      return %d : vector<4xf32>
    }"""  # noqa: E501
    a = np.full(4, 1 + 2.0**-20, np.float32)  # a bit below TF32's 10 mantissa bits
    b = np.ones(2, np.float32)
    with pytest.raises(strata.interpreter.SimulationError, match="not TF32.*round_tf32"):
        strata.simulate(parse_module(text), a, b, np.zeros(4, np.float32))


@pytest.mark.parametrize("element", ["f16", "f32"])
def test_frag_load_matches_the_mma_layouts(element: str, rng: np.random.Generator) -> None:
    """frag_load gives what the mma_sync layouts say (on f16, what ldmatrix gives)."""
    a_shape, b_shape = ((16, 8), (8, 8)) if element == "f32" else ((16, 16), (16, 8))
    na, nb = (4, 2) if element == "f32" else (8, 4)
    text = f"""
    func.func @f(%a: memref<{a_shape[0]}x{a_shape[1]}x{element}>, %b: memref<{b_shape[0]}x{b_shape[1]}x{element}>) -> (vector<{na}x{element}>, vector<{nb}x{element}>) {{
      %fa = "hwprim.frag_load"(%a) {{operand = "a"}} : (memref<{a_shape[0]}x{a_shape[1]}x{element}>) -> vector<{na}x{element}>
      %fb = "hwprim.frag_load"(%b) {{operand = "b"}} : (memref<{b_shape[0]}x{b_shape[1]}x{element}>) -> vector<{nb}x{element}>
      return %fa, %fb : vector<{na}x{element}>, vector<{nb}x{element}>
    }}"""  # noqa: E501
    dtype = np.float32 if element == "f32" else np.float16
    a = rng.standard_normal(a_shape).astype(dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    fa, fb = strata.simulate(parse_module(text), a, b)
    a_table, _ = layouts.operand_layout("a", element)
    b_table, _ = layouts.operand_layout("b", element)
    np.testing.assert_array_equal(fa, layouts.to_fragment(a, a_table))
    np.testing.assert_array_equal(fb, layouts.to_fragment(b, b_table))
    if element == "f16":
        np.testing.assert_array_equal(a_table, layouts.ldmatrix_layout(16, 16, False))
        np.testing.assert_array_equal(b_table, layouts.ldmatrix_layout(16, 8, True))


def test_wgmma_tf32(rng: np.random.Generator) -> None:
    """Two chained wgmma m64n24k8 .tf32 on K-major core matrices of A and of B^T == 2 A B."""
    a_t, b_t, acc = f"memref<8x2x8x4xf32, {WG}>", f"memref<3x2x8x4xf32, {WG}>", "vector<12xf32>"
    text = f"""
    func.func @f(%a: {a_t}, %b: {b_t}, %c: memref<64x24xf32>) {{
      %c0 = arith.constant 0 : index
      %zero = arith.constant dense<0.0> : {acc}
      "hwprim.wgmma_fence"() : () -> ()
      %d = "hwprim.wgmma"(%zero, %a, %b) : ({acc}, {a_t}, {b_t}) -> {acc}
      %e = "hwprim.wgmma"(%d, %a, %b) : ({acc}, {a_t}, {b_t}) -> {acc}
      "hwprim.wgmma_commit"() : () -> ()
      "hwprim.wgmma_wait"() {{pending = 0 : i64}} : () -> ()
      "hwprim.wgmma_store"(%e, %c, %c0, %c0) : ({acc}, memref<64x24xf32>, index, index) -> ()
      return
    }}"""
    a = layouts.round_tf32(rng.standard_normal((64, 8)).astype(np.float32))
    b = layouts.round_tf32(rng.standard_normal((8, 24)).astype(np.float32))
    c = np.zeros((64, 24), np.float32)
    a_tiles = np.ascontiguousarray(layouts.to_core_matrices(a, 4))
    b_tiles = np.ascontiguousarray(layouts.to_core_matrices(b.T, 4))  # K-major B
    assert b_tiles[2, 1, 3, 1] == b[4 * 1 + 1, 8 * 2 + 3]
    strata.simulate(parse_module(text), a_tiles, b_tiles, c)
    np.testing.assert_allclose(c, 2 * (a.astype(np.float64) @ b), rtol=1e-6, atol=1e-5)
    with pytest.raises(strata.interpreter.SimulationError, match="wgmma b holds f32 values"):
        b_tiles[0, 0, 0, 0] += np.float32(2.0**-20) * b_tiles[0, 0, 0, 0]
        strata.simulate(parse_module(text), a_tiles, b_tiles, c)


def test_cp_async_f32_copies_or_zero_fills(rng: np.random.Generator) -> None:
    text = f"""
    func.func @f(%s: memref<2x8xf32, {WG}>, %g: memref<3x12xf32>) {{
      %c1 = arith.constant 1 : index
      %c4 = arith.constant 4 : index
      %c12 = arith.constant 12 : index
      %d0 = memref.subview %s[0, 4] [1, 4] [1, 1] : memref<2x8xf32, {WG}> to memref<4xf32, strided<[1], offset: 4>, {WG}>
      %d1 = memref.subview %s[1, 0] [1, 4] [1, 1] : memref<2x8xf32, {WG}> to memref<4xf32, strided<[1], offset: 8>, {WG}>
      "hwprim.cp_async"(%d0, %g, %c1, %c4) : (memref<4xf32, strided<[1], offset: 4>, {WG}>, memref<3x12xf32>, index, index) -> ()
      "hwprim.cp_async"(%d1, %g, %c1, %c12) : (memref<4xf32, strided<[1], offset: 8>, {WG}>, memref<3x12xf32>, index, index) -> ()
      return
    }}"""  # noqa: E501
    shared = np.full((2, 8), 7, np.float32)
    source = rng.standard_normal((3, 12)).astype(np.float32)
    strata.simulate(parse_module(text), shared, source)
    np.testing.assert_array_equal(shared[0, 4:], source[1, 4:8])  # 4 f32 = 16 bytes
    assert (shared[1, :4] == 0).all()  # past the end of the row: zero-filled
    assert (shared[0, :4] == 7).all() and (shared[1, 4:] == 7).all()


# ---- the lowered frag_load, lane by lane ------------------------------------------------------


def test_lowered_frag_load_matches_the_layout(rng: np.random.Generator) -> None:
    text = """
    func.func @f(%t: memref<8x8xf32, strided<[12, 1], offset: 2>>, %lane: index) -> vector<2xf32> {
      %x = "hwprim.frag_load"(%t) {operand = "b"} : (memref<8x8xf32, strided<[12, 1], offset: 2>>) -> vector<2xf32>
      return %x : vector<2xf32>
    }"""  # noqa: E501
    module = parse_module(text)
    with module.context, ir.Location.unknown():
        ConvertHwprimToNvvmPass(chip="sm_80").run(module)
        fn = next(op for op in walk(module) if op.name == "func.func")
        lane = fn.regions[0].blocks[0].arguments[-1]
        for op in [op for op in walk(module) if op.name == "gpu.lane_id"]:
            op.results[0].replace_all_uses_with(lane)
            op.erase()
    storage = rng.standard_normal(2 + 8 * 12).astype(np.float32)
    tile = np.lib.stride_tricks.as_strided(storage[2:], (8, 8), (48, 4))
    expected = layouts.to_fragment(tile, layouts.tf32_b_layout())
    for i in range(32):
        (got,) = strata.simulate(module, tile, i)
        np.testing.assert_array_equal(got, expected[i])


# ---- tensorized f32 matmuls, simulated --------------------------------------------------------


def _matmul_module(a_shape: tuple, b_shape: tuple) -> ir.Module:
    builder = GraphBuilder("main")
    x, y = builder.input(a_shape, "f32"), builder.input(b_shape, "f32")
    module = builder.finish(builder.matmul(x, y))
    Pipeline.parse("convert-graph-to-tprog").run(module)
    return module


SHAPES = [
    ((70, 40), (40, 90)),  # one 128x128 tile, K in 3 tiles of 16
    ((130, 48), (48, 136)),  # 2 x 2 tiles
    ((1, 8), (8, 8)),  # one mma
    ((2, 33, 24), (24, 17)),  # batched, rhs broadcast, 64x64 tiles; B rows not whole vectors
    ((3, 20, 16), (3, 16, 40)),
    ((17, 50), (50, 9)),  # K = 50: neither row length is whole vectors
]


@pytest.mark.parametrize("chip", ["sm_80", "sm_90a"])
@pytest.mark.parametrize("a_shape, b_shape", SHAPES)
def test_tensorized_tf32_matmul(chip: str, a_shape: tuple, b_shape: tuple, rng) -> None:
    module = _matmul_module(a_shape, b_shape)
    Pipeline.parse(f"tprog-gpu-tensorize{{chip={chip} tf32=true}}").run(module)
    module.operation.verify()
    names = {op.name for op in walk(module.operation)}
    assert "tprog.block" not in names and "hwprim.round_tf32" in names
    assert ("hwprim.wgmma" if chip == "sm_90a" else "hwprim.mma_sync") in names
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    (out,) = strata.simulate(module, a, b)
    reference = np.matmul(a.astype(np.float64), b)
    scale = np.abs(reference).max()
    np.testing.assert_allclose(out, reference, rtol=1e-2, atol=1e-2 * scale)  # TF32 operands
    # exactly TF32 products (cvt.rna) summed in f32
    rounded = np.matmul(layouts.round_tf32(a).astype(np.float64), layouts.round_tf32(b))
    np.testing.assert_allclose(out, rounded, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("options", ["chip=sm_80", "chip=sm_75 tf32=true"])
def test_f32_matmuls_stay_without_tf32(options: str) -> None:
    module = _matmul_module((32, 32), (32, 32))
    Pipeline.parse(f"tprog-gpu-tensorize{{{options}}}").run(module)
    names = {op.name for op in walk(module.operation)}
    assert "tprog.block" in names and not any(n.startswith("hwprim.") for n in names)


# ---- PTX accepted by ptxas ----------------------------------------------------------------------


TF32_KERNEL = f"""
module attributes {{gpu.container_module}} {{
  gpu.module @kernels {{
    gpu.func @tf32(%out: memref<20x12xf32>, %in: memref<64x24xf32>) workgroup(%sa: memref<16x20xf32, {WG}>) kernel {{
      %c0 = arith.constant 0 : index
      %c4 = arith.constant 4 : index
      %row = memref.subview %sa[%c4, 8] [1, 4] [1, 1] : memref<16x20xf32, {WG}> to memref<4xf32, strided<[1], offset: ?>, {WG}>
      "hwprim.cp_async"(%row, %in, %c4, %c0) : (memref<4xf32, strided<[1], offset: ?>, {WG}>, memref<64x24xf32>, index, index) -> ()
      "hwprim.cp_async_commit"() : () -> ()
      "hwprim.cp_async_wait"() {{pending = 0 : i64}} : () -> ()
      gpu.barrier
      %ta = memref.subview %sa[0, %c4] [16, 8] [1, 1] : memref<16x20xf32, {WG}> to memref<16x8xf32, strided<[20, 1], offset: ?>, {WG}>
      %tb = memref.subview %sa[4, %c4] [8, 8] [1, 1] : memref<16x20xf32, {WG}> to memref<8x8xf32, strided<[20, 1], offset: ?>, {WG}>
      %fa = "hwprim.ldmatrix"(%ta) {{trans = false}} : (memref<16x8xf32, strided<[20, 1], offset: ?>, {WG}>) -> vector<4xf32>
      %fb = "hwprim.frag_load"(%tb) {{operand = "b"}} : (memref<8x8xf32, strided<[20, 1], offset: ?>, {WG}>) -> vector<2xf32>
      %ra = "hwprim.round_tf32"(%fa) : (vector<4xf32>) -> vector<4xf32>
      %rb = "hwprim.round_tf32"(%fb) : (vector<2xf32>) -> vector<2xf32>
      %zero = arith.constant dense<0.0> : vector<4xf32>
      %d = "hwprim.mma_sync"(%ra, %rb, %zero) : (vector<4xf32>, vector<2xf32>, vector<4xf32>) -> vector<4xf32>
      "hwprim.frag_store"(%d, %out, %c4, %c0) : (vector<4xf32>, memref<20x12xf32>, index, index) -> ()
      gpu.return
    }}
  }}
}}"""  # noqa: E501


@needs_ptxas
def test_ptxas_accepts_the_tf32_ops(tmp_path: Path) -> None:
    ptx = kernel_ptx(parse_module(TF32_KERNEL), "sm_80")
    for instruction in (
        "cp.async.cg.shared.global",
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16",
        "ld.shared.b32",  # the B fragment
        "cvt.rna.tf32.f32",
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32",
    ):
        assert instruction in ptx, instruction
    assembles(ptx, "sm_80")


@needs_ptxas
@pytest.mark.skipif(get_pass("convert-tprog-to-gpu") is None, reason="no convert-tprog-to-gpu")
@pytest.mark.parametrize("chip", ["sm_80", "sm_90a"])
def test_ptxas_accepts_a_tensorized_tf32_kernel(chip: str, tmp_path: Path) -> None:
    """A tensorized 256x200x96 f32 matmul through convert-tprog-to-gpu and the device lowering."""
    module = _matmul_module((256, 96), (96, 200))
    Pipeline.parse(
        f"tprog-gpu-tensorize{{chip={chip} tf32=true}},convert-tprog-to-scf,"
        "convert-tprog-to-gpu,gpu-kernel-outlining"
    ).run(module)
    ptx = kernel_ptx(module.operation, chip)
    expected = (
        ("wgmma.mma_async.sync.aligned.m64n128k8.f32.tf32.tf32", "cvt.rna.tf32.f32")
        if chip == "sm_90a"
        else ("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", "cvt.rna.tf32.f32")
    )
    assert all(instruction in ptx for instruction in expected)
    assembles(ptx, chip)
