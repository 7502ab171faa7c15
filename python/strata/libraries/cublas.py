"""cuBLAS (`cublas.gemm`): `libcall.matmul` on NVIDIA GPUs, as a gemm step of the launch manifest.

The CUDA target does not call cuBLAS from generated code: each `libcall.matmul` with this callee
becomes one `gemm` step of the artifact's manifest (`manifest_step`), which the runtime
(`strata.runtime.cuda`) runs with cublasGemmEx / cublasGemmStridedBatchedEx on the model's
stream. cuBLAS is needed where the artifact runs, not where it is compiled, so the library
counts as present everywhere (see `_locate`).

Accepted: f32, f16 and bf16 operands of one element type; every operand with unit-stride rows
or columns (a transposed view is cuBLAS's transpose flag); batch dimensions (numpy broadcasting)
that fold into one strided batch per operand, stride 0 where an operand is broadcast. Refused:
broadcasts that need two batch strides (lhs [2, 1, m, k] with rhs [1, 3, k, n]), other element
types, dynamic shapes or strides, empty operands.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from mlir import ir

from strata.diagnostics import CompileError
from strata.libraries.registry import Library, LibraryFunction, register
from strata.runtime import cuda

# MLIR element type -> manifest dtype
ELEMENTS = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}
SONAME = cuda.CUBLAS_SONAMES[0]


def _locate() -> Path | None:
    """cuBLAS is loaded where the artifact runs (`strata.runtime.cuda.find_cublas` there), so here
    it is its soname: dispatching to it needs no cuBLAS on the compiling machine."""
    return Path(SONAME)


CUBLAS = Library(
    "cublas",
    _locate,
    install_hint="pip install nvidia-cublas on the machine that runs the artifact",
)


# ---- the gemm plan: shapes and element strides -> the manifest's gemm fields


def plan_gemm(
    lhs: tuple[list[int], list[int]],
    rhs: tuple[list[int], list[int]],
    out: tuple[list[int], list[int]],
) -> dict[str, Any] | str:
    """The gemm of out = lhs @ rhs (each given as (shape, strides in elements)): m, n, k, batch
    and each operand's row/col/batch strides; or why one strided batched gemm cannot do it."""
    (ls, lst), (rs, rst), (os_, ost) = lhs, rhs, out
    if min(len(ls), len(rs), len(os_)) < 2:
        return f"takes operands of rank >= 2, found shapes {ls}, {rs} and {os_}"
    m, k = ls[-2:]
    n = rs[-1]
    if rs[-2] != k or os_[-2:] != [m, n]:
        return f"shapes {ls} @ {rs} do not give {os_}"
    batch = os_[:-2]
    try:
        expected = list(np.broadcast_shapes(tuple(ls[:-2]), tuple(rs[:-2])))
    except ValueError:
        expected = None
    if expected != batch:
        return f"batch dimensions of {ls} and {rs} do not broadcast to {batch}"
    if 0 in (*ls, *rs, *os_):
        return f"takes no empty operands, found shapes {ls}, {rs} and {os_}"
    operands = {}
    for key, shape, strides in (("a", ls, lst), ("b", rs, rst), ("c", os_, ost)):
        matrix = _matrix_strides(shape, strides)
        if isinstance(matrix, str):
            return matrix
        aligned = [1] * (len(batch) - len(shape) + 2) + shape[:-2]
        aligned_strides = [0] * (len(batch) - len(shape) + 2) + strides[:-2]
        folded = _fold_batch(batch, aligned, aligned_strides)
        if folded is None:
            return (
                f"operand of shape {shape} and strides {strides} needs more than one batch "
                f"stride for the batch dimensions {batch}"
            )
        operands[key] = {**matrix, "batch_stride": folded}
    count = math.prod(batch)
    a, b, c = operands["a"], operands["b"], operands["c"]
    if count > 1 and c["batch_stride"] == 0:
        return "the output's batches overlap"
    if (  # a batched lhs times one rhs: one gemm on all rows
        count > 1
        and b["batch_stride"] == 0
        and a["col_stride"] == 1
        and c["col_stride"] == 1
        and a["batch_stride"] == m * a["row_stride"]
        and c["batch_stride"] == m * c["row_stride"]
    ):
        m, count = m * count, 1
        for x in (a, c):
            x["batch_stride"] = 0
    if count == 1:
        for x in (a, b, c):
            x["batch_stride"] = 0
    if max(m, n, k, count) > cuda.INT32_MAX:
        return f"sizes beyond 32 bits (m={m}, n={n}, k={k}, batch={count})"
    return {"m": m, "n": n, "k": k, "batch": count, "a": a, "b": b, "c": c}


def _matrix_strides(shape: list[int], strides: list[int]) -> dict[str, int] | str:
    """Row and column strides of the last two dimensions, with unit stride on one of them
    (a dimension of size 1 may take any stride: it is normalized)."""
    rows, cols = shape[-2:]
    row_stride, col_stride = strides[-2:]
    if cols == 1:
        col_stride = 1
    if rows == 1:
        row_stride = cols if col_stride == 1 else 1
    if col_stride == 1 and row_stride >= cols:
        return {"row_stride": row_stride, "col_stride": 1}
    if row_stride == 1 and col_stride >= rows:
        return {"row_stride": 1, "col_stride": col_stride}
    return (
        f"needs unit-stride rows or columns without overlap, found shape {shape} with "
        f"strides {strides}"
    )


def _fold_batch(batch: list[int], sizes: list[int], strides: list[int]) -> int | None:
    """One stride for the flattened batch dimensions `batch` of an operand whose own sizes
    (1 where broadcast) and strides are given; None when no single stride works."""
    effective = [(b, s if size != 1 else 0) for b, size, s in zip(batch, sizes, strides) if b != 1]
    if not effective:
        return 0
    inner = effective[-1][1]
    expected = inner
    for size, stride in reversed(effective):
        if stride != expected:
            return None
        expected = stride * size
    return inner


# ---- the registry entry


def _memref_layout(value: ir.Value) -> tuple[list[int], list[int]] | str:
    t = value.type
    if not isinstance(t, ir.MemRefType):
        return f"takes memrefs, found {t}"
    if not t.has_static_shape:
        return f"needs static shapes, found {t}"
    strides, _ = t.get_strides_and_offset()
    if any(s == ir.ShapedType.get_dynamic_stride_or_offset() for s in strides):
        return f"needs static strides, found {t}"
    return list(t.shape), list(strides)


def accepts(op: ir.Operation) -> str | None:
    layouts = []
    for value in op.operands:
        layout = _memref_layout(value)
        if isinstance(layout, str):
            return f"cublas.gemm {layout}"
        layouts.append(layout)
    elements = {str(v.type.element_type) for v in op.operands}
    if len(elements) != 1 or next(iter(elements)) not in ELEMENTS:
        types = ", ".join(str(v.type) for v in op.operands)
        return f"cublas.gemm takes f32, f16 or bf16 operands of one element type, found {types}"
    plan = plan_gemm(*layouts)
    return f"cublas.gemm {plan}" if isinstance(plan, str) else None


def emit(op: ir.Operation, function: LibraryFunction) -> None:
    raise CompileError(
        "cublas.gemm runs on NVIDIA GPUs only, as a gemm step of a CUDA artifact "
        "(strata-lower-to-llvm{target=cuda}); on the CPU use openblas.sgemm",
        op.location,
    )


def reference(lhs: np.ndarray, rhs: np.ndarray, out: np.ndarray) -> None:
    """cuBLAS's semantics with CUBLAS_COMPUTE_32F: products accumulated in float32, rounded to
    the output type once (bf16 arrays are uint16 bits)."""
    if out.dtype == np.uint16:
        product = np.matmul(cuda.bf16_values(lhs), cuda.bf16_values(rhs))
        out[...] = cuda.bf16_bits(product)
    else:
        out[...] = np.matmul(lhs.astype(np.float32), rhs.astype(np.float32)).astype(out.dtype)


def manifest_step(
    op: ir.Operation,
    lhs: dict[str, Any],
    rhs: dict[str, Any],
    out: dict[str, Any],
    *,
    allow_tf32: bool = False,
) -> dict[str, Any]:
    """The manifest's gemm step for the `libcall.matmul` op `op`, given its three operands as
    {"buffer": id, "offset": bytes, "shape": [...], "strides": [... elements]} (the memref the op
    reads: `offset` is where its element [0, ..., 0] lies). `allow_tf32` lets f32 products use
    TF32 TensorCores. Raises ValueError when cuBLAS cannot take these operands.

    >>> manifest_step(op, {"buffer": 0, "offset": 0, "shape": [64, 16], "strides": [16, 1]},
    ...               {"buffer": 1, "offset": 0, "shape": [16, 32], "strides": [1, 16]},
    ...               {"buffer": 2, "offset": 0, "shape": [64, 32], "strides": [32, 1]})
    """
    element = str(op.operands[0].type.element_type)
    reason = accepts(op)
    if reason is not None:
        raise ValueError(reason)
    layouts = []
    for name, ref in (("lhs", lhs), ("rhs", rhs), ("out", out)):
        missing = {"buffer", "offset", "shape", "strides"} - set(ref)
        if missing:
            raise ValueError(f"{name} reference lacks {', '.join(sorted(missing))}: {ref}")
        layouts.append((list(ref["shape"]), list(ref["strides"])))
    plan = plan_gemm(*layouts)
    if isinstance(plan, str):
        raise ValueError(f"cublas.gemm {plan}")
    dtype = ELEMENTS[element]
    step: dict[str, Any] = {
        "op": "gemm",
        "library": "cublas",
        "dtype": dtype,
        "out_dtype": dtype,
        "compute": "tf32" if allow_tf32 and dtype == "float32" else "float32",
        "m": plan["m"],
        "n": plan["n"],
        "k": plan["k"],
        "batch": plan["batch"],
    }
    for key, ref in (("a", lhs), ("b", rhs), ("c", out)):
        step[key] = {"buffer": ref["buffer"], "offset": ref["offset"], **plan[key]}
    step["alpha"], step["beta"] = 1.0, 0.0
    return step


@dataclass(frozen=True)
class GPULibraryFunction(LibraryFunction):
    """A library function the CUDA target runs as a manifest step: `manifest_step(op, *refs)`
    gives the step of a libcall op whose operands are the device references `refs`."""

    manifest_step: Callable[..., dict[str, Any]] | None = None


GEMM = register(
    GPULibraryFunction(
        name="cublas.gemm",
        op="libcall.matmul",
        library=CUBLAS,
        symbol="cublasGemmEx",
        accepts=accepts,
        emit=emit,
        reference=reference,
        convention="a gemm step of the CUDA launch manifest: cublasGemmEx, or "
        "cublasGemmStridedBatchedEx for batches (row-major as C^T = B^T A^T, CUBLAS_COMPUTE_32F)",
        extra_symbols=("cublasGemmStridedBatchedEx",),
        manifest_step=manifest_step,
    )
)
