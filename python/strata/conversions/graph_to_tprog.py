"""convert-graph-to-tprog: lower `graph` ops to tensor programs (MLC chapter 2).

Input: `graph` functions (fused subgraphs included). Output: no `graph` op. Each unfused op and
each fused subgraph becomes a private `func.func` marked `tprog.prim_func` on memrefs
(inputs, then the output); graph-level code calls it on buffers (`bufferization.to_buffer`
of each input, `memref.alloc` for the output), and weights become `arith.constant`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, bufferization, func, memref, tensor

from strata.conversions.graph_ops import lowering_for, memref_type
from strata.conversions.tprog_builder import uniquify_loop_names
from strata.diagnostics import CompileError
from strata.dialects.graph import FUSED
from strata.dialects.tprog import PRIM_FUNC, IterType
from strata.dialects.verifiers import verify_module
from strata.irutil import (
    callee_of,
    functions,
    is_declaration,
    lookup_function,
    symbol_names,
    unique_symbol,
)
from strata.passes import Pass

S, R = IterType.SPATIAL, IterType.REDUCTION


def emit_compute(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, block_name: str) -> None:
    """Emit the loop nests and blocks computing `op` from buffers `ins` into buffer `out`."""
    lower = lowering_for(op.name)
    if lower is None:
        raise CompileError(f"convert-graph-to-tprog does not support '{op.name}' yet", op.location)
    lower(op, ins, out, block_name)


def new_prim_func(
    module_fn: ir.Operation, name: str, inputs: Sequence[ir.Type], outputs: Sequence[ir.Type]
):
    arg_types = [memref_type(t) for t in [*inputs, *outputs]]
    with ir.InsertionPoint(module_fn):
        fn = func.FuncOp(name, (arg_types, []), visibility="private")
    fn.attributes[PRIM_FUNC] = ir.UnitAttr.get()
    fn.add_entry_block()
    fn.operation.move_after(module_fn)
    return fn


def call_prim_func(
    callee: str, inputs: Sequence[ir.Value], result_types: Sequence[ir.Type]
) -> list[ir.Value]:
    """Call a tensor program from tensor-level code (MLC's call_tir) at the insertion point."""
    buffers = [
        bufferization.ToBufferOp(memref_type(v.type), v, read_only=True).result for v in inputs
    ]
    outs = [memref.AllocOp(memref_type(t), [], []).result for t in result_types]
    func.CallOp([], callee, [*buffers, *outs])
    return [
        bufferization.ToTensorOp(t, o, restrict=True, writable=True).result
        for t, o in zip(result_types, outs)
    ]


def reshape_view(value: ir.Value, result_type: ir.Type) -> ir.Value:
    """A row-major reshape at the tensor level: collapse to one dimension, expand to the new
    shape. Both bufferize to views of the same buffer, so the reshape copies nothing."""
    source = ir.RankedTensorType(value.type)
    result = ir.RankedTensorType(result_type)
    if list(source.shape) == list(result.shape):
        return value
    src_rank, dst_rank = source.rank, result.rank
    if src_rank > 1 or (src_rank == 1 and dst_rank == 0):
        groups = [list(range(src_rank))] if dst_rank else []
        flat = [math.prod(source.shape)] if dst_rank else []
        value = tensor.CollapseShapeOp(
            ir.RankedTensorType.get(flat, source.element_type), value, groups
        ).result
    if dst_rank > 1 or (dst_rank == 1 and src_rank == 0):
        groups = [list(range(dst_rank))] if src_rank else []
        value = tensor.ExpandShapeOp(result, value, groups, [], list(result.shape)).result
    return value


def _constant_value(op: ir.Operation) -> ir.Attribute:
    """The value of a weight; a rank-0 `dense_resource` becomes `dense`: upstream
    finalize-memref-to-llvm aborts the process on a rank-0 resource global."""
    value = op.attributes["value"]
    result = ir.RankedTensorType(op.results[0].type)
    if result.rank or isinstance(value, ir.DenseElementsAttr):
        return value
    from strata.dialects.constants import read_constants

    (array,) = read_constants([value])
    if array is None:
        raise CompileError(f"cannot read the scalar constant {value}", op.location)
    return ir.DenseElementsAttr.get(np.ascontiguousarray(array).reshape(()), type=result)


def _copy_repeated_results(fn: ir.Operation) -> None:
    """Give each result its own tensor: a value returned twice is copied for the later results.
    (Upstream's buffer-results-to-out-params crashes on a repeated result buffer.)"""
    ret = [op.operation for op in fn.regions[0].blocks[0].operations][-1]
    seen: set = set()
    for i, value in enumerate(list(ret.operands)):
        if value in seen:
            with ir.InsertionPoint(ret), ret.location:
                ret.operands[i] = bufferization.alloc_tensor(value.type, [], copy=value)
        seen.add(value)


class ConvertGraphToTprogPass(Pass):
    """Lower graph ops and fused subgraphs to tensor programs called on buffers"""

    argument = "convert-graph-to-tprog"

    def run(self, module: ir.Operation) -> None:
        # The lowerings trust the verifiers (element types, attribute kinds): check again here,
        # since strata-opt --no-verify skips them and a bad op would fail deep in a lowering.
        verify_module(module, prefix="graph.")
        taken = symbol_names(module)
        fused = [fn for fn in functions(module) if FUSED in fn.attributes]
        for fn in functions(module):
            if FUSED not in fn.attributes and not is_declaration(fn):
                self._convert_graph_function(module, fn, taken)
        for fn in fused:
            self._convert_fused(fn)

    def _convert_graph_function(
        self, module: ir.Operation, fn: ir.Operation, taken: set[str]
    ) -> None:
        _copy_repeated_results(fn)
        for op in list(fn.regions[0].blocks[0].operations):
            op = op.operation
            with ir.InsertionPoint(op), op.location:
                if op.name == "graph.constant":
                    new = [arith.ConstantOp(op.results[0].type, _constant_value(op)).result]
                elif op.name == "graph.reshape":
                    new = [reshape_view(op.operands[0], op.results[0].type)]
                elif lowering_for(op.name) is not None:
                    kind = op.name.split(".")[1]
                    callee = unique_symbol(kind, taken)
                    prim = new_prim_func(
                        fn, callee, [v.type for v in op.operands], [op.results[0].type]
                    )
                    entry = prim.regions[0].blocks[0]
                    with ir.InsertionPoint(entry):
                        emit_compute(op, list(entry.arguments)[:-1], entry.arguments[-1], kind)
                        func.ReturnOp([])
                    uniquify_loop_names(prim.operation)
                    new = call_prim_func(callee, list(op.operands), [op.results[0].type])
                elif op.name == "func.call" and self._calls_fused(module, op):
                    new = call_prim_func(
                        callee_of(op), list(op.operands), [r.type for r in op.results]
                    )
                elif op.name.startswith("graph."):
                    raise CompileError(
                        f"convert-graph-to-tprog does not support '{op.name}' yet", op.location
                    )
                else:
                    continue
            for old, value in zip(op.results, new):
                old.replace_all_uses_with(value)
            op.erase()

    @staticmethod
    def _calls_fused(module: ir.Operation, call: ir.Operation) -> bool:
        callee = lookup_function(module, callee_of(call))
        return callee is not None and FUSED in callee.attributes

    def _convert_fused(self, fn: ir.Operation) -> None:
        """Rewrite a fused subgraph as one tensor program: a block per op, intermediates in
        local buffers, the last op writing the output argument."""
        ftype = ir.TypeAttr(fn.attributes["function_type"]).value
        name = ir.StringAttr(fn.attributes["sym_name"]).value
        prim = new_prim_func(fn, name, list(ftype.inputs), list(ftype.results))
        entry = prim.regions[0].blocks[0]
        old_entry = fn.regions[0].blocks[0]
        buffers = dict(zip(old_entry.arguments, list(entry.arguments)[: len(ftype.inputs)]))
        ret = [op.operation for op in old_entry.operations][-1]
        outputs = dict(zip(ret.operands, list(entry.arguments)[len(ftype.inputs) :]))
        block_names: set[str] = set()
        with ir.InsertionPoint(entry):
            for op in old_entry.operations:
                op = op.operation
                if op.name == "func.return":
                    break
                if lowering_for(op.name) is None:
                    raise CompileError(
                        f"'{op.name}' cannot be lowered inside a fused subgraph", op.location
                    )
                with op.location:
                    result = op.results[0]
                    out = outputs.get(result)
                    if out is None:
                        out = memref.AllocOp(memref_type(result.type), [], []).result
                    buffers[result] = out
                    block = unique_symbol(op.name.split(".")[1], block_names)
                    emit_compute(op, [buffers[v] for v in op.operands], out, block)
            with fn.location:
                # Intermediate buffers are freed by upstream's buffer-deallocation-pipeline.
                func.ReturnOp([])
        uniquify_loop_names(prim.operation)
        fn.erase()
