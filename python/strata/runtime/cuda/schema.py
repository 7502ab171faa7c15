"""What a manifest holds once read: format constants, element types, the typed steps.

bfloat16 tensors are held as their uint16 bits (numpy has no bfloat16), as in the rest of Strata.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

FORMAT = "strata-cuda"
VERSION = 1
MANIFEST = "manifest.json"

# Element types of inputs and outputs (bfloat16: the uint16 bits).
DTYPES: dict[str, np.dtype] = {
    name: np.dtype(storage)
    for name, storage in {
        "float32": np.float32,
        "float16": np.float16,
        "bfloat16": np.uint16,
        "float64": np.float64,
        "int8": np.int8,
        "uint8": np.uint8,
        "int16": np.int16,
        "int32": np.int32,
        "int64": np.int64,
        "bool": np.bool_,
    }.items()
}
GEMM_DTYPES = ("float32", "float16", "bfloat16")
# The accumulation of a gemm step: "float32", or "tf32" (float32 operands only: TensorCores
# round the inputs to TF32, as torch's allow_tf32 does).
GEMM_COMPUTE = ("float32", "tf32")
LAUNCH_ARGS = ("ptr", "i32", "i64", "f32", "f64")
STATIC_SHARED_LIMIT = 48 * 1024  # beyond it a kernel must opt in (cuFuncSetAttribute)
INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class BufferRef:
    buffer: int
    offset: int  # bytes


@dataclass(frozen=True)
class Constant:
    buffer: int
    file: str
    offset: int  # in the file
    bytes: int
    buffer_offset: int = 0  # where in the buffer (optional in the manifest)


@dataclass(frozen=True)
class Tensor:
    """An input or output: `shape` elements of `dtype` from byte `offset` of `buffer`."""

    name: str
    buffer: int
    offset: int
    shape: tuple[int, ...]
    dtype: str

    @property
    def storage(self) -> np.dtype:
        return DTYPES[self.dtype]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.storage.itemsize

    def __str__(self) -> str:
        return f"{self.name}: {'x'.join(map(str, self.shape)) or 'scalar'} {self.dtype}"


@dataclass(frozen=True)
class ModuleFiles:
    name: str
    ptx: str
    cubin: str | None


@dataclass(frozen=True)
class Launch:
    module: str
    kernel: str
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    shared_bytes: int
    args: tuple[tuple[str, Any], ...]  # (kind, value): ("ptr", BufferRef), ("i32", 7), ...


@dataclass(frozen=True)
class Copy:
    src: BufferRef
    dst: BufferRef
    bytes: int


@dataclass(frozen=True)
class Memset:
    dst: BufferRef
    bytes: int
    value: int


@dataclass(frozen=True)
class GemmOperand:
    """A row-major view: element [b, i, j] at `offset` + (b*batch_stride + i*row_stride +
    j*col_stride) elements; a transposed view has row_stride 1."""

    buffer: int
    offset: int
    row_stride: int
    col_stride: int
    batch_stride: int


@dataclass(frozen=True)
class Gemm:
    """C[b] (m x n) = alpha * A[b] (m x k) . B[b] (k x n) + beta * C[b], row-major."""

    dtype: str
    out_dtype: str
    compute: str
    m: int
    n: int
    k: int
    batch: int
    a: GemmOperand
    b: GemmOperand
    c: GemmOperand
    alpha: float
    beta: float
    library: str = "cublas"


Step = Launch | Copy | Memset | Gemm


@dataclass(frozen=True)
class Manifest:
    chip: str
    entry: str
    modules: tuple[ModuleFiles, ...]
    buffers: dict[int, int]  # id -> bytes
    constants: tuple[Constant, ...]
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    steps: tuple[Step, ...]


_CHIP = re.compile(r"sm_(\d+)(\d)([af]?)")


def chip_capability(chip: str) -> tuple[int, int, str] | None:
    """`sm_90a` -> (9, 0, "a"): compute capability and arch-specific suffix; None if malformed."""
    match = _CHIP.fullmatch(chip)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), match.group(3)


def bf16_bits(values: Any) -> np.ndarray:
    """float values -> bfloat16 bits (uint16), rounded to nearest even."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> 16
    nan = np.isnan(np.asarray(values, dtype=np.float32))
    return np.where(nan, np.uint16(0x7FC0), rounded.astype(np.uint16))


def bf16_values(bits: Any) -> np.ndarray:
    """bfloat16 bits (uint16) -> float32 values."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)
