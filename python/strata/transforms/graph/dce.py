"""graph-dce: erase `graph` ops whose results are unused (IRDL ops carry no purity trait, so
upstream DCE keeps them) and fused subgraphs nobody calls.

Input: any module. Output: no unused graph op, no uncalled `graph.fused` function.
"""

from __future__ import annotations

from mlir import ir

from strata.dialects.graph import FUSED
from strata.irutil import callee_of, enclosing_module, lookup_function, walk
from strata.passes import Pass


def _erase_dead_ops(block: ir.Block) -> bool:
    changed = False
    for op in reversed(list(block.operations)):
        op = op.operation
        for region in op.regions:
            for inner in region.blocks:
                changed |= _erase_dead_ops(inner)
        if _is_pure(op) and op.results and all(not list(r.uses) for r in op.results):
            op.erase()
            changed = True
    return changed


class GraphDcePass(Pass):
    """Erase graph ops with unused results and uncalled fused subgraphs"""

    argument = "graph-dce"

    def run(self, module: ir.Operation) -> None:
        body = module.regions[0].blocks[0]
        while True:
            changed = _erase_dead_ops(body)
            called = {callee_of(op) for op in walk(module) if _has_callee(op)}
            for op in list(body.operations):
                op = op.operation
                if op.name == "func.func" and FUSED in op.attributes:
                    if ir.StringAttr(op.attributes["sym_name"]).value not in called:
                        op.erase()
                        changed = True
            if not changed:
                return


def _is_pure(op: ir.Operation) -> bool:
    """graph ops, and calls of fused subgraphs (which hold only graph ops), have no side effects."""
    if op.name.startswith("graph."):
        return True
    if op.name == "func.call":
        module = enclosing_module(op)
        callee = lookup_function(module, callee_of(op)) if module is not None else None
        return callee is not None and FUSED in callee.attributes
    return False


def _has_callee(op: ir.Operation) -> bool:
    return "callee" in op.attributes and isinstance(op.attributes["callee"], ir.FlatSymbolRefAttr)
