"""graph-fold-constants: evaluate graph ops whose operands are all constants, at compile time.

Each such op is computed with its numpy semantics (`conversions.graph_ops.reference_for`) and
replaced by a `graph.constant` holding the result as a resource blob; folding runs in program
order, so chains fold in one sweep. Ops without a reference, results larger than `max-bytes` and
element types numpy lacks (bf16) stay. Input: any module. Output: the same module with fewer ops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from mlir import ir

from strata.conversions.graph_ops import reference_for
from strata.diagnostics import CompileError
from strata.dialects.constants import (
    FOLDABLE_DTYPES,
    constant_producer,
    make_constant,
    read_constants,
)
from strata.irutil import walk
from strata.passes import Pass, PipelineError

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
    if dtype is None or math.prod(result.shape) * dtype.itemsize > max_bytes:
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
