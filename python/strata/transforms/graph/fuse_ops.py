"""graph-fuse-ops: outline a matmul and the elementwise ops that consume it (bias add, relu), or a
chain of elementwise ops, into one fused subgraph (MLC chapter 7's FuseDenseAddRelu).

Input: `graph` functions. Output: each group becomes a private `func.func @fused_<ops>` marked
`graph.fused` called with `func.call`; `convert-graph-to-tprog` lowers each as one tensor program.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import func

from strata.dialects.graph import FUSED
from strata.irutil import symbol_names, unique_symbol
from strata.passes import Pass

ELEMENTWISE = ("graph.add", "graph.sub", "graph.mul", "graph.relu")
ANCHORS = ("graph.matmul", "graph.conv2d", *ELEMENTWISE)


def _single_user(value: ir.Value) -> ir.Operation | None:
    uses = list(value.uses)
    return uses[0].owner.operation if len(uses) == 1 else None


def _chain_from(op: ir.Operation) -> list[ir.Operation]:
    chain = [op]
    while True:
        user = _single_user(chain[-1].results[0])
        if user is None or user.name not in ELEMENTWISE or user.block != op.block:
            return chain
        chain.append(user)


class GraphFuseOpsPass(Pass):
    """Fuse matmul + elementwise consumers (bias add, relu) and elementwise chains into subgraphs"""

    argument = "graph-fuse-ops"

    def run(self, module: ir.Operation) -> None:
        body = module.regions[0].blocks[0]
        taken = symbol_names(module)
        for fn in list(body.operations):
            fn = fn.operation
            if fn.name != "func.func" or FUSED in fn.attributes or not fn.regions[0].blocks:
                continue
            for op in list(fn.regions[0].blocks[0].operations):
                op = op.operation
                if op.name in ANCHORS and op.block is not None and not _is_fused(op):
                    chain = _chain_from(op)
                    if len(chain) >= 2:
                        self._outline(module, fn, chain, taken)

    def _outline(
        self, module: ir.Operation, fn: ir.Operation, chain: list[ir.Operation], taken: set[str]
    ) -> None:
        name = unique_symbol("fused_" + "_".join(op.name.split(".")[1] for op in chain), taken)
        inside = {r for op in chain for r in op.results}
        inputs: list[ir.Value] = []
        for op in chain:
            for v in op.operands:
                if v not in inside and v not in inputs:
                    inputs.append(v)
        last = chain[-1]
        loc = ir.Location.fused([op.location for op in chain], context=fn.context)
        with loc:
            with ir.InsertionPoint(fn):
                callee = func.FuncOp(
                    name, ([v.type for v in inputs], [last.results[0].type]), visibility="private"
                )
            callee.attributes[FUSED] = ir.UnitAttr.get()
            entry = callee.add_entry_block()
            call = func.CallOp([last.results[0].type], name, inputs, ip=ir.InsertionPoint(last))
            last.results[0].replace_all_uses_with(call.results[0])
            for op in chain:
                entry.append(op)
                for i, v in enumerate(op.operands):
                    if v in inputs:
                        op.operands[i] = entry.arguments[inputs.index(v)]
            with ir.InsertionPoint(entry):
                func.ReturnOp([last.results[0]])
        callee.operation.move_after(fn)


def _is_fused(op: ir.Operation) -> bool:
    parent = op.parent
    return parent is not None and FUSED in parent.attributes
