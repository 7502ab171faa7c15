"""convert-tprog-to-scf: lower `tprog.block` to plain loops and memory accesses.

Input: tensor programs. Output: no `tprog` op. A block's regions are inlined with the iteration
variables substituted; the init region runs under `scf.if` when every reduction variable is 0.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, scf

from strata.dialects.tprog import IterType
from strata.irutil import index_constant, walk
from strata.passes import Pass


def _inline(region_block: ir.Block, values: list[ir.Value], before: ir.Operation) -> None:
    for arg, value in zip(region_block.arguments, values):
        arg.replace_all_uses_with(value)
    for op in list(region_block.operations)[:-1]:  # drop the terminator
        op.operation.move_before(before)


def lower_block(op: ir.Operation) -> None:
    block = op.opview
    values = block.iter_values
    reductions = [v for v, t in zip(values, block.iter_types) if t == IterType.REDUCTION]
    if reductions and len(list(block.init.operations)) > 1:
        with ir.InsertionPoint(op), op.location:
            zero = index_constant(0)
            cond = None
            for v in reductions:
                eq = arith.CmpIOp(arith.CmpIPredicate.eq, v, zero).result
                cond = eq if cond is None else arith.AndIOp(cond, eq).result
            if_op = scf.IfOp(cond)
            with ir.InsertionPoint(if_op.then_block):
                yield_op = scf.YieldOp([])
        _inline(block.init, values, yield_op.operation)
    _inline(block.body, values, op)
    op.erase()


class ConvertTprogToScfPass(Pass):
    """Lower tprog blocks to scf loops, memref accesses and arith"""

    argument = "convert-tprog-to-scf"

    def run(self, module: ir.Operation) -> None:
        for op in [op for op in walk(module) if op.name == "tprog.block"]:
            lower_block(op)
