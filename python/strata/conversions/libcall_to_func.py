"""convert-libcall-to-func: lower `libcall` ops to calls of the native symbols.

Input: `libcall` ops on memrefs. Output: `func.call` of each entry's symbol with raw pointers
and strides (its argument convention), plus a private declaration of the symbol.
"""

from __future__ import annotations

from mlir import ir

from strata.diagnostics import CompileError
from strata.irutil import walk
from strata.libraries import registry
from strata.passes import Pass


class ConvertLibcallToFuncPass(Pass):
    """Lower libcall ops to calls of native library symbols"""

    argument = "convert-libcall-to-func"

    def run(self, module: ir.Operation) -> None:
        for op in [op for op in walk(module) if op.name.startswith("libcall.")]:
            error = registry.check_call(op)
            if error:
                raise CompileError(error, op.location)
            function = registry.lookup(ir.StringAttr(op.attributes["callee"]).value)
            assert function is not None  # check_call found it
            function.emit(op, function)
