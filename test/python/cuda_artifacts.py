"""Test artifacts for the CUDA runtime tests (`test_cuda_runtime*.py`): two PTX kernels, a
manifest using every step kind with its inputs and the outputs numpy expects, manifest edits,
gemm step builders, and a subprocess helper."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from strata.runtime import cuda

REPO = Path(__file__).resolve().parents[2]

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


def operand(buffer: int, rs: int, cs: int, bs: int = 0, offset: int = 0) -> dict:
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
            gemm("float16", 64, 48, 32, 1, operand(3, 32, 1), operand(4, 48, 1), operand(5, 48, 1)),
            {
                **{"op": "launch", "module": "k", "kernel": "fill_i64"},
                **{"grid": [1, 1, 1], "block": [32, 1, 1]},
                "args": [ptr(7), {"i64": -3}, {"i32": 10}],
            },
            gemm("float32", 64, 16, 48, 1, operand(9, 48, 1), operand(6, 1, 48), operand(8, 16, 1)),
            gemm(
                "bfloat16",
                *(8, 8, 16, 3),
                *(operand(10, 16, 1, 128), operand(11, 8, 1, 0), operand(12, 8, 1, 64)),
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


DELETE = object()


def edit(data: dict, path: tuple, value: Any) -> dict:
    """A copy of `data` with the value at `path` (keys and indices) replaced, or deleted when
    `value` is DELETE."""
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def place(rows: int, cols: int, batch: int, transposed: bool, batch_stride: int | None) -> dict:
    """Strides (with padded leading dimensions) of a batch of rows x cols matrices."""
    if transposed:
        rs, cs = 1, rows + 3
        span = cs * cols
    else:
        rs, cs = cols + 2, 1
        span = rs * rows
    bs = span + 5 if batch_stride is None else batch_stride
    return {"row_stride": rs, "col_stride": cs, "batch_stride": bs if batch > 1 else 0}


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


def run_python(
    *args: str, cwd: Path = REPO, env: dict | None = None
) -> subprocess.CompletedProcess:
    """`python ARGS` with this interpreter, its output captured as text."""
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )
