"""Gemm steps on cuBLAS: the mapping of row-major gemm steps onto cublasGemmEx (checked against a
numpy model of its documented column-major contract), `cublas.gemm` in the library registry,
where cuBLAS is found, and the bfloat16 helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cuda_artifacts import gemm_step, place
from strata.runtime import cuda

# ---- the gemm step as a cuBLAS call, against cuBLAS's documented contract --------------------

DATA_TYPES = {0: np.dtype(np.float32), 2: np.dtype(np.float16), 14: np.dtype(np.uint16)}


def _decode(values: np.ndarray, code: int) -> np.ndarray:
    return cuda.bf16_values(values) if code == 14 else values.astype(np.float32)


def _encode(values: np.ndarray, code: int) -> np.ndarray:
    return cuda.bf16_bits(values) if code == 14 else values.astype(DATA_TYPES[code])


def cublas_gemm(memory: dict[int, np.ndarray], call: cuda.GemmCall) -> None:
    """cublasGemmEx (batch 1) / cublasGemmStridedBatchedEx as the cuBLAS documentation states
    them, on byte buffers: column-major matrices, C[i + j*ldc] = alpha * sum_l op(A)[i, l] *
    op(B)[l, j] + beta * C[i + j*ldc], op(A)[i, l] = A[i + l*lda] (OP_N) or A[l + i*lda] (OP_T),
    likewise for B; lda >= max(1, m) for OP_N, max(1, k) for OP_T; ldb >= max(1, k) for OP_N,
    max(1, n) for OP_T; ldc >= max(1, m); batch p reads A + p*strideA, B + p*strideB and
    writes C + p*strideC; CUBLAS_COMPUTE_32F accumulates in float32."""
    n_op, t_op = 0, 1
    m, n, k = call.m, call.n, call.k
    assert call.transa in (n_op, t_op) and call.transb in (n_op, t_op)
    assert call.compute in (68, 77) and call.atype == call.btype
    assert min(m, n, k, call.batch) >= 1
    assert call.lda >= max(1, m if call.transa == n_op else k), "lda"
    assert call.ldb >= max(1, k if call.transb == n_op else n), "ldb"
    assert call.ldc >= max(1, m), "ldc"

    def elements(ref: cuda.BufferRef, code: int) -> np.ndarray:
        return memory[ref.buffer][ref.offset :].view(DATA_TYPES[code])

    a, b, c = (
        elements(call.a, call.atype),
        elements(call.b, call.btype),
        elements(call.c, call.ctype),
    )
    i, l_a = np.arange(m)[:, None], np.arange(k)[None, :]
    l_b, j = np.arange(k)[:, None], np.arange(n)[None, :]
    for p in range(call.batch):
        index_a = i + l_a * call.lda if call.transa == n_op else l_a + i * call.lda
        index_b = l_b + j * call.ldb if call.transb == n_op else j + l_b * call.ldb
        index_c = p * call.stride_c + np.arange(m)[:, None] + np.arange(n)[None, :] * call.ldc
        op_a = _decode(a[p * call.stride_a + index_a], call.atype)
        op_b = _decode(b[p * call.stride_b + index_b], call.btype)
        result = np.float32(call.alpha) * (op_a @ op_b)
        if call.beta:
            result += np.float32(call.beta) * _decode(c[index_c], call.ctype)
        c[index_c] = _encode(result, call.ctype)


def _strided(memory: np.ndarray, offset: int, dtype: np.dtype, shape, strides) -> np.ndarray:
    """A view of `memory` (bytes) with element strides."""
    return np.lib.stride_tricks.as_strided(
        memory[offset:].view(dtype), shape, [s * dtype.itemsize for s in strides]
    )


def run_gemm_step(step: dict, seed: int = 0) -> None:
    """Fill the step's operands with random values, run its cuBLAS call on the contract model and
    compare with numpy's row-major alpha * A @ B + beta * C."""
    rng = np.random.default_rng(seed)
    dtype, out_dtype = step["dtype"], step["out_dtype"]
    batch, m, n, k = step["batch"], step["m"], step["n"], step["k"]
    memory: dict[int, np.ndarray] = {}
    logical: dict[str, np.ndarray] = {}
    for key, (rows, cols) in {"a": (m, k), "b": (k, n), "c": (m, n)}.items():
        operand = step[key]
        storage = cuda.DTYPES[out_dtype if key == "c" else dtype]
        extent = operand["offset"] // storage.itemsize + 1 + (batch - 1) * operand["batch_stride"]
        extent += (rows - 1) * operand["row_stride"] + (cols - 1) * operand["col_stride"]
        memory[operand["buffer"]] = np.zeros(extent * storage.itemsize + 64, np.uint8)
        values = rng.standard_normal((batch, rows, cols)).astype(np.float32)
        encoded = cuda.bf16_bits(values) if storage == np.uint16 else values.astype(storage)
        view = _strided(
            memory[operand["buffer"]],
            operand["offset"],
            storage,
            (batch, rows, cols),
            (operand["batch_stride"], operand["row_stride"], operand["col_stride"]),
        )
        view[...] = encoded  # a broadcast operand (batch stride 0) keeps its last batch
        logical[key] = _decode(
            view.copy(), cuda.CUDA_DATA_TYPES[out_dtype if key == "c" else dtype]
        )
    manifest = {
        **{"format": "strata-cuda", "version": 1, "chip": "sm_90a", "entry": "f"},
        **{"modules": [], "inputs": [], "outputs": []},
        "buffers": [{"id": i, "bytes": len(b)} for i, b in memory.items()],
        "steps": [step],
    }
    parsed = cuda.parse_manifest(manifest).steps[0]
    assert isinstance(parsed, cuda.Gemm)
    call = cuda.gemm_call(parsed)
    cublas_gemm(memory, call)
    c = step["c"]
    result = _strided(
        memory[c["buffer"]],
        c["offset"],
        cuda.DTYPES[out_dtype],
        (batch, m, n),
        (c["batch_stride"], c["row_stride"], c["col_stride"]),
    )
    expected = step["alpha"] * (logical["a"] @ logical["b"]) + step["beta"] * logical["c"]
    got = _decode(result.copy(), cuda.CUDA_DATA_TYPES[out_dtype])
    tolerance = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 1e-2}[out_dtype]
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance * 4)
    assert (call.batch > 1) == (batch > 1)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("a_t", [False, True], ids=["a", "aT"])
@pytest.mark.parametrize("b_t", [False, True], ids=["b", "bT"])
@pytest.mark.parametrize("c_t", [False, True], ids=["c", "cT"])
@pytest.mark.parametrize("batch", ["single", "batched", "broadcast-b"])
def test_gemm_call_follows_the_cublas_contract(dtype, a_t, b_t, c_t, batch) -> None:
    m, n, k = 5, 7, 4
    count = 1 if batch == "single" else 3
    step = gemm_step(
        dtype,
        *(m, n, k, count),
        place(m, k, count, a_t, None),
        place(k, n, count, b_t, 0 if batch == "broadcast-b" else None),
        place(m, n, count, c_t, None),
    )
    run_gemm_step(step)


@pytest.mark.parametrize("m, n, k", [(1, 7, 4), (5, 1, 4), (5, 7, 1), (1, 1, 1), (1, 1, 6)])
@pytest.mark.parametrize("layout", ["row", "column", "odd"])
def test_gemm_call_with_unit_dimensions(m, n, k, layout) -> None:
    """A dimension of size 1 has no meaningful stride: any value must map to a valid call."""

    def strides(rows: int, cols: int) -> dict:
        if layout == "row":
            rs, cs = cols, 1
        elif layout == "column":
            rs, cs = 1, rows
        else:  # row-major, with arbitrary strides on the dimensions of size 1
            rs, cs = (0 if rows == 1 else cols), (5 if cols == 1 else 1)
        return {"row_stride": rs, "col_stride": cs, "batch_stride": 0}

    step = gemm_step("float32", m, n, k, 1, strides(m, k), strides(k, n), strides(m, n))
    run_gemm_step(step)


def test_gemm_call_flags_and_types() -> None:
    """The documented mapping for a plain row-major product: C^T = B^T A^T, no transposes."""
    step = gemm_step(
        "float16",
        64,
        32,
        16,
        1,
        place(64, 16, 1, False, 0),
        place(16, 32, 1, True, 0),
        place(64, 32, 1, False, 0),
    )
    parsed = cuda.parse_manifest(
        {
            **{"format": "strata-cuda", "version": 1, "chip": "sm_80", "entry": "f"},
            **{"modules": [], "inputs": [], "outputs": []},
            "buffers": [{"id": i, "bytes": 1 << 16} for i in range(3)],
            "steps": [step],
        }
    ).steps[0]
    call = cuda.gemm_call(parsed)  # type: ignore[arg-type]
    assert (call.m, call.n, call.k) == (32, 64, 16)  # cuBLAS's m is our n
    assert call.a.buffer == 1 and call.b.buffer == 0  # cuBLAS's A is our B
    assert (call.transa, call.transb) == (cuda.CUBLAS_OP_T, cuda.CUBLAS_OP_N)
    assert (call.lda, call.ldb, call.ldc) == (16 + 3, 16 + 2, 32 + 2)
    assert call.atype == call.btype == call.ctype == 2  # CUDA_R_16F
    assert call.compute == 68  # CUBLAS_COMPUTE_32F


def test_tf32_and_wider_outputs() -> None:
    for dtype, out_dtype, compute in [
        ("float32", "float32", "tf32"),
        ("float16", "float32", "float32"),
    ]:
        step = gemm_step(
            dtype,
            4,
            4,
            4,
            1,
            place(4, 4, 1, False, 0),
            place(4, 4, 1, False, 0),
            place(4, 4, 1, False, 0),
        )
        step["out_dtype"], step["compute"] = out_dtype, compute
        run_gemm_step(step)


# ---- cublas.gemm in the library registry --------------------------------------------------------

GEMM_IR = """
func.func @f(%a: {a}, %b: {b}, %c: {c}) attributes {{tprog.prim_func}} {{
  "libcall.matmul"(%a, %b, %c) {{callee = "cublas.gemm"}} : ({a}, {b}, {c}) -> ()
  return
}}
"""


def _libcall_op(a: str, b: str, c: str):
    import strata
    from strata.irutil import walk

    module = strata.parse_module(GEMM_IR.format(a=a, b=b, c=c))
    return module, next(op for op in walk(module) if op.name == "libcall.matmul")


def _dispatched(lhs, rhs, dtype="f32", transpose=None):
    """graph.matmul dispatched to cublas.gemm (only): the module, and its libcall op or None."""
    import strata.libraries.cublas  # noqa: F401 (registers cublas.gemm)
    from strata.frontends.builder import GraphBuilder
    from strata.irutil import walk
    from strata.pipelines import Pipeline

    b = GraphBuilder("f")
    x, y = b.input(lhs, dtype), b.input(rhs, dtype)
    if transpose is not None:
        y = b.transpose(y, transpose)
    module = b.finish(b.matmul(x, y))
    with module.context:
        Pipeline.parse(
            "graph-dispatch-libcall{rules=graph.matmul:cublas.gemm default-rules=false}"
        ).run(module.operation)
    ops = [op for op in walk(module.operation) if op.name == "libcall.matmul"]
    return module, (ops[0] if ops else None)


def _refs(op) -> list[dict]:
    from strata.libraries.cublas import _memref_layout

    refs = []
    for i, value in enumerate(op.operands):
        layout = _memref_layout(value)
        assert not isinstance(layout, str)
        refs.append({"buffer": i, "offset": 0, "shape": layout[0], "strides": layout[1]})
    return refs


ACCEPTED = [
    ([8, 16], [16, 32], None),
    ([8, 16], [32, 16], [1, 0]),  # a linear layer's weight, transposed: cuBLAS's transpose flag
    ([3, 8, 16], [3, 16, 32], None),
    ([2, 3, 8, 16], [2, 3, 32, 16], [0, 1, 3, 2]),  # attention scores q @ k^T
    ([4, 8, 16], [16, 32], None),  # one gemm on the 32 rows
    ([1, 8, 16], [5, 16, 32], None),  # broadcast lhs: batch stride 0
    ([1, 1], [1, 9], None),
]


@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
@pytest.mark.parametrize("lhs, rhs, transpose", ACCEPTED)
def test_cublas_gemm_steps_compute_the_matmul(dtype, lhs, rhs, transpose) -> None:
    """graph.matmul -> libcall.matmul (cublas.gemm) -> manifest_step -> the cuBLAS call on the
    contract model = numpy; and the simulator (the entry's reference) agrees with numpy."""
    import strata

    module, op = _dispatched(lhs, rhs, dtype, transpose)
    assert op is not None, "cublas.gemm refused an accepted case"
    from strata.libraries.cublas import manifest_step

    step = manifest_step(op, *_refs(op))
    assert step["dtype"] == {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[dtype]
    if lhs == [4, 8, 16] and rhs == [16, 32]:
        assert (step["m"], step["batch"]) == (32, 1)
    step["alpha"], step["beta"] = 1.0, 0.0
    run_gemm_step(step)

    rng = np.random.default_rng(3)
    a32 = rng.standard_normal(lhs).astype(np.float32)
    b32 = rng.standard_normal(rhs).astype(np.float32)
    if dtype == "bf16":
        a, b = cuda.bf16_bits(a32), cuda.bf16_bits(b32)
        a32, b32 = cuda.bf16_values(a), cuda.bf16_values(b)
    else:
        a, b = a32.astype(dtype.replace("f", "float")), b32.astype(dtype.replace("f", "float"))
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
    expected = a32 @ (np.transpose(b32, transpose) if transpose else b32)
    (got,) = strata.simulate(module, a, b)
    got = cuda.bf16_values(got) if dtype == "bf16" else got.astype(np.float32)
    tolerance = {"f32": 1e-5, "f16": 1e-3, "bf16": 8e-3}[dtype]
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance * 8)


@pytest.mark.parametrize(
    "types, reason",
    [
        (
            ("memref<2x1x8x16xf32>", "memref<1x3x16x32xf32>", "memref<2x3x8x32xf32>"),
            "needs more than one batch stride",
        ),
        (("memref<8x16xi8>", "memref<16x32xi8>", "memref<8x32xi32>"), "f32, f16 or bf16"),
        (("memref<8x16xf64>", "memref<16x32xf64>", "memref<8x32xf64>"), "f32, f16 or bf16"),
        (("memref<8x16xf16>", "memref<16x32xf16>", "memref<8x32xf32>"), "one element type"),
        (
            ("memref<8x16xf32, strided<[32, 2]>>", "memref<16x32xf32>", "memref<8x32xf32>"),
            "unit-stride rows or columns",
        ),
        (
            ("memref<8x16xf32, strided<[?, 1]>>", "memref<16x32xf32>", "memref<8x32xf32>"),
            "static strides",
        ),
        (("memref<?x16xf32>", "memref<16x32xf32>", "memref<?x32xf32>"), "static shapes"),
        (("memref<0x16xf32>", "memref<16x32xf32>", "memref<0x32xf32>"), "no empty operands"),
        (("memref<8x16xf32>", "memref<8x32xf32>", "memref<8x32xf32>"), "do not give"),
    ],
)
def test_cublas_gemm_refusals(types, reason) -> None:
    import strata.libraries.cublas  # noqa: F401
    from strata.libraries import registry

    _, op = _libcall_op(*types)
    error = registry.check_call(op)
    assert error is not None and error.startswith("cublas.gemm ") and reason in error


def test_cublas_is_present_where_the_artifact_runs() -> None:
    """No cuBLAS where Strata compiles: the dispatch still calls it (no missing-library remark)
    since the runtime loads it on the GPU machine."""
    from strata.libraries import cublas, registry

    assert registry.lookup("cublas.gemm") is cublas.GEMM
    assert cublas.GEMM.manifest_step is cublas.manifest_step  # what the target reads
    assert cublas.CUBLAS.available() and cublas.CUBLAS.path() == Path("libcublas.so.13")
    _, op = _dispatched([8, 16], [16, 32])
    assert op is not None


def test_cublas_gemm_on_the_cpu_is_a_located_error() -> None:
    from strata.diagnostics import CompileError
    from strata.pipelines import Pipeline

    module, op = _dispatched([8, 16], [16, 32])
    assert op is not None
    with pytest.raises(CompileError, match="cublas.gemm runs on NVIDIA GPUs only"):
        with module.context:
            Pipeline.parse("convert-libcall-to-func").run(module.operation)


def test_manifest_step_checks_its_references() -> None:
    from strata.libraries.cublas import manifest_step

    _, op = _dispatched([8, 16], [16, 32])
    lhs, rhs, out = _refs(op)
    with pytest.raises(ValueError, match="lhs reference lacks strides"):
        manifest_step(op, {k: v for k, v in lhs.items() if k != "strides"}, rhs, out)
    with pytest.raises(ValueError, match="unit-stride rows or columns"):
        manifest_step(op, {**lhs, "strides": [16, 3]}, rhs, out)
    assert manifest_step(op, lhs, rhs, out, allow_tf32=True)["compute"] == "tf32"


def test_cublas_reference_rounds_once() -> None:
    """f16 products accumulate in f32 (CUBLAS_COMPUTE_32F): 2049 + 1 - 1 ... is not rounded per
    step as an f16 accumulator would."""
    from strata.libraries.cublas import reference

    a = np.full((1, 4096), 1.0, np.float16)
    b = np.full((4096, 1), 1.0, np.float16)
    out = np.empty((1, 1), np.float16)
    reference(a, b, out)
    assert out[0, 0] == 4096.0  # an f16 accumulator would stop at 2048


# ---- helpers: bf16, cuBLAS location, DLPack ---------------------------------------------------


def test_bf16_helpers_match_the_simulator() -> None:
    from strata.interpreter.values import bf16_to_f32, f32_to_bf16

    values = np.array([0.0, -1.5, 3.14159, 1e30, -1e-30, np.inf, np.nan, 65504.0], np.float32)
    np.testing.assert_array_equal(cuda.bf16_bits(values), f32_to_bf16(values))
    bits = cuda.bf16_bits(values)
    np.testing.assert_array_equal(cuda.bf16_values(bits), bf16_to_f32(bits))


def test_find_cublas_order(tmp_path, monkeypatch) -> None:
    for name in ("STRATA_CUBLAS", "CUDA_HOME", "CUDA_PATH"):
        monkeypatch.delenv(name, raising=False)
    wheel = tmp_path / "site" / "nvidia" / "cu13" / "lib" / "libcublas.so.13"
    toolkit = tmp_path / "cuda" / "lib64" / "libcublas.so.13"
    for path in (wheel, toolkit):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"")
    monkeypatch.setenv("CUDA_HOME", str(tmp_path / "cuda"))
    assert cuda.find_cublas() == str(toolkit)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert cuda.find_cublas() == str(wheel)  # the wheel first
    monkeypatch.setenv("STRATA_CUBLAS", "/opt/mine/libcublas.so")
    assert cuda.find_cublas() == "/opt/mine/libcublas.so"  # an explicit choice wins
