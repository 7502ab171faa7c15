"""func-emit-c-interface: mark public functions with a body for C-interface wrappers
(`_mlir_ciface_<name>`), the ABI the runtime and ahead-of-time users call.

Declarations are left alone: a wrapper there would redirect calls into external libraries.
"""

from __future__ import annotations

from mlir import ir

from strata.irutil import functions, is_declaration, is_public
from strata.passes import Pass


class FuncEmitCInterfacePass(Pass):
    """Request C-interface wrappers for public functions that have a body"""

    argument = "func-emit-c-interface"

    def run(self, module: ir.Operation) -> None:
        for fn in functions(module):
            if is_public(fn) and not is_declaration(fn):
                fn.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
