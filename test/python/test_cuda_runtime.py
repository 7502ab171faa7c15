"""The CUDA runtime (`strata.runtime.cuda`) and `cublas.gemm`: manifest validation, the mapping of
row-major gemm steps onto cuBLAS (checked against a numpy model of cublasGemmEx's documented
column-major contract), the registry entry, the command line, the runtime's independence from
MLIR; whole artifacts run on a host-memory stand-in for libcuda and libcublas (built with cc),
and on a GPU when there is one (skipped otherwise)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from strata.runtime import cuda

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "python" / "strata" / "runtime" / "cuda.py"

requires_gpu = pytest.mark.skipif(
    not cuda.cuda_available(), reason="no CUDA driver (libcuda.so.1) or no GPU"
)

# Two kernels written in PTX (ptxas accepts them for sm_80 and sm_90a).
PTX = """.version 8.0
.target sm_80
.address_size 64

// y[i] = a * x[i] + b for i < n
.visible .entry scale_add(.param .u64 x, .param .u64 y, .param .u32 n, .param .f32 a,
                          .param .f32 b)
.maxntid 256, 1, 1
{
  .reg .pred %p;
  .reg .b32 %r<6>;
  .reg .f32 %f<5>;
  .reg .b64 %rd<6>;
  ld.param.u64 %rd1, [x];
  ld.param.u64 %rd2, [y];
  ld.param.u32 %r1, [n];
  ld.param.f32 %f1, [a];
  ld.param.f32 %f2, [b];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.s32 %p, %r5, %r1;
  @%p bra DONE;
  cvta.to.global.u64 %rd1, %rd1;
  cvta.to.global.u64 %rd2, %rd2;
  mul.wide.s32 %rd3, %r5, 4;
  add.s64 %rd4, %rd1, %rd3;
  add.s64 %rd5, %rd2, %rd3;
  ld.global.f32 %f3, [%rd4];
  fma.rn.f32 %f4, %f1, %f3, %f2;
  st.global.f32 [%rd5], %f4;
DONE:
  ret;
}

// out[i] = v for i < n
.visible .entry fill_i64(.param .u64 out, .param .u64 v, .param .u32 n)
{
  .reg .pred %p;
  .reg .b32 %r<6>;
  .reg .b64 %rd<6>;
  ld.param.u64 %rd1, [out];
  ld.param.u64 %rd2, [v];
  ld.param.u32 %r1, [n];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.s32 %p, %r5, %r1;
  @%p bra DONE;
  cvta.to.global.u64 %rd1, %rd1;
  mul.wide.s32 %rd3, %r5, 8;
  add.s64 %rd4, %rd1, %rd3;
  st.global.u64 [%rd4], %rd2;
DONE:
  ret;
}
"""


def _operand(buffer: int, rs: int, cs: int, bs: int = 0, offset: int = 0) -> dict:
    return {
        "buffer": buffer,
        "offset": offset,
        "row_stride": rs,
        "col_stride": cs,
        "batch_stride": bs,
    }


def full_manifest(chip: str = "sm_80", cubin: str | None = None) -> dict:
    """Every step kind: a kernel, a copy, a memset, gemms (f16, f32 with a transposed constant
    weight, batched bf16 with a broadcast rhs), a kernel with an i64 argument."""
    sizes = {0: 4000, 1: 4000, 2: 4000, 3: 64 * 32 * 2, 4: 32 * 48 * 2, 5: 64 * 48 * 2}
    sizes |= {6: 48 * 16 * 4, 7: 80, 8: 64 * 16 * 4, 9: 64 * 48 * 4, 10: 3 * 8 * 16 * 2}
    sizes |= {11: 16 * 8 * 2, 12: 3 * 8 * 8 * 2}

    def tensor(name: str, buffer: int, shape: list[int], dtype: str) -> dict:
        return {"name": name, "buffer": buffer, "offset": 0, "shape": shape, "dtype": dtype}

    def gemm(dtype: str, m: int, n: int, k: int, batch: int, a: dict, b: dict, c: dict) -> dict:
        return {
            **{"op": "gemm", "library": "cublas", "dtype": dtype, "out_dtype": dtype},
            **{"compute": "float32", "m": m, "n": n, "k": k, "batch": batch},
            **{"a": a, "b": b, "c": c, "alpha": 1.0, "beta": 0.0},
        }

    def ptr(buffer: int) -> dict:
        return {"ptr": {"buffer": buffer, "offset": 0}}

    return {
        **{"format": "strata-cuda", "version": 1, "chip": chip, "entry": "main"},
        "modules": [{"name": "k", "ptx": "kernels.ptx", "cubin": cubin}],
        "buffers": [{"id": i, "bytes": b} for i, b in sizes.items()],
        "constants": [{"buffer": 6, "file": "weights.bin", "offset": 4, "bytes": 48 * 16 * 4}],
        "inputs": [
            tensor("x", 0, [1000], "float32"),
            tensor("a16", 3, [64, 32], "float16"),
            tensor("b16", 4, [32, 48], "float16"),
            tensor("x32", 9, [64, 48], "float32"),
            tensor("a3", 10, [3, 8, 16], "bfloat16"),
            tensor("b3", 11, [16, 8], "bfloat16"),
        ],
        "outputs": [
            tensor("y", 2, [1000], "float32"),
            tensor("c16", 5, [64, 48], "float16"),
            tensor("fill", 7, [10], "int64"),
            tensor("e32", 8, [64, 16], "float32"),
            tensor("o3", 12, [3, 8, 8], "bfloat16"),
        ],
        "steps": [
            {
                **{"op": "launch", "module": "k", "kernel": "scale_add"},
                **{"grid": [4, 1, 1], "block": [256, 1, 1], "shared_bytes": 0},
                "args": [ptr(0), ptr(1), {"i32": 1000}, {"f32": 2.0}, {"f32": 0.5}],
            },
            {
                **{"op": "copy", "src": {"buffer": 1, "offset": 0}},
                **{"dst": {"buffer": 2, "offset": 0}, "bytes": 4000},
            },
            {"op": "memset", "dst": {"buffer": 5, "offset": 0}, "bytes": 64 * 48 * 2, "value": 0},
            gemm(
                "float16", 64, 48, 32, 1, _operand(3, 32, 1), _operand(4, 48, 1), _operand(5, 48, 1)
            ),
            {
                **{"op": "launch", "module": "k", "kernel": "fill_i64"},
                **{"grid": [1, 1, 1], "block": [32, 1, 1]},
                "args": [ptr(7), {"i64": -3}, {"i32": 10}],
            },
            gemm(
                "float32", 64, 16, 48, 1, _operand(9, 48, 1), _operand(6, 1, 48), _operand(8, 16, 1)
            ),
            gemm(
                "bfloat16",
                *(8, 8, 16, 3),
                *(_operand(10, 16, 1, 128), _operand(11, 8, 1, 0), _operand(12, 8, 1, 64)),
            ),
        ],
    }


WEIGHT = np.random.default_rng(5).standard_normal((48, 16)).astype(np.float32)


def write_artifact(folder: Path, manifest: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = full_manifest() if manifest is None else manifest
    (folder / "kernels.ptx").write_text(PTX.replace(".target sm_80", f".target {manifest['chip']}"))
    (folder / "weights.bin").write_bytes(b"pad!" + np.ascontiguousarray(WEIGHT.T).tobytes())
    (folder / cuda.MANIFEST).write_text(json.dumps(manifest))
    return folder


def artifact_inputs(seed: int = 1) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Inputs of `full_manifest` and the outputs numpy expects."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(1000).astype(np.float32)
    a16 = rng.standard_normal((64, 32)).astype(np.float16)
    b16 = rng.standard_normal((32, 48)).astype(np.float16)
    x32 = rng.standard_normal((64, 48)).astype(np.float32)
    a3 = cuda.bf16_bits(rng.standard_normal((3, 8, 16)))
    b3 = cuda.bf16_bits(rng.standard_normal((16, 8)))
    expected = [
        2 * x + 0.5,
        (a16.astype(np.float32) @ b16.astype(np.float32)).astype(np.float16),
        np.full(10, -3, np.int64),
        x32 @ WEIGHT,
        cuda.bf16_bits(cuda.bf16_values(a3) @ cuda.bf16_values(b3)),
    ]
    return [x, a16, b16, x32, a3, b3], expected


def assert_outputs(outputs: list[np.ndarray], expected: list[np.ndarray]) -> None:
    for got, want in zip(outputs, expected):
        assert got.dtype == want.dtype and got.shape == want.shape
        if want.dtype == np.uint16:
            got, want = cuda.bf16_values(got), cuda.bf16_values(want)
        tolerance = 1e-2 if want.dtype == np.float16 or want.dtype == np.float32 else 0
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


# ---- manifest validation (no GPU) -----------------------------------------------------------


def test_valid_manifest_is_read(tmp_path) -> None:
    manifest = cuda.read_manifest(write_artifact(tmp_path / "a"))
    assert manifest.chip == "sm_80" and manifest.entry == "main"
    assert [t.name for t in manifest.inputs] == ["x", "a16", "b16", "x32", "a3", "b3"]
    kinds = [type(s).__name__ for s in manifest.steps]
    assert kinds == ["Launch", "Copy", "Memset", "Gemm", "Launch", "Gemm", "Gemm"]
    launch = manifest.steps[0]
    assert isinstance(launch, cuda.Launch)
    assert launch.args[0] == ("ptr", cuda.BufferRef(0, 0)) and launch.args[3] == ("f32", 2.0)
    assert manifest.constants[0] == cuda.Constant(6, "weights.bin", 4, 48 * 16 * 4, 0)


DELETE = object()


def _edit(data: dict, path: tuple, value: Any) -> dict:
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


BAD_MANIFESTS = [
    (("format",), "tvm", "format", "expected 'strata-cuda'"),
    (("version",), 2, "version", "expected 1"),
    (("chip",), "gfx90a", "chip", "expected a chip like"),
    (("entry",), DELETE, "manifest", "missing field 'entry'"),
    (("extra",), 1, "manifest", "unknown field 'extra'"),
    (("modules", 0, "ptx"), "missing.ptx", "modules[0].ptx", "not in the artifact folder"),
    (("modules", 0, "ptx"), "../kernels.ptx", "modules[0].ptx", "inside the artifact folder"),
    (("modules", 0, "cubin"), "k.cubin", "modules[0].cubin", "not in the artifact folder"),
    (("buffers", 1, "id"), 0, "buffers[1].id", "declared twice"),
    (("buffers", 0, "bytes"), 0, "buffers[0].bytes", "integer >= 1"),
    (("constants", 0, "offset"), 10**6, "constants[0]", "past the end of 'weights.bin'"),
    (("constants", 0, "buffer"), 99, "constants[0].buffer", "no buffer 99"),
    (("inputs", 0, "dtype"), "float8", "inputs[0].dtype", "unknown value 'float8'"),
    (("inputs", 0, "shape"), [10**6], "inputs[0]", "outside buffer 0"),
    (("inputs", 0, "shape"), [-1], "inputs[0].shape[0]", "integer >= 0"),
    (("inputs", 0, "offset"), 2, "inputs[0].offset", "not aligned"),
    (("inputs", 1, "name"), "x", "inputs[1].name", "used twice"),
    (("outputs", 0, "buffer"), "2", "outputs[0].buffer", "expected an integer"),
    (("steps", 0, "op"), "call", "steps[0].op", "unknown value 'call'"),
    (("steps", 0, "module"), "nope", "steps[0].module", "no module 'nope'"),
    (("steps", 0, "grid"), [4, 1], "steps[0].grid", "expected 3 integers"),
    (("steps", 0, "grid"), [0, 1, 1], "steps[0].grid[0]", "from 1 to"),
    (("steps", 0, "block"), [64, 32, 1], "steps[0].block", "2048 threads"),
    (("steps", 0, "shared_bytes"), -1, "steps[0].shared_bytes", "from 0 to"),
    (("steps", 0, "stream"), 1, "steps[0]", "unknown field 'stream'"),
    (("steps", 0, "args", 2), {"u8": 1}, "steps[0].args[2]", "unknown argument kind 'u8'"),
    (("steps", 0, "args", 2), {"i32": 1, "f32": 1}, "steps[0].args[2]", "expected one of"),
    (("steps", 0, "args", 0, "ptr", "buffer"), 42, "steps[0].args[0].ptr.buffer", "no buffer 42"),
    (("steps", 0, "args", 2, "i32"), 2**32, "steps[0].args[2].i32", "integer from"),
    (("steps", 0, "args", 3, "f32"), "x", "steps[0].args[3].f32", "finite number"),
    (("steps", 0, "kernel"), "nope", "steps[0].kernel", "no kernel 'nope' in kernels.ptx"),
    (("steps", 0, "args", 4), DELETE, "steps[0].args", "takes 5 parameters, found 4"),
    (
        ("steps", 0, "args", 2),
        {"i64": 9},
        "steps[0].args[2]",
        "parameter 2 of kernel 'scale_add' is 4 bytes, i64 is 8",
    ),
    (("steps", 0, "block"), [512, 1, 1], "steps[0].block", "allows at most 256 (.maxntid)"),
    (("steps", 1, "bytes"), 5000, "steps[1].src", "outside buffer 1"),
    (("steps", 1, "dst", "buffer"), 1, "steps[1]", "overlap"),
    (("steps", 2, "value"), 256, "steps[2].value", "from 0 to 255"),
    (("steps", 3, "library"), "rocblas", "steps[3].library", "unknown value 'rocblas'"),
    (("steps", 3, "dtype"), "float64", "steps[3].dtype", "unknown value 'float64'"),
    (("steps", 3, "compute"), "tf32", "steps[3].compute", "tf32 is for float32"),
    (("steps", 3, "m"), 65, "steps[3].a", "outside buffer 3"),
    (("steps", 3, "a", "col_stride"), 2, "steps[3].a", "unit-stride rows"),
    (("steps", 3, "c", "row_stride"), 10, "steps[3].c", "row_stride >= 48"),
    (("steps", 3, "a", "offset"), 1, "steps[3].a.offset", "not aligned"),
]


@pytest.mark.parametrize("path, value, field, message", BAD_MANIFESTS)
def test_bad_manifest_names_the_field(tmp_path, path, value, field, message) -> None:
    folder = write_artifact(tmp_path / "a")
    data = _edit(full_manifest(), path, value)
    with pytest.raises(cuda.ArtifactError) as info:
        cuda.parse_manifest(data, folder)
    assert info.value.field == field
    assert message in str(info.value)
    assert str(info.value).startswith(f"manifest.json: {field}: ")


def test_overlapping_output_batches_are_refused() -> None:
    data = full_manifest()
    step = data["steps"][6]
    step["c"]["batch_stride"] = 32  # each 8x8 output spans 64 elements
    with pytest.raises(cuda.ArtifactError, match="32 makes the 3 output matrices overlap"):
        cuda.parse_manifest(data)


def test_ptx_signatures() -> None:
    """Kernel signatures as LLVM's NVPTX back end and hand-written PTX spell them."""
    text = """
    // .globl k0(unused
    .visible .entry k0(
        .param .u64 .ptr .align 1 k0_param_0,
        .param .u32 k0_param_1, /* a comment (with a parenthesis */
        .param .align 8 .b8 k0_param_2[24]
    )
    .maxntid 128, 2, 1
    { ret; }
    .entry k1 .reqntid 32 { ret; }
    """
    kernels = cuda.parse_ptx(text)
    assert kernels["k0"] == cuda.PTXEntry((8, 4, 24), (128, 2, 1), None)
    assert kernels["k1"] == cuda.PTXEntry((), None, (32, 1, 1))


def test_manifest_that_is_no_object() -> None:
    with pytest.raises(cuda.ArtifactError, match="manifest: expected an object, found list"):
        cuda.parse_manifest([])


def test_unreadable_artifacts(tmp_path) -> None:
    with pytest.raises(cuda.ArtifactError, match="no artifact folder"):
        cuda.read_manifest(tmp_path / "missing")
    with pytest.raises(cuda.ArtifactError, match="cannot read the manifest"):
        cuda.read_manifest(tmp_path)
    (tmp_path / cuda.MANIFEST).write_text('{"format": ')
    with pytest.raises(cuda.ArtifactError, match="not JSON: .* at line 1 column 12"):
        cuda.read_manifest(tmp_path)


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


def _place(rows: int, cols: int, batch: int, transposed: bool, batch_stride: int | None) -> dict:
    """Strides (with padded leading dimensions) of a batch of rows x cols matrices."""
    if transposed:
        rs, cs = 1, rows + 3
        span = cs * cols
    else:
        rs, cs = cols + 2, 1
        span = rs * rows
    bs = span + 5 if batch_stride is None else batch_stride
    return {"row_stride": rs, "col_stride": cs, "batch_stride": bs if batch > 1 else 0}


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


def gemm_step(dtype: str, m: int, n: int, k: int, batch: int, a: dict, b: dict, c: dict) -> dict:
    out_dtype = dtype
    operands = {}
    for key, layout in (("a", a), ("b", b), ("c", c)):
        operands[key] = {"buffer": "abc".index(key), "offset": 16 * (1 + "abc".index(key))}
        operands[key] |= layout
    return {
        **{"op": "gemm", "library": "cublas", "dtype": dtype, "out_dtype": out_dtype},
        **{"compute": "float32", "m": m, "n": n, "k": k, "batch": batch},
        **operands,
        **{"alpha": 1.5, "beta": 0.5},
    }


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
        _place(m, k, count, a_t, None),
        _place(k, n, count, b_t, 0 if batch == "broadcast-b" else None),
        _place(m, n, count, c_t, None),
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
        _place(64, 16, 1, False, 0),
        _place(16, 32, 1, True, 0),
        _place(64, 32, 1, False, 0),
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
            _place(4, 4, 1, False, 0),
            _place(4, 4, 1, False, 0),
            _place(4, 4, 1, False, 0),
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


def test_dlpack_view_of_a_host_array() -> None:
    array = np.arange(12, dtype=np.float16).reshape(3, 4)
    view = cuda.from_dlpack(array)
    assert (view.device_type, view.pointer) == (cuda.KDL_CPU, array.ctypes.data)
    assert view.shape == (3, 4) and view.dtype == "float16" and view.contiguous
    view.release()
    transposed = cuda.from_dlpack(np.arange(12, dtype=np.int64).reshape(3, 4).T)
    assert transposed.shape == (4, 3) and transposed.dtype == "int64"
    assert not transposed.contiguous
    transposed.release()


# ---- the command line and the runtime's imports -------------------------------------------------


def _run(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_command_line_on_a_bad_artifact(tmp_path) -> None:
    folder = write_artifact(tmp_path / "a", _edit(full_manifest(), ("steps", 0, "grid"), [4, 1]))
    result = _run("-m", "strata.runtime.cuda", str(folder))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "strata.runtime.cuda: error: manifest.json: steps[0].grid: expected 3 integers, "
        "found [4, 1]"
    )
    result = _run("-m", "strata.runtime.cuda", str(tmp_path / "missing"))
    assert result.returncode == 1 and "no artifact folder" in result.stderr
    result = _run("-m", "strata.runtime.cuda", str(folder), "--repeat", "many")
    assert result.returncode == 1 and "invalid int value" in result.stderr


def test_command_line_check_needs_no_gpu(tmp_path) -> None:
    folder = write_artifact(tmp_path / "a")
    result = _run("-m", "strata.runtime.cuda", str(folder), "--check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{folder}: valid (7 steps, chip sm_80)"


@pytest.mark.skipif(cuda.cuda_available(), reason="a GPU is present")
def test_command_line_without_a_gpu(tmp_path) -> None:
    folder = write_artifact(tmp_path / "a")
    result = _run("-m", "strata.runtime.cuda", str(folder))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("strata.runtime.cuda: error: ")
    assert "CUDA_" in result.stderr


def test_runtime_runs_without_mlir_or_strata(tmp_path) -> None:
    """A copy of cuda.py beside an artifact, with only the standard library and numpy."""
    shutil.copy(RUNTIME, tmp_path / "cuda.py")
    folder = write_artifact(tmp_path / "a")
    numpy_site = str(Path(np.__file__).resolve().parents[1])
    code = (
        f"import sys; sys.path[:] = [{str(tmp_path)!r}] + sys.path + [{numpy_site!r}]; "
        "import cuda; "
        f"cuda.read_manifest({str(folder)!r}); cuda.cuda_available(); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('mlir', 'strata')]; "
        "assert not bad, bad; print('ok')"
    )
    result = _run("-S", "-c", code, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    env = {**os.environ, "PYTHONPATH": numpy_site}
    result = _run("-S", str(tmp_path / "cuda.py"), str(folder), "--check", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module", ["strata.runtime.cuda", "bench.gpu"])
def test_imports_leave_mlir_out(module) -> None:
    code = f"import sys, {module}; assert 'mlir' not in sys.modules, 'mlir imported'"
    result = _run("-c", code)
    assert result.returncode == 0, result.stderr


def test_bench_lists_artifacts_without_a_gpu(tmp_path) -> None:
    write_artifact(tmp_path / "model")
    np.savez(tmp_path / "model" / "expected.npz", *artifact_inputs()[1])
    square = _place(64, 64, 1, False, 0) | {"row_stride": 64}
    step = gemm_step("float16", 64, 64, 64, 1, square, square, square)
    matmul = {
        **{"format": "strata-cuda", "version": 1, "chip": "sm_90a", "entry": "main"},
        "modules": [],
        "buffers": [{"id": i, "bytes": 64 * 64 * 2 + 64} for i in range(3)],
        "inputs": [
            {"name": n, "buffer": i, "offset": 0, "shape": [64, 64], "dtype": "float16"}
            for i, n in enumerate("ab")
        ],
        "outputs": [{"name": "c", "buffer": 2, "offset": 0, "shape": [64, 64], "dtype": "float16"}],
        "steps": [step],
    }
    (tmp_path / "mm" / "f16").mkdir(parents=True)
    (tmp_path / "mm" / "f16" / cuda.MANIFEST).write_text(json.dumps(matmul))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / cuda.MANIFEST).write_text("[]")
    result = _run("-m", "bench.gpu", str(tmp_path), "--list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "mm/f16: matmul cuBLAS float16 64x64x64",
        "model: model cuBLAS float32",
    ]
    assert "junk: manifest.json: manifest: expected an object" in result.stderr


# ---- whole artifacts on a host-memory stand-in for the driver and cuBLAS ------------------------
# The stand-ins keep "device" memory in host malloc blocks, run the two PTX kernels above as C
# functions (by name) and compute gemms by cuBLAS's documented contract; they count what is live
# so that leaks show. Built against the real cuda.h when it is installed (prototypes checked).

FAKE_LIBCUDA = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if __has_include(<cuda.h>)
#include <cuda.h>
#else
typedef int CUresult; typedef int CUdevice; typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext; typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction; typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent; typedef int CUjit_option; typedef int CUdevice_attribute;
typedef int CUfunction_attribute;
enum { CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_INVALID_DEVICE = 101,
       CUDA_ERROR_INVALID_CONTEXT = 201, CUDA_ERROR_INVALID_PTX = 218,
       CUDA_ERROR_INVALID_HANDLE = 400, CUDA_ERROR_NOT_FOUND = 500 };
enum { CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
       CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
       CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
       CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
       CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8, CU_JIT_ERROR_LOG_BUFFER = 5 };
#endif
int live_memory, live_modules, live_streams, live_events, contexts, launches;
char loaded[8];
static int context;
static double clock_ms;
typedef struct { char name[64]; int shared; } Func;
CUresult cuInit(unsigned int f) { return CUDA_SUCCESS; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return CUDA_SUCCESS; }
CUresult cuDeviceGetCount(int *c) { *c = 1; return CUDA_SUCCESS; }
CUresult cuDeviceGet(CUdevice *d, int o) { *d = 0; return o ? CUDA_ERROR_INVALID_DEVICE : 0; }
CUresult cuDeviceGetName(char *n, int len, CUdevice d) { snprintf(n, len, "Stand-in"); return 0; }
CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d) {
  switch (a) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; return 0;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; return 0;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 132; return 0;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *v = 232448; return 0;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
}
CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) {
  contexts++; *c = (CUcontext)&context; return 0;
}
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
  return contexts-- > 0 ? 0 : CUDA_ERROR_INVALID_CONTEXT;
}
CUresult cuCtxSetCurrent(CUcontext c) {
  return c == (CUcontext)&context ? 0 : CUDA_ERROR_INVALID_CONTEXT;
}
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuModuleLoadDataEx(CUmodule *m, const void *image, unsigned int n, CUjit_option *o,
                            void **v) {
  if (!memcmp(image, "\x7f" "ELF", 4)) strcpy(loaded, "cubin");
  else if (strstr(image, ".version")) strcpy(loaded, "ptx");
  else {
    for (unsigned i = 0; i < n; i++)
      if (o[i] == CU_JIT_ERROR_LOG_BUFFER) strcpy((char *)v[i], "ptxas fatal: not PTX");
    return CUDA_ERROR_INVALID_PTX;
  }
  *m = (CUmodule)malloc(1); live_modules++; return 0;
}
CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name) {
  if (strcmp(name, "scale_add") && strcmp(name, "fill_i64")) return CUDA_ERROR_NOT_FOUND;
  Func *fn = calloc(1, sizeof(Func)); strncpy(fn->name, name, 63); *f = (CUfunction)fn;
  return 0;
}
CUresult cuModuleUnload(CUmodule m) { free(m); live_modules--; return 0; }
CUresult cuFuncSetAttribute(CUfunction f, CUfunction_attribute a, int v) {
  if (a != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) return CUDA_ERROR_INVALID_VALUE;
  ((Func *)f)->shared = v; return 0;
}
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
  void *q = malloc(n); memset(q, 0xAB, n); *p = (CUdeviceptr)q; live_memory++; return 0;
}
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *)p); live_memory--; return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) {
  memcpy((void *)d, s, n); return 0;
}
#define ON_STREAM if (!st) return CUDA_ERROR_INVALID_HANDLE
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, CUstream st) {
  ON_STREAM; memcpy((void *)d, s, n); return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void *d, CUdeviceptr s, size_t n, CUstream st) {
  ON_STREAM; memcpy(d, (void *)s, n); return 0;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st) {
  ON_STREAM; memcpy((void *)d, (void *)s, n); return 0;
}
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, CUstream st) {
  ON_STREAM; memset((void *)d, v, n); return 0;
}
CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                        unsigned by, unsigned bz, unsigned shared, CUstream st, void **p,
                        void **extra) {
  Func *fn = (Func *)f;
  ON_STREAM;
  if (shared > 48 * 1024 && (int)shared > fn->shared) return CUDA_ERROR_INVALID_VALUE;
  launches++;
  long threads = (long)gx * gy * gz * bx * by * bz;
  if (!strcmp(fn->name, "scale_add")) {
    float *x = *(float **)p[0], *y = *(float **)p[1], a = *(float *)p[3], b = *(float *)p[4];
    for (long i = 0; i < threads && i < *(int *)p[2]; i++) y[i] = a * x[i] + b;
  } else {
    long long *out = *(long long **)p[0];
    for (long i = 0; i < threads && i < *(int *)p[2]; i++) out[i] = *(long long *)p[1];
  }
  return 0;
}
CUresult cuStreamCreate(CUstream *s, unsigned int f) {
  *s = (CUstream)malloc(1); live_streams++; return 0;
}
CUresult cuStreamDestroy_v2(CUstream s) { free(s); live_streams--; return 0; }
CUresult cuStreamSynchronize(CUstream s) { return 0; }
CUresult cuEventCreate(CUevent *e, unsigned int f) {
  *e = (CUevent)calloc(1, sizeof(double)); live_events++; return 0;
}
CUresult cuEventDestroy_v2(CUevent e) { free(e); live_events--; return 0; }
CUresult cuEventRecord(CUevent e, CUstream s) {
  clock_ms += 0.25; *(double *)e = clock_ms; return 0;
}
CUresult cuEventSynchronize(CUevent e) { return 0; }
CUresult cuEventElapsedTime_v2(float *ms, CUevent a, CUevent b) {
  *ms = (float)(*(double *)b - *(double *)a); return 0;
}
CUresult cuGetErrorName(CUresult e, const char **s) {
  *s = e == CUDA_ERROR_INVALID_PTX ? "CUDA_ERROR_INVALID_PTX" : "CUDA_ERROR_OTHER"; return 0;
}
CUresult cuGetErrorString(CUresult e, const char **s) { *s = "stand-in error"; return 0; }
"""

FAKE_LIBCUBLAS = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
int handles, gemms, batched;
typedef struct { void *stream; } Handle;
int cublasCreate_v2(Handle **h) { *h = calloc(1, sizeof(Handle)); handles++; return 0; }
int cublasDestroy_v2(Handle *h) { free(h); handles--; return 0; }
int cublasSetStream_v2(Handle *h, void *s) { h->stream = s; return 0; }
int cublasGetVersion_v2(Handle *h, int *v) { *v = 130101; return 0; }
const char *cublasGetStatusName(int s) { return "CUBLAS_STATUS_INVALID_VALUE"; }
const char *cublasGetStatusString(int s) { return "an invalid value was used as an argument"; }
static float load(const void *p, long i, int t) {
  if (t == 0) return ((const float *)p)[i];
  if (t == 2) return (float)((const _Float16 *)p)[i];
  uint32_t bits = (uint32_t)((const uint16_t *)p)[i] << 16; float f; memcpy(&f, &bits, 4);
  return f;
}
static void store(void *p, long i, int t, float v) {
  if (t == 0) { ((float *)p)[i] = v; return; }
  if (t == 2) { ((_Float16 *)p)[i] = (_Float16)v; return; }
  uint32_t b; memcpy(&b, &v, 4);
  ((uint16_t *)p)[i] = (uint16_t)((b + 0x7FFF + ((b >> 16) & 1)) >> 16);
}
#define MAX1(x) ((x) > 1 ? (x) : 1)
static int gemm(Handle *h, int ta, int tb, int m, int n, int k, const float *alpha,
                const void *A, int at, int lda, long long sa, const void *B, int bt, int ldb,
                long long sb, const float *beta, void *C, int ct, int ldc, long long sc,
                int count, int compute) {
  if (!h->stream || (compute != 68 && compute != 77) || at != bt) return 7;
  if (lda < (ta ? MAX1(k) : MAX1(m)) || ldb < (tb ? MAX1(n) : MAX1(k)) || ldc < MAX1(m)) return 7;
  for (int p = 0; p < count; p++)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        float acc = 0;
        for (int l = 0; l < k; l++)
          acc += load(A, p * sa + (ta ? l + (long)i * lda : i + (long)l * lda), at) *
                 load(B, p * sb + (tb ? j + (long)l * ldb : l + (long)j * ldb), bt);
        long ic = p * sc + i + (long)j * ldc;
        store(C, ic, ct, *alpha * acc + (*beta != 0 ? *beta * load(C, ic, ct) : 0));
      }
  return 0;
}
int cublasGemmEx(Handle *h, int ta, int tb, int m, int n, int k, const float *alpha,
                 const void *A, int at, int lda, const void *B, int bt, int ldb,
                 const float *beta, void *C, int ct, int ldc, int compute, int algo) {
  gemms++;
  return gemm(h, ta, tb, m, n, k, alpha, A, at, lda, 0, B, bt, ldb, 0, beta, C, ct, ldc, 0, 1,
              compute);
}
int cublasGemmStridedBatchedEx(Handle *h, int ta, int tb, int m, int n, int k,
                               const float *alpha, const void *A, int at, int lda, long long sa,
                               const void *B, int bt, int ldb, long long sb, const float *beta,
                               void *C, int ct, int ldc, long long sc, int count, int compute,
                               int algo) {
  batched++;
  return gemm(h, ta, tb, m, n, k, alpha, A, at, lda, sa, B, bt, ldb, sb, beta, C, ct, ldc, sc,
              count, compute);
}
"""


@pytest.fixture(scope="session")
def stand_in_libraries(tmp_path_factory) -> tuple[Path, Path]:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler for the driver stand-in")
    folder = tmp_path_factory.mktemp("stand_in")
    paths = []
    for name, source in (("libcuda.so.1", FAKE_LIBCUDA), ("libcublas.so.13", FAKE_LIBCUBLAS)):
        (folder / f"{name}.c").write_text(source)
        command = [compiler, "-shared", "-fPIC", "-O1", "-o", str(folder / name)]
        command += ["-I/usr/local/cuda/include", str(folder / f"{name}.c")]
        built = subprocess.run(command, capture_output=True, text=True)
        if built.returncode != 0:
            pytest.skip(f"cannot build the driver stand-in: {built.stderr[-300:]}")
        paths.append(folder / name)
    return paths[0], paths[1]


class StandIn:
    def __init__(self, libcuda: Path, libcublas: Path):
        import ctypes

        self.cuda, self.cublas = ctypes.CDLL(str(libcuda)), ctypes.CDLL(str(libcublas))

    def count(self, name: str) -> int:
        import ctypes

        for lib in (self.cuda, self.cublas):
            try:
                return ctypes.c_int.in_dll(lib, name).value
            except ValueError:
                continue
        raise KeyError(name)

    def live(self) -> dict[str, int]:
        names = ("live_memory", "live_modules", "live_streams", "live_events", "contexts")
        return {name: self.count(name) for name in (*names, "handles")}

    def loaded(self) -> str:
        import ctypes

        return (ctypes.c_char * 8).in_dll(self.cuda, "loaded").value.decode()


@pytest.fixture
def stand_in(stand_in_libraries, monkeypatch) -> StandIn:
    libcuda, libcublas = stand_in_libraries
    monkeypatch.setattr(cuda, "LIBCUDA", str(libcuda))
    monkeypatch.setattr(cuda, "_driver", None)
    monkeypatch.setenv("STRATA_CUBLAS", str(libcublas))
    return StandIn(libcuda, libcublas)


def test_stand_in_runs_every_step_kind(tmp_path, stand_in) -> None:
    folder = write_artifact(tmp_path / "a")
    inputs, expected = artifact_inputs()
    before = stand_in.count("batched")
    with cuda.load(folder) as model:
        assert model.loaded_from == {"k": "ptx"}  # sm_80 PTX on a 9.0 device: JIT
        assert stand_in.live() == {
            **{"live_memory": 13, "live_modules": 1, "live_streams": 1, "live_events": 0},
            **{"contexts": 1, "handles": 1},
        }
        outputs = model(*inputs)
        assert_outputs(outputs, expected)
        assert_outputs(model(*inputs), expected)  # buffers are reused
        assert stand_in.count("batched") == before + 2
        timing = model.time(*inputs, repeat=4)
        assert len(timing.samples_s) == 4 and timing.median_s == pytest.approx(0.25e-3)
        assert "ms per call" in str(timing)
        model.time(*inputs, repeat=2, copies=True)
    assert set(stand_in.live().values()) == {0}  # everything given back


def test_stand_in_device_arrays_as_inputs(tmp_path, stand_in) -> None:
    """__cuda_array_interface__ and __dlpack__ inputs are copied device to device (the stand-in's
    device memory is host memory, so host arrays can pose as device arrays)."""

    class Interface:
        def __init__(self, array: np.ndarray):
            self.array = array
            self.__cuda_array_interface__ = {
                **{"shape": array.shape, "typestr": array.dtype.str, "strides": None},
                **{"data": (array.ctypes.data, False), "version": 3, "stream": 1},
            }

    class DLPack:
        def __init__(self, array: np.ndarray):
            self.array = array

        def __dlpack__(self, stream=None):
            return self.array.__dlpack__()

        def __dlpack_device__(self):
            return (cuda.KDL_CUDA, 0)

    class NoInterface(DLPack):  # as torch's bf16 tensors: the interface raises, DLPack works
        @property
        def __cuda_array_interface__(self):
            raise TypeError("dtype bfloat16 is not supported by __cuda_array_interface__")

    torch = pytest.importorskip("torch")
    inputs, expected = artifact_inputs()
    with cuda.load(write_artifact(tmp_path / "a")) as model:
        assert_outputs(model(Interface(inputs[0]), DLPack(inputs[1]), *inputs[2:]), expected)
        on_host = [torch.from_numpy(inputs[0]), *inputs[1:4]]  # CPU tensors are host arrays
        assert_outputs(model(*on_host, NoInterface(inputs[4]), inputs[5]), expected)
        strided = DLPack(np.asfortranarray(inputs[1]))
        with pytest.raises(cuda.InputError, match=r"argument 1 \(a16\) is not contiguous"):
            model(inputs[0], strided, *inputs[2:])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a[:1], r"main\(\) takes 6 arrays \(x: 1000 float32, .*\) but 1 were given"),
        (lambda a: [a[0].astype(np.float64), *a[1:]], r"argument 0 \(x\) has dtype float64"),
        (lambda a: [a[0][:10], *a[1:]], r"argument 0 \(x\) has shape \(10,\), expected \(1000,\)"),
        (
            lambda a: [*a[:4], cuda.bf16_values(a[4]), a[5]],
            r"argument 4 \(a3\) has dtype float32, expected bfloat16 \(bfloat16 is passed as",
        ),
    ],
)
def test_stand_in_input_errors(tmp_path, stand_in, change, message) -> None:
    inputs, _ = artifact_inputs()
    with cuda.load(write_artifact(tmp_path / "a")) as model:
        with pytest.raises(cuda.InputError, match=message):
            model(*change(inputs))


def test_stand_in_load_errors(tmp_path, stand_in, monkeypatch) -> None:
    with pytest.raises(cuda.ArtifactError, match="runs only on compute capability 10.0"):
        cuda.load(write_artifact(tmp_path / "new", full_manifest("sm_100a")))
    folder = write_artifact(tmp_path / "garbled")  # kernels declared, but no PTX version
    (folder / "kernels.ptx").write_text(PTX.replace(".version 8.0", ""))
    with pytest.raises(cuda.CudaError) as info:
        cuda.load(folder)
    assert info.value.name == "CUDA_ERROR_INVALID_PTX"
    assert "PTX of module 'k'" in str(info.value) and "ptxas fatal: not PTX" in str(info.value)
    too_much = _edit(full_manifest(), ("steps", 0, "shared_bytes"), 300_000)
    with pytest.raises(cuda.ArtifactError, match="Stand-in allows 232448 per block"):
        cuda.load(write_artifact(tmp_path / "shared", too_much))
    monkeypatch.setenv("STRATA_CUBLAS", str(tmp_path / "missing.so"))
    with pytest.raises(cuda.CudaError, match="CUBLAS_NOT_FOUND"):
        cuda.load(write_artifact(tmp_path / "a"))
    assert set(stand_in.live().values()) == {0}  # failed loads give everything back


def test_stand_in_cubin_and_opt_in_shared_memory(tmp_path, stand_in) -> None:
    manifest = _edit(
        full_manifest("sm_90a", "k.sm_90a.cubin"), ("steps", 0, "shared_bytes"), 100_000
    )
    folder = write_artifact(tmp_path / "a", manifest)
    (folder / "k.sm_90a.cubin").write_bytes(b"\x7fELF stand-in cubin")
    inputs, expected = artifact_inputs()
    with cuda.load(folder) as model:
        assert model.loaded_from == {"k": "cubin"} and stand_in.loaded() == "cubin"
        assert_outputs(model(*inputs), expected)


def test_stand_in_command_line_and_bench(tmp_path, stand_in, capsys, monkeypatch) -> None:
    folder = write_artifact(tmp_path / "artifacts" / "model")
    inputs, expected = artifact_inputs()
    np.savez(folder / "inputs.npz", *inputs)
    np.savez(folder / "expected.npz", *expected)
    assert cuda.main([str(folder), "--compare", str(folder / "expected.npz"), "--repeat", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stand-in (sm_90); modules: k: ptx\ny: 1000 float32\n")
    assert "e32: max abs error" in out and "time: 0.2500 ms per call (median of 3" in out
    wrong = [e + 1 if e.dtype != np.uint16 else e for e in expected]
    np.savez(folder / "wrong.npz", *wrong)
    assert cuda.main([str(folder), "--compare", str(folder / "wrong.npz"), "--tolerance", "1e-3"])
    assert "FAIL" in capsys.readouterr().out

    monkeypatch.syspath_prepend(str(REPO))
    import bench.gpu

    assert bench.gpu.main([str(tmp_path / "artifacts"), "--repeat", "2"]) == 0
    table = capsys.readouterr().out
    assert "GPU: Stand-in (sm_90, 132 SMs)" in table
    assert "| model | 7 | ptx |" in table


# ---- on a GPU -----------------------------------------------------------------------------------


@requires_gpu
def test_gpu_runs_every_step_kind(tmp_path) -> None:
    dev = cuda.device()
    folder = write_artifact(tmp_path / "a")
    inputs, expected = artifact_inputs()
    with cuda.load(folder) as model:
        assert model.loaded_from == {"k": "ptx"}
        assert_outputs(model(*inputs), expected)
        assert model.time(*inputs, repeat=5).median_s > 0
    ptxas = shutil.which("ptxas")
    if ptxas is not None:  # the same kernels as a cubin for this GPU
        chip = dev.chip + ("a" if dev.capability[0] >= 9 else "")
        manifest = full_manifest(chip, f"k.{chip}.cubin")
        folder = write_artifact(tmp_path / "cubin", manifest)
        command = [ptxas, f"-arch={chip}", str(folder / "kernels.ptx")]
        subprocess.run([*command, "-o", str(folder / f"k.{chip}.cubin")], check=True)
        with cuda.load(folder) as model:
            assert model.loaded_from == {"k": "cubin"}
            assert_outputs(model(*inputs), expected)


@requires_gpu
def test_gpu_torch_tensors_as_inputs(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    inputs, expected = artifact_inputs()
    on_gpu = [torch.from_numpy(a).cuda() for a in inputs[:4]]  # bf16 stays numpy bits
    with cuda.load(write_artifact(tmp_path / "a")) as model:
        assert_outputs(model(*on_gpu, *inputs[4:]), expected)
        dlpack_only = [DLPackOnly(t) for t in on_gpu]
        assert_outputs(model(*dlpack_only, *inputs[4:]), expected)


class DLPackOnly:
    """A tensor seen only through DLPack (torch also offers __cuda_array_interface__)."""

    def __init__(self, tensor: Any):
        self.tensor = tensor

    def __dlpack__(self, stream=None):
        return self.tensor.__dlpack__(stream=stream)

    def __dlpack_device__(self):
        return self.tensor.__dlpack_device__()
