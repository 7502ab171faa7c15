"""Semantics of the `graph` dialect: each op runs its numpy reference, the one that lives next
to its lowering (`conversions/graph_ops/`, `@reference`) and that `graph-fold-constants` uses;
`graph.constant` reads its weights like `arith.constant`. Fused subgraphs are `func.call`s of
`graph.fused` functions, which the interpreter runs like any other function."""

from __future__ import annotations

import numpy as np

from strata.interpreter.arith import _constant
from strata.interpreter.core import Constant, Kernel, OpContext, semantics
from strata.interpreter.values import shape_of, storage_dtype


@semantics("graph.constant")
def _graph_constant(op: OpContext) -> Kernel | Constant:
    return _constant(op)


@semantics("graph.*")
def _graph_op(op: OpContext) -> Kernel:
    from strata.conversions.graph_ops import reference_for

    reference = reference_for(op.op.name)
    if reference is None:
        raise op.error(f"no numpy reference for '{op.op.name}' (conversions/graph_ops/)")
    graph_op = op.op
    (result,) = op.result_types  # graph ops have one result
    shape, dtype = shape_of(result), storage_dtype(result)

    def run(*arrays: np.ndarray) -> np.ndarray:
        array = np.asarray(reference(graph_op, *arrays), dtype).reshape(shape)
        array.setflags(write=False)  # values: never written in place
        return array

    return run
