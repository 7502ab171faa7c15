"""convert-libcall-to-func: lower `libcall` ops to calls of the native symbols.

Input: `libcall` ops on memrefs. Output: `func.call` of each entry's symbol with raw pointers
and strides (its argument convention), plus a private declaration of the symbol.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mlir import ir

from strata.diagnostics import CompileError
from strata.interpreter.core import Kernel, OpContext, semantics
from strata.interpreter.memory import write_array
from strata.interpreter.values import python_value
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


# --- simulator semantics (strata.simulate): a library call runs its registry entry's numpy
# `reference` (the native library is never loaded); an entry without one falls back to the op's
# own semantics.


def _matmul(lhs: np.ndarray, rhs: np.ndarray, out: np.ndarray, **attributes: Any) -> None:
    write_array(out, ..., np.matmul(lhs, rhs))


# The semantics of libcall ops, for library functions that have no numpy reference.
_OWN_SEMANTICS = {"libcall.matmul": _matmul}


@semantics("libcall.matmul", "libcall.*")
def _libcall(op: OpContext) -> Kernel:
    from strata.libraries import registry

    callee = op.attr("callee")
    if registry.lookup(callee) is None:
        raise op.error(
            f"unknown library function '{callee}'; registered: {', '.join(registry.names())}"
        )
    reason = registry.check_call(op.op)
    if reason is not None:
        raise op.error(reason)
    function = registry.lookup(callee)
    reference = getattr(function, "reference", None) or _OWN_SEMANTICS.get(op.name)
    if reference is None:
        raise op.unsupported(f"library function '{callee}' has no numpy reference")
    attributes = {
        name: python_value(op.op.attributes[name]) for name in op.op.attributes if name != "callee"
    }

    def run(*arrays: np.ndarray) -> None:
        reference(*arrays, **attributes)

    return run
