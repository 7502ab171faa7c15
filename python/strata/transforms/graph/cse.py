"""graph-cse: merge equal graph ops (upstream `cse` skips IRDL ops: they declare no effects).

Two graph ops are equal when they have the same name, operands, attributes and result types;
two constants when their element data is equal, byte for byte, whatever the attribute's form
(`dense` or `dense_resource`, any blob name), so duplicated weights merge. Calls of fused
subgraphs (pure) with the same callee and operands merge too. The later op is replaced by the
earlier one, which dominates it. Input: any module. Output: no two equal graph ops in a scope.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import numpy as np
from mlir import ir

from strata.dialects.constants import read_constants
from strata.dialects.graph import FUSED
from strata.irutil import callee_of, functions, module_body, symbol_name, walk
from strata.passes import Pass

Key = tuple[Any, ...]


class _ConstantKeys:
    """Keys of constants by content. Only constants whose type another constant shares need
    their data read (a unique type has nothing to merge with); those are read in one print."""

    def __init__(self, module: ir.Operation) -> None:
        constants = [op for op in walk(module) if op.name == "graph.constant"]
        types = Counter(op.results[0].type for op in constants)
        shared = [op for op in constants if types[op.results[0].type] > 1]
        attrs = list({op.attributes["value"]: None for op in shared})
        self._data: dict[ir.Attribute, np.ndarray | None] = dict(zip(attrs, read_constants(attrs)))

    def key(self, op: ir.Operation) -> Key:
        attr = op.attributes["value"]
        array = self._data.get(attr)
        if array is None:  # a unique type, or data numpy cannot read: the attribute itself
            return ("graph.constant", op.results[0].type, attr)
        digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).digest()
        return ("graph.constant", op.results[0].type, digest)

    def same_data(self, a: ir.Operation, b: ir.Operation) -> bool:
        """Byte equality behind equal digests (so a hash collision can never merge weights)."""
        x, y = self._data.get(a.attributes["value"]), self._data.get(b.attributes["value"])
        if x is None or y is None:
            return a.attributes["value"] == b.attributes["value"]
        return x.tobytes() == y.tobytes()


def _key(op: ir.Operation, fused: set[str], constants: _ConstantKeys) -> Key | None:
    """What makes `op` equal to another op, or None when it must not merge."""
    if op.regions and any(len(r.blocks) for r in op.regions):
        return None
    if op.name == "graph.constant":
        return constants.key(op)
    is_fused_call = op.name == "func.call" and callee_of(op) in fused
    if not (op.name.startswith("graph.") or is_fused_call):
        return None
    attributes = tuple((name, op.attributes[name]) for name in sorted(op.attributes))
    return (
        op.name,
        tuple(op.operands),
        attributes,
        tuple(r.type for r in op.results),
    )


class GraphCsePass(Pass):
    """Merge graph ops with equal operands and attributes, and constants with equal data"""

    argument = "graph-cse"

    def run(self, module: ir.Operation) -> None:
        constants = _ConstantKeys(module)
        fused = {symbol_name(fn) for fn in functions(module) if FUSED in fn.attributes}
        for op in module_body(module).operations:
            for region in op.operation.regions:
                _cse_region(region, {}, fused, constants)


def _cse_region(
    region: ir.Region,
    scope: dict[Key, ir.Operation],
    fused: set[str],
    constants: _ConstantKeys,
) -> None:
    """CSE over `region`'s blocks; an op may reuse one of `scope` (ops that dominate the region).
    Sibling blocks do not share ops: without a dominance analysis, only nesting is safe."""
    for block in region.blocks:
        known = dict(scope)
        for op in list(block.operations):
            op = op.operation
            for inner in op.regions:
                _cse_region(inner, known, fused, constants)
            key = _key(op, fused, constants)
            if key is None:
                continue
            first = known.get(key)
            if first is None:
                known[key] = op
                continue
            if op.name == "graph.constant" and not constants.same_data(first, op):
                continue
            for old, new in zip(op.results, first.results):
                old.replace_all_uses_with(new)
            op.erase()
