"""Semantics of `affine.apply`, `affine.min` and `affine.max` (the bindings of schedules).

Each affine map becomes a Python function generated from its expression tree, once per op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlir import ir

from strata.interpreter.core import Kernel, OpContext, semantics


def _expr_source(e: ir.AffineExpr) -> str:
    if isinstance(e, ir.AffineDimExpr):
        return f"d{e.position}"
    if isinstance(e, ir.AffineSymbolExpr):
        return f"s{e.position}"
    if isinstance(e, ir.AffineConstantExpr):
        return str(e.value)
    binary = {
        ir.AffineAddExpr: "({} + {})",
        ir.AffineMulExpr: "({} * {})",
        ir.AffineFloorDivExpr: "({} // {})",
        ir.AffineModExpr: "({} % {})",
        ir.AffineCeilDivExpr: "(-(-{} // {}))",
    }
    for cls, pattern in binary.items():
        if isinstance(e, cls):
            return pattern.format(_expr_source(e.lhs), _expr_source(e.rhs))
    raise TypeError(f"unknown affine expression {e}")


def affine_function(amap: ir.AffineMap, combine: str = "") -> Callable[..., Any]:
    """A Python function of (dims..., symbols...) computing the map's results: a tuple, or
    `combine` (min, max) of them, or the one result when the map has one and no `combine`."""
    params = [f"d{i}" for i in range(amap.n_dims)] + [f"s{i}" for i in range(amap.n_symbols)]
    results = [_expr_source(e) for e in amap.results]
    if combine:
        body = f"{combine}({', '.join(results)})" if len(results) > 1 else results[0]
    elif len(results) == 1:
        body = results[0]
    else:
        body = f"({', '.join(results)},)"
    # The source is made only of names, integers and operators from the map's structure.
    return eval(f"lambda {', '.join(params)}: {body}")  # noqa: S307


@semantics("affine.apply", "affine.min", "affine.max")
def _affine(op: OpContext) -> Kernel:
    combine = {"affine.apply": "", "affine.min": "min", "affine.max": "max"}[op.name]
    return affine_function(op.attr("map"), combine)
