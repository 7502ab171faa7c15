"""Semantics of buffers and tensors: `memref`, `bufferization`, `tensor`, `linalg.fill/copy`.

A memref is a numpy array; views (`subview`, `collapse_shape`, `expand_shape`, `cast`,
`reinterpret_cast`) are numpy views of it, so writes through them alias as in MLIR. New buffers
are filled with NaN (0 for integers), so reading memory nobody wrote shows in the results. A
tensor is an array that no op writes in place. Accesses are bounds-checked: an index out of range
is an error at the op, where compiled code would read or write whatever lies there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np
from mlir import ir

from strata.dialects.constants import read_constants
from strata.interpreter.core import Constant, Kernel, OpContext, semantics
from strata.interpreter.values import (
    Trap,
    bit_width,
    dense_bf16,
    element_kind,
    is_dynamic,
    shape_of,
    storage_dtype,
)


def new_array(t: ir.Type, shape: Sequence[int]) -> np.ndarray:
    """A fresh buffer of element type `t`, filled with NaN (integers: 0)."""
    dtype = storage_dtype(t)
    if element_kind(t) == "bf16":
        return np.full(shape, 0x7FC0, dtype)
    return np.full(shape, np.nan if dtype.kind == "f" else 0, dtype)


def _shape_maker(t: ir.Type) -> Callable[[Sequence[int]], tuple[int, ...]]:
    """The shape of type `t` from the values of its dynamic sizes (in order)."""
    static = shape_of(t)
    dynamic = [i for i, size in enumerate(static) if is_dynamic(size)]
    if not dynamic:
        return lambda sizes: static

    def make(sizes: Sequence[int]) -> tuple[int, ...]:
        shape = list(static)
        for i, size in zip(dynamic, sizes, strict=True):
            if size < 0:
                raise Trap(f"negative size {size}")
            shape[i] = size
        return tuple(shape)

    return make


def _out_of_bounds(index: Sequence[int], shape: Sequence[int]) -> Trap:
    return Trap(f"index {list(index)} is out of bounds for shape {list(shape)}")


# ---- loads and stores -------------------------------------------------------------------------


def write_array(buf: np.ndarray, index: Any, value: Any) -> None:
    try:
        buf[index] = value
    except ValueError:
        _check_writable(buf)
        raise


def _check_writable(buf: np.ndarray) -> None:
    if not buf.flags.writeable:
        raise Trap("writes a read-only buffer (a constant, or a read_only to_buffer)") from None


@cache
def accessor(kind: str, rank: int, convert: str = "") -> Kernel:
    """A bounds-checked `load(buf, *index)` or `store(value, buf, *index)` for one rank; the
    loaded element goes through `convert` ("int", "bool" or "" for none). Generated per rank so
    the check is one chained comparison per index, the hot path of scalar loop nests."""
    index = [f"i{d}" for d in range(rank)]
    check = " and ".join(f"0 <= {i} < s[{d}]" for d, i in enumerate(index)) or "True"
    where = f"({', '.join(index)},)" if index else "()"
    params = ", ".join(["buf", *index] if kind == "load" else ["value", "buf", *index])
    if kind == "load":
        action = [f"return {convert}(buf[{where}])"]
    else:
        action = [
            "try:",
            f"    buf[{where}] = value",
            "except ValueError:",
            "    check_writable(buf)",
            "    raise",
            "return",
        ]
    lines = [f"def {kind}({params}):", "    s = buf.shape", f"    if {check}:"]
    lines += [f"        {line}" for line in action]
    lines += [f"    raise out_of_bounds({where}, s)"]
    names: dict[str, Any] = {"out_of_bounds": _out_of_bounds, "check_writable": _check_writable}
    exec("\n".join(lines), names)  # noqa: S102  # generated from the rank only
    return names[kind]


@semantics("memref.load", "tensor.extract")
def _load(op: OpContext) -> Kernel:
    t = op.result_types[0]
    convert = ""
    if element_kind(t) in ("int", "index"):
        convert = "bool" if bit_width(t) == 1 else "int"
    return accessor("load", len(op.operand_types) - 1, convert)


@semantics("memref.store")
def _store(op: OpContext) -> Kernel:
    return accessor("store", len(op.operand_types) - 2)


@semantics("tensor.insert")
def _tensor_insert(op: OpContext) -> Kernel:
    store = accessor("store", len(op.operand_types) - 2)

    def insert(value: Any, tensor: np.ndarray, *index: int) -> np.ndarray:
        result = np.array(tensor)
        store(value, result, *index)
        return result

    return insert


# ---- allocation -------------------------------------------------------------------------------


@semantics("memref.alloc", "memref.alloca", "tensor.empty")
def _alloc(op: OpContext) -> Kernel:
    t = op.result_types[0]
    shape = _shape_maker(t)
    count = len(op.operand_segments()[0]) if op.name != "tensor.empty" else len(op.operand_types)
    return lambda *operands: new_array(t, shape(operands[:count]))  # sizes, then layout symbols


@semantics("memref.dealloc", "bufferization.dealloc_tensor")
def _dealloc(op: OpContext) -> Kernel:
    return lambda buf: None


@semantics("bufferization.alloc_tensor")
def _alloc_tensor(op: OpContext) -> Kernel:
    t = op.result_types[0]
    sizes, copy = op.operand_segments()[:2]
    shape = _shape_maker(t)

    def alloc(*operands: Any) -> np.ndarray:
        if copy:
            return np.array(operands[copy[0]])
        return new_array(t, shape([operands[i] for i in sizes]))

    return alloc


def global_array(op: ir.Operation) -> np.ndarray:
    """The buffer of a `memref.global` (read-only when the global is constant)."""
    t = ir.TypeAttr(op.attributes["type"]).value
    constant = "constant" in op.attributes
    attr = op.attributes["initial_value"] if "initial_value" in op.attributes else None
    array = None
    if attr is not None and not isinstance(attr, ir.UnitAttr):
        array = read_constants([attr])[0]
        if array is None:
            array = dense_bf16(attr)
    if array is None:
        return new_array(t, shape_of(t))
    array = np.array(array, storage_dtype(t)).reshape(shape_of(t))
    array.setflags(write=not constant)
    return array


@semantics("memref.get_global")
def _get_global(op: OpContext) -> Constant:
    return Constant(op.interpreter.global_value(op.attr("name"), op.location))


# ---- bufferization ----------------------------------------------------------------------------


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.setflags(write=False)
    return view


@semantics("bufferization.to_buffer", "bufferization.to_memref")
def _to_buffer(op: OpContext) -> Kernel:
    # A writable buffer of a tensor gets its own copy: writing it must not change the tensor.
    return _read_only if op.has_attr("read_only") else np.array


@semantics("bufferization.to_tensor", "memref.assume_alignment")
def _identity(op: OpContext) -> Kernel:
    return lambda x: x


@semantics("bufferization.clone")
def _clone(op: OpContext) -> Kernel:
    return np.array


@semantics("bufferization.materialize_in_destination")
def _materialize(op: OpContext) -> Kernel:
    if op.result_types:
        return lambda source, dest: np.array(source, dest.dtype).reshape(dest.shape)
    return lambda source, dest: _copy_into(source, dest)


# ---- copies and fills -------------------------------------------------------------------------


def _copy_into(source: np.ndarray, dest: np.ndarray) -> None:
    if source.shape != dest.shape:
        raise Trap(f"copies shape {list(source.shape)} into shape {list(dest.shape)}")
    write_array(dest, ..., source)


@semantics("memref.copy")
def _memref_copy(op: OpContext) -> Kernel:
    return _copy_into


@semantics("linalg.fill", "linalg.copy")
def _fill_or_copy(op: OpContext) -> Kernel:
    ins, outs = op.operand_segments()[:2]
    if len(ins) != 1 or len(outs) != 1:
        raise op.error(f"expected 1 input and 1 output, got {len(ins)} and {len(outs)}")
    if op.result_types:  # on tensors: a new tensor
        if op.name == "linalg.fill":
            return lambda value, out: np.full(out.shape, value, out.dtype)
        return lambda source, out: np.array(np.broadcast_to(source, out.shape), out.dtype)
    if op.name == "linalg.fill":
        return lambda value, out: write_array(out, ..., value)
    return _copy_into


# ---- views ------------------------------------------------------------------------------------


def _reassociated(op: OpContext) -> list[list[int]]:
    return [list(group) for group in op.attr("reassociation")]


def _view_as(source: np.ndarray, shape: tuple[int, ...], must_alias: bool) -> np.ndarray:
    result = source.reshape(shape)
    if must_alias and source.size and not np.may_share_memory(result, source):
        raise Trap(f"cannot view a strided buffer of shape {list(source.shape)} as {list(shape)}")
    return result


@semantics("memref.collapse_shape", "tensor.collapse_shape")
def _collapse(op: OpContext) -> Kernel:
    groups = _reassociated(op)
    must_alias = op.name.startswith("memref")

    def collapse(source: np.ndarray) -> np.ndarray:
        shape = tuple(math.prod(source.shape[d] for d in group) for group in groups)
        return _view_as(source, shape, must_alias)

    return collapse


@semantics("memref.expand_shape", "tensor.expand_shape")
def _expand(op: OpContext) -> Kernel:
    static = op.attr("static_output_shape", None) or list(shape_of(op.result_types[0]))
    dynamic = [i for i, size in enumerate(static) if is_dynamic(size)]
    must_alias = op.name.startswith("memref")

    def expand(source: np.ndarray, *sizes: int) -> np.ndarray:
        shape = list(static)
        for i, size in zip(dynamic, sizes):
            shape[i] = size
        return _view_as(source, tuple(shape), must_alias)

    return expand


@semantics("memref.transpose")
def _transpose(op: OpContext) -> Kernel:
    """A permuted view of the same buffer (the permutation map's results, in order)."""
    permutation = [
        r.position for r in ir.AffineMapAttr(op.op.attributes["permutation"]).value.results
    ]
    return lambda source: np.transpose(source, permutation)


@semantics("memref.cast", "tensor.cast")
def _cast(op: OpContext) -> Kernel:
    target = shape_of(op.result_types[0])

    def cast(source: np.ndarray) -> np.ndarray:
        for have, want in zip(source.shape, target):
            if not is_dynamic(want) and have != want:
                raise Trap(f"casts shape {list(source.shape)} to {list(target)}")
        return source

    return cast


@semantics("memref.dim", "tensor.dim")
def _dim(op: OpContext) -> Kernel:
    def dim(source: np.ndarray, index: int) -> int:
        if not 0 <= index < source.ndim:
            raise Trap(f"dimension {index} of a rank-{source.ndim} value")
        return source.shape[index]

    return dim


@semantics("memref.rank", "tensor.rank")
def _rank(op: OpContext) -> Kernel:
    return lambda source: source.ndim


def _dropped_dims(sizes: Sequence[int], reduced: Sequence[int]) -> set[int]:
    """The unit dimensions a rank-reducing slice drops (MLIR's computeRankReductionMask)."""
    dropped, r = set(), 0
    for d, size in enumerate(sizes):
        if r < len(reduced) and (size == reduced[r] or is_dynamic(size) or is_dynamic(reduced[r])):
            r += 1
            continue
        dropped.add(d)
    return dropped


def _slicer(
    op: OpContext, groups: Sequence[Sequence[int]], reduced: Sequence[int]
) -> Callable[[np.ndarray, Sequence[Any]], tuple[Any, ...]]:
    """The numpy index of an offsets/sizes/strides op (subview, extract_slice, ...) from its
    static attributes and, where those are dynamic, its operand groups (offsets, sizes,
    strides); `reduced` is the result shape, to find the dimensions a rank reduction drops."""
    statics = [op.attr(f"static_{name}") for name in ("offsets", "sizes", "strides")]
    picks = []
    for values, group in zip(statics, groups):
        positions = iter(group)
        picks.append([(is_dynamic(v), next(positions) if is_dynamic(v) else v) for v in values])
    dropped = _dropped_dims(statics[1], reduced) if len(reduced) < len(statics[1]) else set()

    def index(source: np.ndarray, operands: Sequence[Any]) -> tuple[Any, ...]:
        offsets, sizes, strides = ([operands[x] if dyn else x for dyn, x in p] for p in picks)
        result: list[Any] = []
        for d, (o, n, s, extent) in enumerate(zip(offsets, sizes, strides, source.shape)):
            if s <= 0 or n < 0 or o < 0 or (n > 0 and o + (n - 1) * s >= extent) or o > extent:
                raise Trap(
                    f"slice [offsets {offsets}, sizes {sizes}, strides {strides}] is out of "
                    f"bounds for shape {list(source.shape)}"
                )
            result.append(o if d in dropped else slice(o, o + (n - 1) * s + 1 if n else o, s))
        return tuple(result)

    return index


@semantics("memref.subview")
def _subview(op: OpContext) -> Kernel:
    groups = op.operand_segments()
    index = _slicer(op, groups[1:4], shape_of(op.result_types[0]))
    return lambda source, *operands: source[index(source, (source, *operands))]


@semantics("tensor.extract_slice")
def _extract_slice(op: OpContext) -> Kernel:
    groups = op.operand_segments()
    index = _slicer(op, groups[1:4], shape_of(op.result_types[0]))
    return lambda source, *operands: np.array(source[index(source, (source, *operands))])


@semantics("tensor.insert_slice")
def _insert_slice(op: OpContext) -> Kernel:
    groups = op.operand_segments()
    index = _slicer(op, groups[2:5], shape_of(op.operand_types[0]))

    def insert(source: np.ndarray, dest: np.ndarray, *operands: Any) -> np.ndarray:
        result = np.array(dest)
        where = index(result, (source, dest, *operands))
        if result[where].shape != source.shape:
            raise Trap(f"inserts shape {list(source.shape)} into {list(result[where].shape)}")
        result[where] = source
        return result

    return insert


@semantics("memref.reinterpret_cast")
def _reinterpret_cast(op: OpContext) -> Kernel:
    groups = op.operand_segments()
    statics = [op.attr(f"static_{name}") for name in ("offsets", "sizes", "strides")]
    picks = []
    for values, group in zip(statics, groups[1:4]):
        positions = iter(group)
        picks.append([(is_dynamic(v), next(positions) if is_dynamic(v) else v) for v in values])

    def reinterpret(source: np.ndarray, *rest: Any) -> np.ndarray:
        operands = (source, *rest)
        (offset,), sizes, strides = ([operands[x] if dyn else x for dyn, x in p] for p in picks)
        base = source
        while isinstance(base.base, np.ndarray):
            base = base.base
        if not base.flags.c_contiguous:
            raise Trap("reinterprets a buffer that is not one contiguous allocation")
        extent = offset + sum((n - 1) * s for n, s in zip(sizes, strides) if n > 0)
        if offset < 0 or min(strides, default=0) < 0 or (all(sizes) and extent >= base.size):
            raise Trap(
                f"offset {offset}, sizes {sizes}, strides {strides} are out of bounds of a "
                f"buffer of {base.size} elements"
            )
        flat = base.reshape(-1)[offset:]
        item = flat.itemsize
        return np.lib.stride_tricks.as_strided(
            flat, shape=sizes, strides=[s * item for s in strides], writeable=flat.flags.writeable
        )

    return reinterpret


@semantics("tensor.splat")
def _splat(op: OpContext) -> Kernel:
    t = op.result_types[0]
    shape, dtype = _shape_maker(t), storage_dtype(t)
    return lambda value, *sizes: np.full(shape(sizes), value, dtype)


@semantics("tensor.from_elements")
def _from_elements(op: OpContext) -> Kernel:
    t = op.result_types[0]
    shape, dtype = shape_of(t), storage_dtype(t)
    return lambda *values: np.array(values, dtype).reshape(shape)
