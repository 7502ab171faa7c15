"""graph-fuse-ops: outline groups of ops into fused subgraphs (MLC chapter 7's FuseDenseAddRelu,
generalised as in TVM's FuseOps):

- an anchor (`graph.matmul`, `graph.conv2d`) and the chain of elementwise ops consuming it
  (bias add, activation, residual add);
- a reduction (softmax, log_softmax, layer_norm, reduce_*) with the elementwise chain producing
  its input and the elementwise chain consuming its result;
- any other chain of two or more elementwise ops.

Anchors are grouped first, then reductions, then what is left. An op joins a group only through a
value with one use, so every intermediate value stays inside its group.
Input: `graph` functions. Output: each group becomes a private `func.func @fused_<ops>` marked
`graph.fused` called with `func.call`; `convert-graph-to-tprog` lowers each as one tensor program.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import func

from strata.dialects.graph import ELEMENTWISE_OPS, FUSED
from strata.irutil import symbol_names, unique_symbol
from strata.passes import Pass

# Ops computed point by point (batch_norm: per channel), so they fuse into any group's chain.
ELEMENTWISE = (*ELEMENTWISE_OPS, "graph.batch_norm")
ANCHORS = ("graph.matmul", "graph.conv2d")
REDUCTIONS = (
    "graph.softmax",
    "graph.log_softmax",
    "graph.layer_norm",
    "graph.reduce_sum",
    "graph.reduce_mean",
    "graph.reduce_max",
)


def _single_user(value: ir.Value) -> ir.Operation | None:
    uses = list(value.uses)
    return uses[0].owner.operation if len(uses) == 1 else None


def _consumers(op: ir.Operation, taken: set[ir.Operation]) -> list[ir.Operation]:
    """The chain of elementwise ops after `op`, each the only user of the previous result."""
    chain: list[ir.Operation] = []
    last = op
    while True:
        user = _single_user(last.results[0])
        if user is None or user.name not in ELEMENTWISE or user.block != op.block or user in taken:
            return chain
        chain.append(user)
        last = user


def _producers(op: ir.Operation, taken: set[ir.Operation]) -> list[ir.Operation]:
    """The chain of elementwise ops producing `op`'s first operand, in program order."""
    chain: list[ir.Operation] = []
    current = op
    while current.operands:
        value = current.operands[0]
        if isinstance(value.owner, ir.Block):  # a block argument
            break
        producer = value.owner.operation
        if (
            producer.name not in ELEMENTWISE
            or producer.block != op.block
            or producer in taken
            or len(list(value.uses)) != 1
        ):
            break
        chain.append(producer)
        current = producer
    return chain[::-1]


def fusion_groups(block: ir.Block) -> list[list[ir.Operation]]:
    """The groups of ops of `block` to fuse, each in program order."""
    ops = [op.operation for op in block.operations]
    taken: set[ir.Operation] = set()
    groups: list[list[ir.Operation]] = []

    def add(group: list[ir.Operation]) -> None:
        if len(group) >= 2:
            groups.append(group)
            taken.update(group)

    for op in ops:
        if op.name in ANCHORS and op not in taken:
            add([op, *_consumers(op, taken)])
    for op in ops:
        if op.name in REDUCTIONS and op not in taken:
            producers = _producers(op, taken)
            add([*producers, op, *_consumers(op, taken | set(producers))])
    for op in ops:
        if op.name in ELEMENTWISE and op not in taken:
            add([op, *_consumers(op, taken)])
    return groups


class GraphFuseOpsPass(Pass):
    """Fuse matmul/conv + elementwise epilogues, reductions + elementwise neighbours, and
    elementwise chains into subgraphs"""

    argument = "graph-fuse-ops"

    def run(self, module: ir.Operation) -> None:
        body = module.regions[0].blocks[0]
        taken = symbol_names(module)
        for fn in list(body.operations):
            fn = fn.operation
            if fn.name != "func.func" or FUSED in fn.attributes or not fn.regions[0].blocks:
                continue
            for group in fusion_groups(fn.regions[0].blocks[0]):
                self._outline(module, fn, group, taken)

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
