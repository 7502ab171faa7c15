"""graph-verify: check element types and shapes of every `graph` op (IRDL checks only base types),
and that every call of a function without a body returns nothing.

Strata compiles whole modules: a body-less function is a native library symbol, called in
destination-passing style. One returning a tensor has no owner for its buffer, and the upstream
buffer deallocation then emits i1 memref stores that `finalize-memref-to-llvm` aborts the process
on; refusing the call here gives a located error instead.

Input: any module. Output: unchanged, or a located error naming the first bad op.
"""

from __future__ import annotations

from mlir import ir

from strata.diagnostics import CompileError
from strata.dialects.verifiers import verify_module
from strata.irutil import functions, is_declaration, symbol_name, walk
from strata.passes import Pass


def check_external_calls(module: ir.Operation) -> None:
    """A located error at the first call of a body-less function that returns values."""
    external = {symbol_name(fn) for fn in functions(module) if is_declaration(fn)}
    for op in walk(module):
        if op.name != "func.call" or not len(op.results):
            continue
        callee = ir.FlatSymbolRefAttr(op.attributes["callee"]).value
        if callee in external:
            raise CompileError(
                f"call of '@{callee}', a function without a body, returns values: Strata compiles "
                f"whole modules (give '@{callee}' a body, or call a library function through "
                "libcall)",
                op.location,
            )


class GraphVerifyPass(Pass):
    """Check element types and shapes of graph ops and report located errors"""

    argument = "graph-verify"

    def run(self, module: ir.Operation) -> None:
        verify_module(module, prefix="graph.")
        check_external_calls(module)
