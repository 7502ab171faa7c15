"""convert-tprog-to-scf: lower `tprog.block` to plain loops and memory accesses.

Input: tensor programs, scheduled or not. Output: no `tprog` op. A block's regions are inlined
with the iteration variables substituted; the init region runs under `scf.if` when every
reduction variable is 0; a block whose binding can leave its domain (a split that does not
divide) runs under a guard. Loop kinds become upstream forms: `parallel` loops `scf.forall`,
`vectorized` and `unrolled` loops LLVM loop annotations. GPU bindings (`blockIdx.*`,
`threadIdx.*`) stay on their loops for `convert-tprog-to-gpu`.
"""

from __future__ import annotations

from typing import Any

from mlir import ir
from mlir.dialects import arith, scf

from strata.dialects.tprog import LOOP_NAME, IterType
from strata.interpreter.core import Kernel, OpContext, Region, semantics, terminator
from strata.irutil import index_constant, walk
from strata.passes import Pass
from strata.transforms.tprog import nest

_ANNOTATION = {
    "vectorized": "#llvm.loop_annotation<vectorize = <disable = false>>",
    "unrolled": "#llvm.loop_annotation<unroll = <full = true>>",
}


def _inline(region_block: ir.Block, values: list[ir.Value], before: ir.Operation) -> None:
    for arg, value in zip(region_block.arguments, values):
        arg.replace_all_uses_with(value)
    for op in list(region_block.operations)[:-1]:  # drop the terminator
        op.operation.move_before(before)


def _all(conditions: list[ir.Value]) -> ir.Value:
    result = conditions[0]
    for c in conditions[1:]:
        result = arith.AndIOp(result, c).result
    return result


def _guarded(op: ir.Operation, cond: ir.Value | None) -> ir.Operation:
    """The op before which the block's code goes: `op` itself, or a yield inside `scf.if`."""
    if cond is None:
        return op
    if_op = scf.IfOp(cond)
    with ir.InsertionPoint(if_op.then_block):
        return scf.YieldOp([]).operation


def _domain_guard(op: ir.Operation, block) -> ir.Value | None:
    """`v < extent` for each iteration value that the loops can take out of the domain."""
    extents = {}
    for loop in nest.enclosing_loops(op):
        try:
            extents[nest.loop_name(loop)] = nest.loop_extent(loop)
        except nest.ScheduleError:  # not normalized (e.g. tensorized tiles): guard conservatively
            pass
    checks = []
    for value, extent in zip(block.iter_values, block.dom):
        expr = nest.binding_of(value)
        if expr is not None and expr.vars() <= set(extents) and expr.bounds(extents)[1] < extent:
            continue
        bound = arith.ConstantOp(ir.IndexType.get(), extent).result
        checks.append(arith.CmpIOp(arith.CmpIPredicate.ult, value, bound).result)
    return _all(checks) if checks else None


def lower_block(op: ir.Operation) -> None:
    block = op.opview
    values = block.iter_values
    reductions = [v for v, t in zip(values, block.iter_types) if t == IterType.REDUCTION]
    with ir.InsertionPoint(op), op.location:
        anchor = _guarded(op, _domain_guard(op, block))
        if reductions and len(list(block.init.operations)) > 1:
            with ir.InsertionPoint(anchor):
                zero = index_constant(0)
                first = [arith.CmpIOp(arith.CmpIPredicate.eq, v, zero).result for v in reductions]
                init_anchor = _guarded(anchor, _all(first))
            _inline(block.init, values, init_anchor)
        _inline(block.body, values, anchor)
    op.erase()


def is_gpu_binding(kind: str) -> bool:
    return kind.startswith(("blockIdx.", "threadIdx."))


def lower_loop_kind(loop: ir.Operation) -> None:
    kind = nest.loop_kind(loop)
    del loop.attributes[nest.LOOP_KIND]
    if kind in _ANNOTATION:
        loop.attributes["llvm.loop_annotation"] = ir.Attribute.parse(_ANNOTATION[kind])
        return
    # parallel: an scf.forall over the same range; the CPU target maps it to threads
    lb, ub, step = list(loop.operands)[:3]
    with ir.InsertionPoint(loop), loop.location:
        forall = scf.ForallOp([lb], [ub], [step])
        forall.attributes[LOOP_NAME] = loop.attributes[LOOP_NAME]
        with ir.InsertionPoint(forall.body):
            terminator = scf.InParallelOp()
    loop.regions[0].blocks[0].arguments[0].replace_all_uses_with(forall.body.arguments[0])
    for inner in nest.body_ops(loop):
        inner.move_before(terminator.operation)
    loop.erase()


class ConvertTprogToScfPass(Pass):
    """Lower tprog blocks to scf loops, memref accesses and arith"""

    argument = "convert-tprog-to-scf"

    def run(self, module: ir.Operation) -> None:
        for op in [op for op in walk(module) if op.name == "tprog.block"]:
            lower_block(op)
        for loop in [
            op
            for op in walk(module)
            if op.name == "scf.for"
            and nest.LOOP_KIND in op.attributes
            and not is_gpu_binding(nest.loop_kind(op))
        ]:
            lower_loop_kind(loop)


# --- simulator semantics of tprog.block (strata.simulate), the same as the lowering above ---------
# The block runs only for iteration values inside `dom`; its `init` region runs first when every
# reduction iteration value is 0; then its `body`. Both regions end with `omp.terminator`.

terminator("omp.terminator")


@semantics("tprog.block")
def _simulate_block(op: OpContext) -> Kernel:
    dom = tuple(op.attr("dom"))
    kinds = op.attr("iter_types")
    if not len(dom) == len(kinds) == len(op.operand_types):
        raise op.error(
            f"expected one 'dom' extent and one iter_type per iteration value "
            f"({len(op.operand_types)}), got {len(dom)} and {len(kinds)}"
        )
    reductions = [i for i, kind in enumerate(kinds) if kind == IterType.REDUCTION.value]
    body = op.region(1).run
    # The verifier keeps the init region of a block without reductions empty.
    init_region: Region | None = op.region(0) if reductions else None
    init = None if init_region is None or init_region.is_empty else init_region.run

    # One generated function per block: its domain check is a chained comparison per value.
    values = [f"v{i}" for i in range(len(dom))]
    inside = " and ".join(f"0 <= {v} < {extent}" for v, extent in zip(values, dom)) or "True"
    first = " and ".join(f"{values[i]} == 0" for i in reductions)
    args = ", ".join(values)
    lines = [f"def run({args}):", f"    if {inside}:"]
    if init is not None:
        lines += [f"        if {first}:", f"            init({args})"]
    lines += [f"        body({args})"]
    names: dict[str, Any] = {"init": init, "body": body}
    exec("\n".join(lines), names)  # noqa: S102  # generated from the block's integer attributes
    return names["run"]
