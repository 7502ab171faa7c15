"""Per-lane fragment layouts of NVIDIA's TensorCore instructions, in one place.

Each layout is a pair of index tables (rows, cols) of shape (lanes, registers): lane `l`'s
element `i` of the fragment is `matrix[rows[l, i], cols[l, i]]` (PTX ISA, "Matrix Fragments for
mma.m16n8k16 with floating point type", "Matrix Fragments for mma.m16n8k8" (.tf32), "ldmatrix"
and "Register Fragments" of wgmma .m64nNk16 / .m64nNk8). The simulator
(`hwprim_to_nvvm_semantics`) and the lowering (`hwprim_to_nvvm`) both read them from here, and
the tests check them against entries copied from the PTX ISA tables, so a wrong layout cannot
hide behind a consistent one.

With g = lane / 4 (groupID) and t = lane % 4 (threadID_in_group):
- A (16x16): a_i at row g + 8 * ((i // 2) % 2), column 2t + i % 2 + 8 * (i // 4);
- B (16x8, k x n): b_i at row 2t + i % 2 + 8 * (i // 2), column g;
- C / D (16x8 f32): c_i at row g + 8 * (i // 2), column 2t + i % 2;
- tf32 m16n8k8 A (16x8): a_i at row g + 8 * (i % 2), column t + 4 * (i // 2);
- tf32 m16n8k8 B (8x8, k x n): b_i at row t + 4 * i, column g (its C / D is the one above);
- ldmatrix: per 8x8 matrix, 2 elements: row g, columns 2t, 2t+1 (.trans: rows 2t, 2t+1,
  column g); matrix q of an [8R, 8C] tile is the 8x8 block (q % R, q // R). On 32-bit elements
  (an f32 tile read through the same b16 instruction) a matrix is 8 rows of 4 elements and a
  lane's one register is element (g, t): the 8x4 blocks of a 16x8 tile give the tf32 A
  fragment. `.trans` moves 16-bit halves, so it has no 32-bit use (the tf32 B fragment, whose
  lanes hold B's columns, is loaded element by element);
- wgmma D (64xN f32, 128 threads, warp w = T / 32): d_i at row 16w + g + 8 * ((i // 2) % 2),
  column 8 * (i // 4) + 2t + i % 2.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

WARP = 32
WARPGROUP = 128

Table = tuple[np.ndarray, np.ndarray]

# The coordinate functions take the lane (an int, a numpy array of lanes, or an IR index value
# wrapper with the same operators: `convert-hwprim-to-nvvm` computes addresses with them) and a
# static register index `i`; they return (row, column) in the fragment's matrix.


def a_coords(lane: Any, i: int) -> tuple[Any, Any]:
    """The m16n8k16 A fragment (16x16, 8 elements per lane)."""
    g, t = lane // 4, lane % 4
    return g + 8 * ((i // 2) % 2), t * 2 + (i % 2 + 8 * (i // 4))


def b_coords(lane: Any, i: int) -> tuple[Any, Any]:
    """The m16n8k16 B fragment (16x8, k x n, 4 elements per lane)."""
    g, t = lane // 4, lane % 4
    return t * 2 + (i % 2 + 8 * (i // 2)), g


def c_coords(lane: Any, i: int) -> tuple[Any, Any]:
    """The m16n8k16 C / D fragment (16x8 f32, 4 per lane)."""
    g, t = lane // 4, lane % 4
    return g + 8 * (i // 2), t * 2 + i % 2


def tf32_a_coords(lane: Any, i: int) -> tuple[Any, Any]:
    """The m16n8k8 .tf32 A fragment (16x8, 4 elements per lane)."""
    g, t = lane // 4, lane % 4
    return g + 8 * (i % 2), t + 4 * (i // 2)


def tf32_b_coords(lane: Any, i: int) -> tuple[Any, Any]:
    """The m16n8k8 .tf32 B fragment (8x8, k x n, 2 elements per lane)."""
    g, t = lane // 4, lane % 4
    return t + 4 * i, g


def matrix_columns(bits: int) -> int:
    """Elements in one 16-byte row of an ldmatrix matrix (8 halves, 4 f32)."""
    return 128 // bits


def ldmatrix_coords(lane: Any, i: int, rows: int, trans: bool, bits: int = 16) -> tuple[Any, Any]:
    """Element i of ldmatrix's fragment of a tile with `rows` rows of matrices. 16-bit: two
    elements of matrix i // 2, which is the 8x8 block (q % R, q // R); 32-bit: element (g, t)
    of matrix i, the 8x4 block (i % R, i // R)."""
    g, t = lane // 4, lane % 4
    blocks = rows // 8
    if bits == 32:
        return g + 8 * (i % blocks), t + 4 * (i // blocks)
    q, e = i // 2, i % 2
    r0, c0 = 8 * (q % blocks), 8 * (q // blocks)
    if trans:
        return t * 2 + (r0 + e), g + c0
    return g + r0, t * 2 + (c0 + e)


def ldmatrix_row_address(lane: Any, rows: int, cols: int, bits: int = 16) -> tuple[Any, Any]:
    """The tile row whose address `lane` supplies to ldmatrix: lanes 8q..8q+7 give the 8 rows of
    matrix q (lanes past the last matrix repeat the first ones: their addresses are unused)."""
    width = matrix_columns(bits)
    count = (rows // 8) * (cols // width)
    q, r = (lane // 8) % count, lane % 8
    return (q % (rows // 8)) * 8 + r, (q // (rows // 8)) * width


def wgmma_d_coords(thread: Any, i: int) -> tuple[Any, Any]:
    """The wgmma .m64nNk16 f32 accumulator (64xN, N/2 per thread of the warpgroup)."""
    warp, lane = thread // 32, thread % 32
    g, t = lane // 4, lane % 4
    return warp * 16 + (g + 8 * ((i // 2) % 2)), t * 2 + (8 * (i // 4) + i % 2)


def _table(coords: Any, lanes: int, count: int) -> Table:
    lane = np.arange(lanes)[:, None]
    pairs = [coords(lane, i) for i in range(count)]
    rows = np.concatenate([np.broadcast_to(r, (lanes, 1)) for r, _ in pairs], axis=1)
    cols = np.concatenate([np.broadcast_to(c, (lanes, 1)) for _, c in pairs], axis=1)
    return rows, cols


@cache
def a_layout() -> Table:
    return _table(a_coords, WARP, 8)


@cache
def b_layout() -> Table:
    return _table(b_coords, WARP, 4)


@cache
def c_layout() -> Table:
    return _table(c_coords, WARP, 4)


@cache
def tf32_a_layout() -> Table:
    return _table(tf32_a_coords, WARP, 4)


@cache
def tf32_b_layout() -> Table:
    return _table(tf32_b_coords, WARP, 2)


@cache
def ldmatrix_layout(rows: int, cols: int, trans: bool, bits: int = 16) -> Table:
    """ldmatrix of an [rows, cols] tile of matrices of 8 rows of 16 bytes (8 halves, 4 f32)."""
    count = (rows // 8) * (cols // matrix_columns(bits)) * (32 // bits)
    return _table(lambda lane, i: ldmatrix_coords(lane, i, rows, trans, bits), WARP, count)


def operand_layout(operand: str, element: str) -> tuple[Table, tuple[int, int]]:
    """The mma.sync A or B fragment layout ("a" / "b") and its matrix shape: m16n8k16 for f16
    and bf16, m16n8k8 .tf32 for f32."""
    if element == "f32":
        return (tf32_a_layout(), (16, 8)) if operand == "a" else (tf32_b_layout(), (8, 8))
    return (a_layout(), (16, 16)) if operand == "a" else (b_layout(), (16, 8))


def operand_coords(operand: str, element: str) -> Any:
    """The coordinate function of `operand_layout`."""
    if element == "f32":
        return tf32_a_coords if operand == "a" else tf32_b_coords
    return a_coords if operand == "a" else b_coords


@cache
def wgmma_d_layout(n: int) -> Table:
    return _table(wgmma_d_coords, WARPGROUP, n // 2)


def to_fragment(matrix: np.ndarray, table: Table) -> np.ndarray:
    """matrix -> per-lane fragment (lanes, registers)."""
    rows, cols = table
    return matrix[rows, cols]


def from_fragment(fragment: np.ndarray, table: Table, shape: tuple[int, int]) -> np.ndarray:
    """per-lane fragment -> matrix of `shape` (every element is held by exactly one lane)."""
    rows, cols = table
    matrix = np.zeros(shape, dtype=fragment.dtype)
    matrix[rows, cols] = fragment
    return matrix


# ---- wgmma's shared-memory operands: core matrices of 8 rows of 16 bytes, no swizzle -----------


def to_core_matrices(matrix: np.ndarray, width: int = 8) -> np.ndarray:
    """K-major: an [R, K] matrix -> [R/8, K/w, 8, w] core matrices (w = 8 halves or 4 f32),
    c[i, j, r, k] = matrix[8i + r, wj + k] (wgmma's A; B^T for tf32)."""
    rows, depth = matrix.shape
    return matrix.reshape(rows // 8, 8, depth // width, width).transpose(0, 2, 1, 3)


def from_core_matrices(tiles: np.ndarray) -> np.ndarray:
    """K-major [R/8, K/w, 8, w] core matrices -> the [R, K] matrix."""
    groups, kgroups, _, width = tiles.shape
    return tiles.transpose(0, 2, 1, 3).reshape(8 * groups, width * kgroups)


def to_core_matrices_mn(matrix: np.ndarray) -> np.ndarray:
    """MN-major: a [K, N] matrix -> [N/8, K/8, 8, 8] core matrices, c[i, j, k, n] =
    matrix[8j + k, 8i + n] (wgmma's transposed B: rows of B stay contiguous)."""
    depth, cols = matrix.shape
    return matrix.reshape(depth // 8, 8, cols // 8, 8).transpose(2, 0, 1, 3)


def from_core_matrices_mn(tiles: np.ndarray) -> np.ndarray:
    """MN-major [N/8, K/8, 8, 8] core matrices -> the [K, N] matrix."""
    groups, kgroups, _, _ = tiles.shape
    return tiles.transpose(1, 2, 0, 3).reshape(8 * kgroups, 8 * groups)


# ---- TF32 (cvt.rna.tf32.f32) ------------------------------------------------------------------

TF32_DROPPED = np.uint32(0x1FFF)  # the 13 low mantissa bits an f32 has beyond TF32's 10


def round_tf32(values: np.ndarray) -> np.ndarray:
    """f32 -> the nearest TF32 value (ties away from zero), as f32 with the 13 low mantissa
    bits clear: cvt.rna.tf32.f32. Adding half a TF32 ulp to the magnitude bits and truncating
    rounds ties away; a carry into the exponent is right (up to infinity past the largest
    TF32); infinities stay; NaN becomes the canonical quiet NaN."""
    array = np.asarray(values, dtype=np.float32)
    bits = array.view(np.uint32)
    rounded = ((bits + np.uint32(0x1000)) & ~TF32_DROPPED).view(np.float32)
    rounded = np.where(np.isinf(array), array, rounded)
    return np.where(np.isnan(array), np.float32(np.nan), rounded).astype(np.float32)


def is_tf32(values: np.ndarray) -> bool:
    """True when every value is representable in TF32 (its 13 low mantissa bits are clear)."""
    array = np.ascontiguousarray(values, dtype=np.float32)
    return not (array.view(np.uint32) & TF32_DROPPED).any()
