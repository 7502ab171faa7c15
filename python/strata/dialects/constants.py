"""Reading and making `graph.constant`s from numpy, shared by the graph passes and the lowering.

The bindings cannot read a `dense_resource` blob, so `read_constants` reads it from the printed
resource section of a scratch module holding just the constants asked for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
from mlir import ir

from strata.dialects.graph import ConstantOp
from strata.irutil import is_dense_resource

# Element types a folded constant may have (those of graph tensors that numpy represents).
FOLDABLE_DTYPES: dict[str, np.dtype] = {
    "f32": np.dtype(np.float32),
    "f16": np.dtype(np.float16),
    "i32": np.dtype(np.int32),
    "i64": np.dtype(np.int64),
}
# Element types `read_constants` reads; bf16 comes back as its uint16 bits (numpy has no bf16).
_STORAGE_DTYPES: dict[str, np.dtype] = {
    **FOLDABLE_DTYPES,
    "f64": np.dtype(np.float64),
    "bf16": np.dtype(np.uint16),
    "i8": np.dtype(np.int8),
    "i16": np.dtype(np.int16),
    "i1": np.dtype(np.bool_),
}


def constant_producer(value: ir.Value) -> ir.Operation | None:
    """The `graph.constant` defining `value`, or None (a block argument or another op)."""
    owner = value.owner
    if isinstance(owner, ir.Block):
        return None
    op = owner.operation
    return op if op.name == "graph.constant" else None


_RESOURCE_NAME = re.compile(r'^dense_resource<("(?:[^"\\]|\\.)*"|[^>]+)>')
_RESOURCE_BLOB = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|[^\s:]+): "0x([0-9A-Fa-f]*)"', re.M)


def _storage_dtype(tensor: ir.Type) -> np.dtype | None:
    return _STORAGE_DTYPES.get(str(ir.ShapedType(tensor).element_type))


def _resource_blobs(attrs: Sequence[ir.Attribute]) -> dict[str, bytes]:
    """The blobs of `dense_resource` attributes by resource name (their alignment word dropped),
    from the printed form of a scratch module holding one constant per attribute."""
    with attrs[0].context, ir.Location.unknown():
        scratch = ir.Module.create()
    with ir.InsertionPoint(scratch.body), ir.Location.unknown(attrs[0].context):
        for attr in attrs:
            ir.Operation.create("graph.constant", results=[attr.type], attributes={"value": attr})
    text = scratch.operation.get_asm()
    section = text.rfind("dialect_resources")
    if section < 0:
        return {}
    return {name: bytes.fromhex(data)[4:] for name, data in _RESOURCE_BLOB.findall(text[section:])}


def read_constants(attrs: Sequence[ir.Attribute]) -> list[np.ndarray | None]:
    """numpy arrays of `dense` and `dense_resource` elements attributes, in their shape (bf16 as
    uint16 bits); None for an attribute that is neither, or of an element type numpy lacks.

    Resource blobs are read in one print for all of `attrs`, so pass them together."""
    results: list[np.ndarray | None] = [None] * len(attrs)
    resources: list[tuple[int, str]] = []
    for i, attr in enumerate(attrs):
        if isinstance(attr, ir.DenseElementsAttr):
            try:
                array = np.array(attr)
            except (TypeError, ValueError, RuntimeError):  # e.g. bf16: no buffer format
                continue
            results[i] = array.reshape(ir.ShapedType(attr.type).shape)
        elif is_dense_resource(attr):
            match = _RESOURCE_NAME.match(str(attr))
            if match is not None:
                resources.append((i, match.group(1)))
    if resources:
        blobs = _resource_blobs([attrs[i] for i, _ in resources])
        for i, name in resources:
            shaped = ir.ShapedType(attrs[i].type)
            dtype = _storage_dtype(shaped)
            data = blobs.get(name)
            if dtype is None or data is None or len(data) != dtype.itemsize * _size(shaped.shape):
                continue
            results[i] = np.frombuffer(data, dtype=dtype).reshape(shaped.shape)
    return results


def make_constant(array: np.ndarray, tensor: ir.Type, *, name: str = "folded") -> ConstantOp:
    """A `graph.constant` of type `tensor` holding `array` as a resource blob, at the current
    insertion point. The blob owns a private copy, so callers may reuse `array`."""
    dtype = _storage_dtype(tensor)
    assert dtype is not None, f"internal: no numpy dtype for {tensor}"
    # A flat copy: the blob aliases its buffer, and the bindings crash on 0-d buffers.
    flat = np.array(array, dtype=dtype, order="C", copy=True).reshape(-1)
    buffer = memoryview(flat)  # type: ignore[arg-type]  # numpy arrays are buffers
    attr = ir.DenseResourceElementsAttr.get_from_buffer(buffer, name, tensor)
    return ConstantOp(attr)


def _size(shape: Sequence[int]) -> int:
    return math.prod(shape)
