"""Simulator semantics (`strata.simulate`) of the TensorCore `hwprim` ops lowered by
`convert-hwprim-to-nvvm`.

A fragment is a numpy array whose leading axis is the lane (32; 128 for wgmma), holding what each
lane's registers hold in the PTX ISA layouts of `tensorcore_layouts`; a value without the lane
axis (an `arith.constant` accumulator) is the same on every lane. Warp-level ops run on all lanes
at once. The matrix products are exact in f64 and rounded once to the f32 accumulator (the
hardware's products are exact and its sums at least f32: the two agree to f32 rounding). TF32
operands (f32 mma_sync and wgmma) must already be TF32 values (`round_tf32`): an operand with any
of its 13 low mantissa bits set is refused, since the PTX ISA does not say what the hardware
makes of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from strata.conversions import tensorcore_layouts as layouts
from strata.interpreter.core import Kernel, OpContext, semantics
from strata.interpreter.values import Trap, bf16_to_f32, element_kind, f32_to_bf16


def _lanes(value: np.ndarray, lanes: int, width: int) -> np.ndarray:
    """`value` as a (lanes, width) fragment (a lane-less value is broadcast)."""
    array = np.asarray(value)
    if array.shape == (width,):
        return np.broadcast_to(array, (lanes, width))
    if array.shape != (lanes, width):
        raise Trap(f"expected a fragment of {lanes} lanes x {width}, found shape {array.shape}")
    return array


def _exact(array: np.ndarray, bf16: bool) -> np.ndarray:
    """Half-precision elements (bf16 held as bits) as float64."""
    return (bf16_to_f32(array) if bf16 else array).astype(np.float64)


def _tf32(array: np.ndarray, what: str) -> np.ndarray:
    """TF32 operand values as float64 (exact), refusing values that are not TF32."""
    if not layouts.is_tf32(array):
        raise Trap(
            f"{what} holds f32 values that are not TF32 (13 low mantissa bits set): round them "
            "with hwprim.round_tf32 first"
        )
    return np.asarray(array, dtype=np.float64)


def _store_tile(base: np.ndarray, indices: Sequence[int], tile: np.ndarray, kind: str) -> None:
    """tile (f32) -> base[lead..., r:r+h, c:c+w], clipped to base's bounds, rounded to base's
    element type."""
    *lead, row, col = (int(i) for i in indices)
    if any(not 0 <= i < n for i, n in zip(lead, base.shape)) or row < 0 or col < 0:
        raise Trap(f"tile corner {[*lead, row, col]} is out of bounds for shape {list(base.shape)}")
    target = base[tuple(lead)]
    height = max(0, min(tile.shape[0], target.shape[0] - row))
    width = max(0, min(tile.shape[1], target.shape[1] - col))
    part = tile[:height, :width].astype(np.float32)
    if kind == "bf16":
        part = f32_to_bf16(part)
    try:
        target[row : row + height, col : col + width] = part
    except ValueError:
        raise Trap("writes a read-only buffer (a constant, or a read_only to_buffer)") from None


@semantics("hwprim.ldmatrix")
def _ldmatrix(op: OpContext) -> Kernel:
    rows, cols = op.operand_types[0].shape
    bits = 32 if str(op.operand_types[0].element_type) == "f32" else 16
    table = layouts.ldmatrix_layout(rows, cols, bool(op.attr("trans")), bits)

    def run(tile: np.ndarray) -> np.ndarray:
        return layouts.to_fragment(tile, table)

    return run


@semantics("hwprim.frag_load")
def _frag_load(op: OpContext) -> Kernel:
    element = str(op.operand_types[0].element_type)
    table, _ = layouts.operand_layout(str(op.attr("operand")), element)

    def run(tile: np.ndarray) -> np.ndarray:
        return layouts.to_fragment(tile, table)

    return run


@semantics("hwprim.round_tf32")
def _round_tf32(op: OpContext) -> Kernel:
    def run(value: Any) -> Any:
        rounded = layouts.round_tf32(value)
        return rounded[()] if rounded.ndim == 0 else rounded  # a scalar stays np.float32

    return run


@semantics("hwprim.mma_sync")
def _mma_sync(op: OpContext) -> Kernel:
    if str(op.operand_types[0].element_type) == "f32":
        return _mma_sync_tf32()
    bf16 = element_kind(op.operand_types[0]) == "bf16"
    a_table, b_table, c_table = layouts.a_layout(), layouts.b_layout(), layouts.c_layout()

    def run(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        lhs = layouts.from_fragment(_exact(_lanes(a, 32, 8), bf16), a_table, (16, 16))
        rhs = layouts.from_fragment(_exact(_lanes(b, 32, 4), bf16), b_table, (16, 8))
        acc = layouts.from_fragment(_lanes(c, 32, 4).astype(np.float64), c_table, (16, 8))
        return layouts.to_fragment((lhs @ rhs + acc).astype(np.float32), c_table)

    return run


def _mma_sync_tf32() -> Kernel:
    """m16n8k8 .tf32: A 16x8, B 8x8, C 16x8."""
    a_table, b_table, c_table = layouts.tf32_a_layout(), layouts.tf32_b_layout(), layouts.c_layout()

    def run(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        lhs = layouts.from_fragment(_tf32(_lanes(a, 32, 4), "mma_sync a"), a_table, (16, 8))
        rhs = layouts.from_fragment(_tf32(_lanes(b, 32, 2), "mma_sync b"), b_table, (8, 8))
        acc = layouts.from_fragment(_lanes(c, 32, 4).astype(np.float64), c_table, (16, 8))
        return layouts.to_fragment((lhs @ rhs + acc).astype(np.float32), c_table)

    return run


@semantics("hwprim.frag_store")
def _frag_store(op: OpContext) -> Kernel:
    kind = str(op.operand_types[1].element_type)
    table = layouts.c_layout()

    def run(frag: np.ndarray, base: np.ndarray, *indices: int) -> None:
        tile = layouts.from_fragment(_lanes(frag, 32, 4), table, (16, 8))
        _store_tile(base, indices, tile, kind)

    return run


@semantics("hwprim.wgmma")
def _wgmma(op: OpContext) -> Kernel:
    kind = str(op.operand_types[1].element_type)
    n = 8 * op.operand_types[2].shape[0]
    table = layouts.wgmma_d_layout(n)

    def operands(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if kind == "f32":  # both K-major: 64 x 8 and (B^T) N x 8
            lhs = _tf32(layouts.from_core_matrices(a), "wgmma a")
            return lhs, _tf32(layouts.from_core_matrices(b), "wgmma b").T
        bf16 = kind == "bf16"
        lhs = _exact(layouts.from_core_matrices(a), bf16)  # 64 x 16
        return lhs, _exact(layouts.from_core_matrices_mn(b), bf16)  # 16 x N (MN-major)

    def run(acc: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        lhs, rhs = operands(a, b)
        c = layouts.from_fragment(_lanes(acc, 128, n // 2).astype(np.float64), table, (64, n))
        return layouts.to_fragment((lhs @ rhs + c).astype(np.float32), table)

    return run


@semantics("hwprim.wgmma_store")
def _wgmma_store(op: OpContext) -> Kernel:
    kind = str(op.operand_types[1].element_type)
    n = 2 * op.operand_types[0].shape[0]
    table = layouts.wgmma_d_layout(n)

    def run(frag: np.ndarray, base: np.ndarray, *indices: int) -> None:
        tile = layouts.from_fragment(_lanes(frag, 128, n // 2), table, (64, n))
        _store_tile(base, indices, tile, kind)

    return run


@semantics("hwprim.cp_async")
def _cp_async(op: OpContext) -> Kernel:
    width = op.operand_types[0].shape[0]  # 16 bytes: 8 halves or 4 f32

    def run(dst: np.ndarray, src: np.ndarray, *indices: int) -> None:
        *lead, col = (int(i) for i in indices)
        inside = all(0 <= i < n for i, n in zip(lead, src.shape))
        inside = inside and 0 <= col <= src.shape[-1] - width
        where: tuple[Any, ...] = (*lead, slice(col, col + width))
        dst[...] = src[where] if inside else 0

    return run


def _nothing(*_: Any) -> None:
    return None


# The warpgroup runs its wgmma ops and cp_async copies synchronously here, so fences, commits
# and waits have nothing to do (gpu.barrier's semantics are in transforms/tprog/gpu_cache.py).
@semantics("hwprim.wgmma_fence", "hwprim.wgmma_commit", "hwprim.wgmma_wait")
@semantics("hwprim.cp_async_commit", "hwprim.cp_async_wait")
def _no_effect(op: OpContext) -> Kernel:
    return _nothing
