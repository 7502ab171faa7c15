"""Semantics of the `vector` ops that Strata's lowerings produce (convert-hwprim-to-vector) and
a few neighbours. A vector is a numpy array of its shape; loads copy, so a vector is a value.

`vector.fma` rounds once, as the FMA instruction LLVM selects for it; `vector.reduction` adds in
order, as LLVM's reduction without reassociation does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from strata.interpreter.arith import fused_multiply_add
from strata.interpreter.core import Kernel, OpContext, semantics
from strata.interpreter.memory import write_array
from strata.interpreter.values import (
    Trap,
    bf16_to_f32,
    element_kind,
    f32_to_bf16,
    is_dynamic,
    is_shaped,
    scalar_converter,
    shape_of,
    storage_dtype,
)


def _window_out_of_bounds(index: Any, shape: Any, buffer: Any) -> Trap:
    return Trap(
        f"a vector of shape {list(shape)} at index {list(index)} is out of bounds for shape "
        f"{list(buffer)}"
    )


def _window(rank: int, vshape: tuple[int, ...]) -> Callable[..., tuple[Any, ...]]:
    """The numpy index of a `vshape` vector at `index` of a rank-`rank` buffer (the vector
    covers the innermost dimensions), bounds-checked."""
    lead = rank - len(vshape)
    if rank == 2 and len(vshape) == 1:
        (n,) = vshape

        def window2(buf: np.ndarray, i: int, j: int) -> tuple[Any, ...]:
            s = buf.shape
            if 0 <= i < s[0] and 0 <= j and j + n <= s[1]:
                return (i, slice(j, j + n))
            raise _window_out_of_bounds([i, j], vshape, s)

        return window2

    def window(buf: np.ndarray, *index: int) -> tuple[Any, ...]:
        s = buf.shape
        inner = list(zip(index[lead:], vshape, s[lead:]))
        if any(not 0 <= i < n for i, n in zip(index[:lead], s)) or any(
            i < 0 or i + v > n for i, v, n in inner
        ):
            raise _window_out_of_bounds(index, vshape, s)
        return (*index[:lead], *(slice(i, i + v) for i, v, _ in inner))

    return window


@semantics("vector.load", "hwprim.vload")
def _load(op: OpContext) -> Kernel:
    window = _window(len(op.operand_types) - 1, shape_of(op.result_types[0]))
    return lambda buf, *index: buf[window(buf, *index)].copy()


@semantics("vector.store", "hwprim.vstore")
def _store(op: OpContext) -> Kernel:
    window = _window(len(op.operand_types) - 2, shape_of(op.operand_types[0]))
    return lambda value, buf, *index: write_array(buf, window(buf, *index), value)


@semantics("vector.broadcast", "vector.splat", "hwprim.vbroadcast")
def _broadcast(op: OpContext) -> Kernel:
    t = op.result_types[0]
    shape, dtype = shape_of(t), storage_dtype(t)
    if is_shaped(op.operand_types[0]):
        return lambda x: np.array(np.broadcast_to(x, shape))
    return lambda x: np.full(shape, x, dtype)


@semantics("vector.fma", "hwprim.vfma")
def _fma(op: OpContext) -> Kernel:
    if element_kind(op.result_types[0]) == "bf16":
        return lambda a, b, c: f32_to_bf16(
            fused_multiply_add(bf16_to_f32(a), bf16_to_f32(b), bf16_to_f32(c))
        )
    return fused_multiply_add


def _position(op: OpContext) -> Callable[[tuple[Any, ...]], tuple[int, ...]]:
    """The position of `vector.extract/insert`: static, with dynamic entries from operands."""
    static = op.attr("static_position")
    dynamic = [i for i, p in enumerate(static) if is_dynamic(p)]

    def position(values: tuple[Any, ...]) -> tuple[int, ...]:
        where = list(static)
        for i, value in zip(dynamic, values):
            where[i] = value
        return tuple(where)

    return position


@semantics("vector.extract")
def _extract(op: OpContext) -> Kernel:
    position = _position(op)
    t = op.result_types[0]
    if is_shaped(t):
        return lambda vector, *dynamic: np.array(vector[position(dynamic)])
    convert = scalar_converter(t)
    return lambda vector, *dynamic: convert(vector[position(dynamic)])


@semantics("vector.insert")
def _insert(op: OpContext) -> Kernel:
    position = _position(op)

    def insert(value: Any, vector: np.ndarray, *dynamic: int) -> np.ndarray:
        result = np.array(vector)
        result[position(dynamic)] = value
        return result

    return insert


_ORDERED: dict[str, Callable[..., Any]] = {"add": np.cumsum, "mul": np.cumprod}
_REDUCE: dict[str, Callable[..., Any]] = {
    "minsi": np.min,
    "maxsi": np.max,
    "minnumf": np.nanmin,
    "maxnumf": np.nanmax,
    "minimumf": np.min,
    "maximumf": np.max,
    "and": np.bitwise_and.reduce,
    "or": np.bitwise_or.reduce,
    "xor": np.bitwise_xor.reduce,
}


@semantics("vector.reduction")
def _reduction(op: OpContext) -> Kernel:
    match = re.search(r"<(\w+)>", str(op.op.attributes["kind"]))
    kind = match.group(1) if match else ""
    t = op.result_types[0]
    dtype, convert = storage_dtype(t), scalar_converter(t)
    if kind in _ORDERED:
        ordered = _ORDERED[kind]

        def fold(vector: np.ndarray, *acc: Any) -> Any:
            values = np.concatenate([np.asarray(acc, dtype), vector.ravel()])
            return convert(ordered(values, dtype=dtype)[-1])

        return fold
    if kind not in _REDUCE:
        raise op.unsupported(f"reduction kind '{kind}'")
    reduce = _REDUCE[kind]
    return lambda vector, *acc: convert(reduce(np.concatenate([np.asarray(acc, dtype), vector])))


@semantics("vector.shape_cast")
def _shape_cast(op: OpContext) -> Kernel:
    shape = shape_of(op.result_types[0])
    return lambda vector: np.array(vector).reshape(shape)


@semantics("vector.from_elements")
def _from_elements(op: OpContext) -> Kernel:
    t = op.result_types[0]
    shape, dtype = shape_of(t), storage_dtype(t)
    return lambda *values: np.array(values, dtype).reshape(shape)


@semantics("vector.bitcast")
def _bitcast(op: OpContext) -> Kernel:
    dtype = storage_dtype(op.result_types[0])
    return lambda vector: np.array(vector).view(dtype)


def _clipped(
    index: list[int], vshape: tuple[int, ...], shape: tuple[int, ...]
) -> tuple[tuple[slice, ...], tuple[Any, ...]]:
    """For a transfer of a `vshape` vector at `index` (not necessarily in bounds): the part of
    the vector inside the buffer, and where it lies in the buffer."""
    lead = len(index) - len(vshape)
    if any(i < 0 for i in index) or any(not i < n for i, n in zip(index[:lead], shape)):
        raise _window_out_of_bounds(index, vshape, shape)
    inner = [slice(0, max(0, min(v, n - i))) for i, v, n in zip(index[lead:], vshape, shape[lead:])]
    where = (*index[:lead], *(slice(i, i + s.stop) for i, s in zip(index[lead:], inner)))
    return tuple(inner), where


def _minor_identity(op: OpContext, rank: int) -> None:
    amap = op.attr("permutation_map")
    dims = [str(e) for e in amap.results]
    expected = [f"d{d}" for d in range(rank - len(dims), rank)]
    if dims != expected:
        raise op.unsupported(f"permutation map {amap} (only minor identities)")


@semantics("vector.transfer_read")
def _transfer_read(op: OpContext) -> Kernel:
    base, indices, padding, mask = op.operand_segments()
    t = op.result_types[0]
    vshape, dtype = shape_of(t), storage_dtype(t)
    _minor_identity(op, len(indices))

    def read(*operands: Any) -> np.ndarray:
        buf = operands[0]
        index = [operands[i] for i in indices]
        result = np.full(vshape, operands[padding[0]], dtype)
        inner, source = _clipped(index, vshape, buf.shape)
        result[inner] = buf[source]
        if mask:
            result = np.where(operands[mask[0]], result, operands[padding[0]]).astype(dtype)
        return result

    return read


@semantics("vector.transfer_write")
def _transfer_write(op: OpContext) -> Kernel:
    groups = op.operand_segments()
    value, base, indices, mask = groups
    if mask:
        raise op.unsupported("masked transfer_write")
    _minor_identity(op, len(indices))
    on_tensor = bool(op.result_types)

    def write(*operands: Any) -> Any:
        vector, buf = operands[value[0]], operands[base[0]]
        if on_tensor:
            buf = np.array(buf)
        index = [operands[i] for i in indices]
        inner, target = _clipped(index, vector.shape, buf.shape)
        write_array(buf, target, vector[inner])
        return buf if on_tensor else None

    return write
