"""TensorCore primitives: fragment layouts against the PTX ISA tables, the simulator semantics of
ldmatrix / mma_sync / wgmma against numpy, tensorized matmuls (tprog-gpu-tensorize) simulated
against numpy, the lowering's per-lane stores, and PTX from convert-hwprim-to-nvvm accepted by
ptxas for sm_80 (mma.sync, ldmatrix) and sm_90a (wgmma)."""

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
from strata.interpreter.values import bf16_to_f32, f32_to_bf16
from strata.irutil import walk
from strata.passes import get_pass
from strata.pipelines import Pipeline
from tensorcore_ptx import assembles, kernel_ptx, needs_ptxas

WG = "#gpu.address_space<workgroup>"


def entries(table: layouts.Table, lane: int) -> list[tuple[int, int]]:
    rows, cols = table
    return [(int(r), int(c)) for r, c in zip(rows[lane], cols[lane])]


# ---- layouts: entries copied from the PTX ISA's fragment figures ------------------------------


def test_a_fragment_matches_ptx_isa() -> None:
    table = layouts.a_layout()
    assert entries(table, 0) == [(0, 0), (0, 1), (8, 0), (8, 1), (0, 8), (0, 9), (8, 8), (8, 9)]
    assert entries(table, 5) == [(1, 2), (1, 3), (9, 2), (9, 3), (1, 10), (1, 11), (9, 10), (9, 11)]
    assert entries(table, 31) == [
        (7, 6), (7, 7), (15, 6), (15, 7), (7, 14), (7, 15), (15, 14), (15, 15)
    ]  # fmt: skip


def test_b_fragment_matches_ptx_isa() -> None:
    table = layouts.b_layout()  # (row k, column n)
    assert entries(table, 0) == [(0, 0), (1, 0), (8, 0), (9, 0)]
    assert entries(table, 5) == [(2, 1), (3, 1), (10, 1), (11, 1)]
    assert entries(table, 30) == [(4, 7), (5, 7), (12, 7), (13, 7)]


def test_c_fragment_matches_ptx_isa() -> None:
    table = layouts.c_layout()
    assert entries(table, 0) == [(0, 0), (0, 1), (8, 0), (8, 1)]
    assert entries(table, 5) == [(1, 2), (1, 3), (9, 2), (9, 3)]
    assert entries(table, 31) == [(7, 6), (7, 7), (15, 6), (15, 7)]


def test_ldmatrix_fragments_match_ptx_isa() -> None:
    # one 8x8 matrix: thread i holds row i/4, elements 2*(i%4) and 2*(i%4)+1 (.trans: transposed)
    assert entries(layouts.ldmatrix_layout(8, 8, False), 5) == [(1, 2), (1, 3)]
    assert entries(layouts.ldmatrix_layout(8, 8, True), 5) == [(2, 1), (3, 1)]
    # .x4 of a 16x16 tile: matrices (0,0), (8,0), (0,8), (8,8) blocks: exactly the A fragment
    np.testing.assert_array_equal(layouts.ldmatrix_layout(16, 16, False), layouts.a_layout())
    # .x2.trans of a 16x8 (k x n) tile: the B fragment
    np.testing.assert_array_equal(layouts.ldmatrix_layout(16, 8, True), layouts.b_layout())
    # lanes 8q..8q+7 supply the row addresses of matrix q
    assert layouts.ldmatrix_row_address(0, 16, 16) == (0, 0)
    assert layouts.ldmatrix_row_address(13, 16, 16) == (13, 0)
    assert layouts.ldmatrix_row_address(21, 16, 16) == (5, 8)
    assert layouts.ldmatrix_row_address(31, 16, 16) == (15, 8)
    assert layouts.ldmatrix_row_address(9, 16, 8) == (9, 0)
    assert layouts.ldmatrix_row_address(17, 16, 8) == (1, 0)  # unused lanes repeat


def test_wgmma_accumulator_matches_ptx_isa() -> None:
    table = layouts.wgmma_d_layout(16)
    assert entries(table, 0) == [(0, 0), (0, 1), (8, 0), (8, 1), (0, 8), (0, 9), (8, 8), (8, 9)]
    # thread 37: warp 1 (rows 16..31), lane 5
    assert entries(table, 37) == [
        (17, 2), (17, 3), (25, 2), (25, 3), (17, 10), (17, 11), (25, 10), (25, 11)
    ]  # fmt: skip
    assert entries(table, 127)[:4] == [(55, 6), (55, 7), (63, 6), (63, 7)]


@pytest.mark.parametrize(
    "table, shape",
    [
        (layouts.a_layout(), (16, 16)),
        (layouts.b_layout(), (16, 8)),
        (layouts.c_layout(), (16, 8)),
        (layouts.wgmma_d_layout(64), (64, 64)),
    ],
)
def test_every_element_is_held_once(table: layouts.Table, shape: tuple[int, int]) -> None:
    counts = np.zeros(shape, dtype=int)
    np.add.at(counts, table, 1)
    assert (counts == 1).all()


def test_core_matrices_round_trip(rng: np.random.Generator) -> None:
    matrix = rng.standard_normal((64, 16))
    tiles = layouts.to_core_matrices(matrix)  # [row group, k group, row, k]
    assert tiles[3, 1, 5, 2] == matrix[8 * 3 + 5, 8 * 1 + 2]
    np.testing.assert_array_equal(layouts.from_core_matrices(tiles), matrix)
    b = rng.standard_normal((16, 40))
    tiles = layouts.to_core_matrices_mn(b)  # [n group, k group, k, n]
    assert tiles.shape == (5, 2, 8, 8) and tiles[3, 1, 5, 2] == b[8 * 1 + 5, 8 * 3 + 2]
    np.testing.assert_array_equal(layouts.from_core_matrices_mn(tiles), b)


# ---- simulator semantics of single ops ---------------------------------------------------------


def _half(x: np.ndarray, element: str) -> np.ndarray:
    return f32_to_bf16(x.astype(np.float32)) if element == "bf16" else x.astype(np.float16)


def _exact(x: np.ndarray, element: str) -> np.ndarray:
    return bf16_to_f32(x) if element == "bf16" else x.astype(np.float32)


@pytest.mark.parametrize("element", ["f16", "bf16"])
def test_ldmatrix_mma_frag_store(element: str, rng: np.random.Generator) -> None:
    """ldmatrix.x4 (A), ldmatrix.x2.trans (B), two mma.sync (the second accumulating into the
    first's result: 2 A B) and a store rounding to the output type, against numpy."""
    text = f"""
    func.func @f(%a: memref<16x16x{element}, {WG}>, %b: memref<16x8x{element}, {WG}>,
                 %c: memref<16x8xf32>, %h: memref<2x20x12x{element}>) {{
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c6 = arith.constant 6 : index
      %fa = "hwprim.ldmatrix"(%a) {{trans = false}} : (memref<16x16x{element}, {WG}>) -> vector<8x{element}>
      %fb = "hwprim.ldmatrix"(%b) {{trans = true}} : (memref<16x8x{element}, {WG}>) -> vector<4x{element}>
      %zero = arith.constant dense<0.0> : vector<4xf32>
      %d = "hwprim.mma_sync"(%fa, %fb, %zero) : (vector<8x{element}>, vector<4x{element}>, vector<4xf32>) -> vector<4xf32>
      %e = "hwprim.mma_sync"(%fa, %fb, %d) : (vector<8x{element}>, vector<4x{element}>, vector<4xf32>) -> vector<4xf32>
      "hwprim.frag_store"(%e, %c, %c0, %c0) : (vector<4xf32>, memref<16x8xf32>, index, index) -> ()
      "hwprim.frag_store"(%e, %h, %c1, %c6, %c6) : (vector<4xf32>, memref<2x20x12x{element}>, index, index, index) -> ()
      return
    }}"""  # noqa: E501
    a, b = (
        _half(rng.standard_normal((16, 16)), element),
        _half(rng.standard_normal((16, 8)), element),
    )
    c = np.zeros((16, 8), np.float32)
    h = _half(np.full((2, 20, 12), 7.0), element)
    strata.simulate(parse_module(text), a, b, c, h)
    expected = 2 * (_exact(a, element).astype(np.float64) @ _exact(b, element))
    np.testing.assert_allclose(c, expected, rtol=1e-6, atol=1e-5)
    # the second store lands at [1, 6:22, 6:14] clipped to 20 x 12; the rest is untouched
    stored = _exact(h, element)
    np.testing.assert_array_equal(
        stored[1, 6:20, 6:12], _exact(_half(c[:14, :6], element), element)
    )
    assert (stored[0] == 7).all() and (stored[1, :6] == 7).all() and (stored[1, :, :6] == 7).all()


@pytest.mark.parametrize("element, n", [("f16", 128), ("bf16", 24)])
def test_wgmma(element: str, n: int, rng: np.random.Generator) -> None:
    """Two chained wgmma on core-matrix tiles (A K-major, B MN-major) == 2 A B."""
    groups = n // 8
    a_t, b_t = f"memref<8x2x8x8x{element}, {WG}>", f"memref<{groups}x2x8x8x{element}, {WG}>"
    acc = f"vector<{n // 2}xf32>"
    text = f"""
    func.func @f(%a: {a_t}, %b: {b_t}, %c: memref<64x{n}xf32>) {{
      %c0 = arith.constant 0 : index
      %zero = arith.constant dense<0.0> : {acc}
      "hwprim.wgmma_fence"() : () -> ()
      %d = "hwprim.wgmma"(%zero, %a, %b) : ({acc}, {a_t}, {b_t}) -> {acc}
      %e = "hwprim.wgmma"(%d, %a, %b) : ({acc}, {a_t}, {b_t}) -> {acc}
      "hwprim.wgmma_commit"() : () -> ()
      "hwprim.wgmma_wait"() {{pending = 0 : i64}} : () -> ()
      "hwprim.wgmma_store"(%e, %c, %c0, %c0) : ({acc}, memref<64x{n}xf32>, index, index) -> ()
      return
    }}"""
    a, b = (
        _half(rng.standard_normal((64, 16)), element),
        _half(rng.standard_normal((16, n)), element),
    )
    c = np.zeros((64, n), np.float32)
    a_tiles = np.ascontiguousarray(layouts.to_core_matrices(a))
    b_tiles = np.ascontiguousarray(layouts.to_core_matrices_mn(b))
    strata.simulate(parse_module(text), a_tiles, b_tiles, c)
    expected = 2 * (_exact(a, element).astype(np.float64) @ _exact(b, element))
    np.testing.assert_allclose(c, expected, rtol=1e-6, atol=1e-5)


def test_cp_async_copies_or_zero_fills(rng: np.random.Generator) -> None:
    text = f"""
    func.func @f(%s: memref<4x16xf16, {WG}>, %g: memref<3x8x24xf16>) {{
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c2 = arith.constant 2 : index
      %c3 = arith.constant 3 : index
      %c8 = arith.constant 8 : index
      %c16 = arith.constant 16 : index
      %c24 = arith.constant 24 : index
      %d0 = memref.subview %s[0, 0] [1, 8] [1, 1] : memref<4x16xf16, {WG}> to memref<8xf16, strided<[1]>, {WG}>
      %d1 = memref.subview %s[1, 8] [1, 8] [1, 1] : memref<4x16xf16, {WG}> to memref<8xf16, strided<[1], offset: 24>, {WG}>
      %d2 = memref.subview %s[2, 0] [1, 8] [1, 1] : memref<4x16xf16, {WG}> to memref<8xf16, strided<[1], offset: 32>, {WG}>
      %d3 = memref.subview %s[3, 8] [1, 8] [1, 1] : memref<4x16xf16, {WG}> to memref<8xf16, strided<[1], offset: 56>, {WG}>
      "hwprim.cp_async"(%d0, %g, %c2, %c1, %c16) : (memref<8xf16, strided<[1]>, {WG}>, memref<3x8x24xf16>, index, index, index) -> ()
      "hwprim.cp_async"(%d1, %g, %c2, %c8, %c0) : (memref<8xf16, strided<[1], offset: 24>, {WG}>, memref<3x8x24xf16>, index, index, index) -> ()
      "hwprim.cp_async"(%d2, %g, %c3, %c0, %c0) : (memref<8xf16, strided<[1], offset: 32>, {WG}>, memref<3x8x24xf16>, index, index, index) -> ()
      "hwprim.cp_async"(%d3, %g, %c0, %c0, %c24) : (memref<8xf16, strided<[1], offset: 56>, {WG}>, memref<3x8x24xf16>, index, index, index) -> ()
      "hwprim.cp_async_commit"() : () -> ()
      "hwprim.cp_async_wait"() {{pending = 0 : i64}} : () -> ()
      return
    }}"""  # noqa: E501
    shared = np.full((4, 16), 7, np.float16)
    source = rng.standard_normal((3, 8, 24)).astype(np.float16)
    strata.simulate(parse_module(text), shared, source)
    np.testing.assert_array_equal(shared[0, :8], source[2, 1, 16:24])  # inside
    assert (shared[1, 8:] == 0).all() and (shared[2, :8] == 0).all()  # row, batch outside
    assert (shared[3, 8:] == 0).all()  # past the end of the row
    assert (shared[0, 8:] == 7).all() and (shared[1, :8] == 7).all()  # nothing else written


def test_fragment_of_the_wrong_shape_is_an_error() -> None:
    text = f"""
    func.func @f(%t: memref<16x8xf16, {WG}>, %c: memref<16x8xf32>, %x: vector<4xf32>) {{
      %c0 = arith.constant 0 : index
      %fa = "hwprim.ldmatrix"(%t) {{trans = true}} : (memref<16x8xf16, {WG}>) -> vector<4xf16>
      %d = "hwprim.mma_sync"(%fa, %fa, %x) : (vector<4xf16>, vector<4xf16>, vector<4xf32>) -> vector<4xf32>
      return
    }}"""  # noqa: E501  (the verifiers would refuse it; the simulator must not crash either)
    t = np.zeros((16, 8), np.float16)
    with pytest.raises(strata.interpreter.SimulationError, match="fragment of 32 lanes x 8"):
        strata.simulate(
            parse_module(text), t, np.zeros((16, 8), np.float32), np.zeros(4, np.float32)
        )


# ---- the lowering's per-lane stores, executed lane by lane -------------------------------------


def _lower_per_lane(text: str, lane_op: str) -> ir.Operation:
    """Lower the hwprim ops of `text`, then feed the lane id from the function's last argument
    (the simulator has no lanes: each call runs one lane)."""
    module = parse_module(text)
    with module.context, ir.Location.unknown():
        ConvertHwprimToNvvmPass(chip="sm_90a").run(module)
        fn = next(op for op in walk(module) if op.name == "func.func")
        lane = fn.regions[0].blocks[0].arguments[-1]
        for op in [op for op in walk(module) if op.name == lane_op]:
            op.results[0].replace_all_uses_with(lane)
            op.erase()
    return module


@pytest.mark.parametrize("element", ["f32", "f16"])
def test_lowered_frag_store_matches_the_layout(element: str, rng: np.random.Generator) -> None:
    text = f"""
    func.func @f(%d: vector<4xf32>, %c: memref<20x12x{element}>, %i: index, %j: index, %lane: index) {{
      "hwprim.frag_store"(%d, %c, %i, %j) : (vector<4xf32>, memref<20x12x{element}>, index, index) -> ()
      return
    }}"""  # noqa: E501
    module = _lower_per_lane(text, "gpu.lane_id")
    tile = rng.standard_normal((16, 8)).astype(np.float32)
    fragment = layouts.to_fragment(tile, layouts.c_layout())
    dtype = np.float32 if element == "f32" else np.float16
    out = np.full((20, 12), -1, dtype)
    for lane in range(32):
        strata.simulate(module, fragment[lane], out, 8, 6, lane)
    np.testing.assert_array_equal(out[8:, 6:], tile[:12, :6].astype(dtype))
    assert (out[:8] == -1).all() and (out[:, :6] == -1).all()


def test_lowered_wgmma_store_matches_the_layout(rng: np.random.Generator) -> None:
    text = """
    func.func @f(%d: vector<8xf32>, %c: memref<70x20xf32>, %i: index, %j: index, %t: index) {
      "hwprim.wgmma_store"(%d, %c, %i, %j) : (vector<8xf32>, memref<70x20xf32>, index, index) -> ()
      return
    }"""
    module = _lower_per_lane(text, "gpu.thread_id")
    tile = rng.standard_normal((64, 16)).astype(np.float32)
    fragment = layouts.to_fragment(tile, layouts.wgmma_d_layout(16))
    out = np.full((70, 20), -1, np.float32)
    for thread in range(128):
        strata.simulate(module, fragment[thread], out, 3, 2, thread + 128)  # threadIdx.x mod 128
    np.testing.assert_array_equal(out[3:67, 2:18], tile)
    assert (out[:3] == -1).all() and (out[67:] == -1).all() and (out[:, 18:] == -1).all()


# ---- tensorized matmuls, simulated ------------------------------------------------------------


def _matmul_module(a_shape: tuple, b_shape: tuple, element: str, bias: bool = False) -> ir.Module:
    builder = GraphBuilder("main")
    x, y = builder.input(a_shape, element), builder.input(b_shape, element)
    shift = builder.input(b_shape[-1:], element) if bias else None
    out = builder.matmul(x, y)
    if shift is not None:
        out = builder.relu(builder.add(out, shift))
    module = builder.finish(out)
    Pipeline.parse(("graph-fuse-ops," if bias else "") + "convert-graph-to-tprog").run(module)
    return module


def _check_tensorized(
    a_shape: tuple, b_shape: tuple, element: str, chip: str, rng: np.random.Generator
) -> ir.Module:
    module = _matmul_module(a_shape, b_shape, element)
    Pipeline.parse(f"tprog-gpu-tensorize{{chip={chip}}}").run(module)
    module.operation.verify()
    names = {op.name for op in walk(module.operation)}
    assert "tprog.block" not in names
    assert ("hwprim.wgmma" if chip == "sm_90a" else "hwprim.mma_sync") in names
    a, b = (
        _half(rng.standard_normal(a_shape), element),
        _half(rng.standard_normal(b_shape), element),
    )
    (out,) = strata.simulate(module, a, b)
    reference = np.matmul(_exact(a, element), _exact(b, element))
    tolerance = 2e-3 if element == "f16" else 1e-2  # the output's rounding
    scale = np.abs(reference).max()
    np.testing.assert_allclose(
        _exact(out, element), reference, rtol=tolerance, atol=tolerance * scale
    )
    return module


@pytest.mark.parametrize(
    "a_shape, b_shape, element",
    [
        ((70, 40), (40, 90), "f16"),  # one 128x128 tile; B rows not whole vectors
        ((130, 48), (48, 136), "f16"),  # 2 x 2 tiles, K in 2 tiles
        ((1, 16), (16, 8), "f16"),  # one mma
        ((2, 33, 24), (24, 17), "f16"),  # batched, rhs broadcast, 64x64 tiles
        ((3, 20, 16), (3, 16, 40), "bf16"),
        ((17, 50), (50, 9), "bf16"),  # K = 50: neither row length is whole vectors
    ],
)
def test_tensorized_mma_sync(a_shape: tuple, b_shape: tuple, element: str, rng) -> None:
    _check_tensorized(a_shape, b_shape, element, "sm_80", rng)


@pytest.mark.parametrize(
    "a_shape, b_shape, element",
    [
        ((70, 40), (40, 90), "f16"),  # 2 warpgroups, N = 128
        ((2, 33, 24), (24, 17), "f16"),  # batched, one warpgroup, N = 32
        ((40, 56), (56, 20), "bf16"),
        ((5, 20), (20, 3), "f16"),  # N = 16 for 3 columns
    ],
)
def test_tensorized_wgmma(a_shape: tuple, b_shape: tuple, element: str, rng) -> None:
    _check_tensorized(a_shape, b_shape, element, "sm_90a", rng)


def test_only_the_matmul_of_a_fused_function_is_tensorized(rng: np.random.Generator) -> None:
    module = _matmul_module((24, 32), (32, 40), "f16", bias=True)
    Pipeline.parse("tprog-gpu-tensorize{chip=sm_80}").run(module)
    blocks = [op.opview.block_name for op in walk(module.operation) if op.name == "tprog.block"]
    assert blocks == ["add", "relu"]  # the epilogue stays for tprog-gpu-schedule
    a, b = rng.standard_normal((24, 32)).astype(np.float16), rng.standard_normal((32, 40))
    bias = rng.standard_normal(40).astype(np.float16)
    (out,) = strata.simulate(module, a, b.astype(np.float16), bias)
    product = (a.astype(np.float32) @ b.astype(np.float16).astype(np.float32)).astype(np.float16)
    reference = np.maximum(product.astype(np.float32) + bias.astype(np.float32), 0)
    np.testing.assert_allclose(out.astype(np.float32), reference, rtol=4e-3, atol=4e-3)


# ---- PTX accepted by ptxas ----------------------------------------------------------------------


MMA_KERNEL = f"""
module attributes {{gpu.container_module}} {{
  gpu.module @kernels {{
    gpu.func @mma(%out: memref<20x12xf16>, %in: memref<64x24xf16>) workgroup(%sa: memref<16x24xf16, {WG}>, %sb: memref<16x8xbf16, {WG}>) kernel {{
      %c0 = arith.constant 0 : index
      %c4 = arith.constant 4 : index
      %row = memref.subview %sa[%c4, 8] [1, 8] [1, 1] : memref<16x24xf16, {WG}> to memref<8xf16, strided<[1], offset: ?>, {WG}>
      "hwprim.cp_async"(%row, %in, %c4, %c0) : (memref<8xf16, strided<[1], offset: ?>, {WG}>, memref<64x24xf16>, index, index) -> ()
      "hwprim.cp_async_commit"() : () -> ()
      "hwprim.cp_async_wait"() {{pending = 0 : i64}} : () -> ()
      gpu.barrier
      %ta = memref.subview %sa[0, %c4] [16, 16] [1, 1] : memref<16x24xf16, {WG}> to memref<16x16xf16, strided<[24, 1], offset: ?>, {WG}>
      %tb = memref.subview %sa[0, 0] [16, 8] [1, 1] : memref<16x24xf16, {WG}> to memref<16x8xf16, strided<[24, 1]>, {WG}>
      %fa = "hwprim.ldmatrix"(%ta) {{trans = false}} : (memref<16x16xf16, strided<[24, 1], offset: ?>, {WG}>) -> vector<8xf16>
      %fb = "hwprim.ldmatrix"(%tb) {{trans = true}} : (memref<16x8xf16, strided<[24, 1]>, {WG}>) -> vector<4xf16>
      %zero = arith.constant dense<0.0> : vector<4xf32>
      %d = "hwprim.mma_sync"(%fa, %fb, %zero) : (vector<8xf16>, vector<4xf16>, vector<4xf32>) -> vector<4xf32>
      %ga = "hwprim.ldmatrix"(%sb) {{trans = false}} : (memref<16x8xbf16, {WG}>) -> vector<4xbf16>
      %gb = "hwprim.ldmatrix"(%sb) {{trans = true}} : (memref<16x8xbf16, {WG}>) -> vector<4xbf16>
      %ga8 = vector.shuffle %ga, %ga [0, 1, 2, 3, 0, 1, 2, 3] : vector<4xbf16>, vector<4xbf16>
      %e = "hwprim.mma_sync"(%ga8, %gb, %d) : (vector<8xbf16>, vector<4xbf16>, vector<4xf32>) -> vector<4xf32>
      "hwprim.frag_store"(%e, %out, %c4, %c0) : (vector<4xf32>, memref<20x12xf16>, index, index) -> ()
      gpu.return
    }}
  }}
}}"""  # noqa: E501

WGMMA_KERNEL = f"""
module attributes {{gpu.container_module}} {{
  gpu.module @kernels {{
    gpu.func @wgmma(%out: memref<64x128xf16>) workgroup(%sa: memref<8x4x8x8xf16, {WG}>, %sb: memref<16x4x8x8xf16, {WG}>) kernel {{
      %c0 = arith.constant 0 : index
      %c2 = arith.constant 2 : index
      %zero = arith.constant dense<0.0> : vector<64xf32>
      "hwprim.wgmma_fence"() : () -> ()
      %a = memref.subview %sa[0, %c2, 0, 0] [8, 2, 8, 8] [1, 1, 1, 1] : memref<8x4x8x8xf16, {WG}> to memref<8x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, {WG}>
      %b = memref.subview %sb[0, %c2, 0, 0] [16, 2, 8, 8] [1, 1, 1, 1] : memref<16x4x8x8xf16, {WG}> to memref<16x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, {WG}>
      %d = "hwprim.wgmma"(%zero, %a, %b) : (vector<64xf32>, memref<8x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, {WG}>, memref<16x2x8x8xf16, strided<[256, 64, 8, 1], offset: ?>, {WG}>) -> vector<64xf32>
      "hwprim.wgmma_commit"() : () -> ()
      "hwprim.wgmma_wait"() {{pending = 0 : i64}} : () -> ()
      "hwprim.wgmma_store"(%d, %out, %c0, %c0) : (vector<64xf32>, memref<64x128xf16>, index, index) -> ()
      gpu.return
    }}
  }}
}}"""  # noqa: E501


@needs_ptxas
def test_ptxas_accepts_mma_sync_and_ldmatrix(tmp_path: Path) -> None:
    ptx = kernel_ptx(parse_module(MMA_KERNEL), "sm_80")
    assert "ldmatrix.sync.aligned.m8n8.x4.shared.b16" in ptx
    assert "ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16" in ptx
    assert "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32" in ptx
    assert "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32" in ptx
    assert "cp.async.cg.shared.global" in ptx and "cp.async.wait_group" in ptx
    assembles(ptx, "sm_80")


@needs_ptxas
def test_ptxas_accepts_wgmma(tmp_path: Path) -> None:
    ptx = kernel_ptx(parse_module(WGMMA_KERNEL), "sm_90a")
    for instruction in (
        "fence.proxy.async.shared::cta",
        "wgmma.fence.sync.aligned",
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16",
        "wgmma.commit_group.sync.aligned",
        "wgmma.wait_group.sync.aligned",
    ):
        assert instruction in ptx
    assembles(ptx, "sm_90a")


@needs_ptxas
@pytest.mark.skipif(get_pass("convert-tprog-to-gpu") is None, reason="no convert-tprog-to-gpu")
@pytest.mark.parametrize("chip", ["sm_80", "sm_90a"])
def test_ptxas_accepts_a_tensorized_kernel(chip: str, tmp_path: Path) -> None:
    """A tensorized 256x200x96 f16 matmul through convert-tprog-to-gpu and the device lowering."""
    module = _matmul_module((256, 96), (96, 200), "f16")
    Pipeline.parse(
        f"tprog-gpu-tensorize{{chip={chip}}},convert-tprog-to-scf,convert-tprog-to-gpu,"
        "gpu-kernel-outlining"
    ).run(module)
    ptx = kernel_ptx(module.operation, chip)
    expected = ("wgmma.mma_async",) if chip == "sm_90a" else ("mma.sync", "cp.async.cg", "ldmatrix")
    assert all(instruction in ptx for instruction in expected)
    assembles(ptx, chip)
