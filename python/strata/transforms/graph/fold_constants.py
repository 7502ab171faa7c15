"""graph-fold-constants: evaluate graph ops whose operands are all constants, at compile time.

Each such op is computed with its numpy semantics (`conversions.graph_ops.reference_for`) and
replaced by a `graph.constant` holding the result as a resource blob; folding runs in program
order, so chains fold in one sweep. Ops without a reference, results larger than `max-bytes` and
element types numpy lacks (bf16) stay. Input: any module. Output: the same module with fewer ops.

Also the helpers the graph passes share to read and make constants (`read_constants`,
`make_constant`): the bindings cannot read a `dense_resource` blob, so it is read from the
printed resource section of a scratch module holding just the constants asked for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from mlir import ir

from strata.conversions.graph_ops import reference_for
from strata.diagnostics import CompileError
from strata.dialects.graph import ConstantOp
from strata.irutil import is_dense_resource, walk
from strata.passes import Pass, PipelineError

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


# --- reading and making constants ----------------------------------------------------------------


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


# --- the pass ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    max_bytes: int = field(
        default=16 * 2**20,
        metadata={"help": "largest folded result to materialise, in bytes (default 16 MiB)"},
    )

    def __post_init__(self) -> None:
        if self.max_bytes < 0:
            raise PipelineError(
                f"invalid value '{self.max_bytes}' for option 'max-bytes' of "
                "'graph-fold-constants': expected a size in bytes (0 or more)"
            )


def _foldable(op: ir.Operation, max_bytes: int) -> bool:
    if not op.name.startswith("graph.") or op.name == "graph.constant":
        return False
    if len(op.results) != 1 or not len(op.operands):
        return False
    if any(constant_producer(v) is None for v in op.operands):
        return False
    result = op.results[0].type
    if not isinstance(result, ir.RankedTensorType) or not result.has_static_shape:
        return False
    dtype = FOLDABLE_DTYPES.get(str(result.element_type))
    if dtype is None or _size(result.shape) * dtype.itemsize > max_bytes:
        return False
    return reference_for(op.name) is not None


class _ConstantCache:
    """Arrays of the constants seen so far, by attribute (folded results are known already)."""

    def __init__(self) -> None:
        self._arrays: dict[ir.Attribute, np.ndarray | None] = {}

    def arrays(self, constants: Sequence[ir.Operation]) -> list[np.ndarray | None]:
        attrs = [op.attributes["value"] for op in constants]
        missing = list({a: None for a in attrs if a not in self._arrays})
        for attr, array in zip(missing, read_constants(missing)):
            self._arrays[attr] = array
        return [self._arrays[a] for a in attrs]

    def add(self, attr: ir.Attribute, array: np.ndarray) -> None:
        self._arrays[attr] = array


def _evaluate(op: ir.Operation, arrays: Sequence[np.ndarray]) -> np.ndarray:
    reference = reference_for(op.name)
    assert reference is not None
    with np.errstate(all="ignore"):  # inf and nan are results like any other, as at run time
        result = np.asarray(reference(op, *arrays))
    expected = list(op.results[0].type.shape)
    if list(result.shape) != expected:
        raise CompileError(
            f"internal: the numpy reference of '{op.name}' gives shape {list(result.shape)}, "
            f"expected the op's {expected}",
            op.location,
        )
    return result


class GraphFoldConstantsPass(Pass):
    """Evaluate graph ops whose operands are all constants and replace them by constants"""

    argument = "graph-fold-constants"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        cache = _ConstantCache()
        inputs: dict[ir.Operation, None] = {}  # constants that may be dead after folding
        # Program order: a folded op's users come later, and see a constant operand by then.
        for op in [op for op in walk(module) if op.name.startswith("graph.")]:
            if not _foldable(op, self.options.max_bytes):
                continue
            constants = [constant_producer(v) for v in op.operands]
            arrays = cache.arrays(constants)  # type: ignore[arg-type]
            if any(a is None for a in arrays):
                continue
            result = _evaluate(op, arrays)  # type: ignore[arg-type]
            with ir.InsertionPoint(op), op.location:
                folded = make_constant(result, op.results[0].type, name=_blob_name(op))
            cache.add(folded.value, result)
            op.results[0].replace_all_uses_with(folded.output)
            op.erase()
            inputs.update(dict.fromkeys(constants))  # type: ignore[arg-type]
        for constant in inputs:
            if not any(True for _ in constant.results[0].uses):
                constant.erase()


def _blob_name(op: ir.Operation) -> str:
    return "folded_" + op.name.removeprefix("graph.")
