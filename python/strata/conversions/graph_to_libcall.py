"""convert-graph-to-libcall: map graph ops onto native library calls (MLC chapter 3).

Also the mechanism `graph-dispatch-libcall` uses (that pass decides, by rules, which ops go to
which library): `LIBCALL_OPS` gives the libcall op a graph op can become, and `convert` replaces
one op by a call of a private tensor program whose body is that libcall op (destination-passing),
when the library function accepts the operands.
Input: `graph` functions. Output: each 2-D f32 `graph.matmul` that the library function of
option `matmul` takes becomes such a call; other ops are left for `convert-graph-to-tprog`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mlir import ir
from mlir.dialects import func

from strata.conversions.graph_to_tprog import call_prim_func, new_prim_func
from strata.dialects.graph import FUSED
from strata.dialects.libcall import MatmulOp
from strata.irutil import functions, symbol_names, unique_symbol, walk
from strata.libraries import registry
from strata.passes import Pass, PipelineError


@dataclass(frozen=True)
class LibcallForm:
    """How a graph op becomes a libcall op: `check` says why an op cannot (or None), `build`
    emits the libcall op on the tensor program's arguments (inputs, then the output)."""

    op: str
    check: Callable[[ir.Operation], str | None]
    build: Callable[[Sequence[ir.Value], str], ir.OpView]


def _check_matmul(op: ir.Operation) -> str | None:
    shapes = [list(v.type.shape) for v in op.operands]
    if any(len(s) != 2 for s in shapes):
        return f"libcall.matmul takes 2-D operands, found shapes {shapes[0]} and {shapes[1]}"
    return None


def _build_matmul(args: Sequence[ir.Value], callee: str) -> ir.OpView:
    lhs, rhs, out = args
    return MatmulOp(lhs, rhs, out, callee=callee)


LIBCALL_OPS: dict[str, LibcallForm] = {
    "graph.matmul": LibcallForm("libcall.matmul", _check_matmul, _build_matmul),
}


def _function_of(op: ir.Operation) -> ir.Operation:
    parent = op.parent
    while parent.name != "func.func":
        parent = parent.parent
    return parent


def convert(op: ir.Operation, function: str, taken: set[str]) -> str | None:
    """Replace the graph op `op` by a call of library function `function` (a registry name),
    or, when the op has no libcall form or the library refuses its operands, leave it and say
    why. `taken` holds the module's symbol names (the new tensor program's name is added)."""
    form = LIBCALL_OPS.get(op.name)
    if form is None:
        return f"'{op.name}' has no libcall form"
    reason = form.check(op)
    if reason is not None:
        return reason
    callee = unique_symbol(function.replace(".", "_"), taken)
    result_types = [r.type for r in op.results]
    with op.location:
        prim = new_prim_func(_function_of(op), callee, [v.type for v in op.operands], result_types)
        entry = prim.regions[0].blocks[0]
        with ir.InsertionPoint(entry):
            call = form.build(list(entry.arguments), function)
            func.ReturnOp([])
    reason = registry.check_call(call.operation)
    if reason is not None:
        prim.operation.erase()
        taken.discard(callee)
        return reason
    with ir.InsertionPoint(op), op.location:
        values = call_prim_func(callee, list(op.operands), result_types)
    for old, new in zip(op.results, values):
        old.replace_all_uses_with(new)
    op.erase()
    return None


@dataclass(frozen=True)
class Options:
    matmul: str = field(
        default="openblas.sgemm", metadata={"help": "library function for graph.matmul"}
    )

    def __post_init__(self) -> None:
        choices = registry.implementing("libcall.matmul")
        if self.matmul not in choices:
            raise PipelineError(
                f"invalid value '{self.matmul}' for option 'matmul' of 'convert-graph-to-libcall': "
                f"expected a library function implementing libcall.matmul ({', '.join(choices)})"
            )


class ConvertGraphToLibcallPass(Pass):
    """Map graph.matmul onto a native BLAS call (graph-dispatch-libcall chooses by rules)"""

    argument = "convert-graph-to-libcall"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        taken = symbol_names(module)
        for fn in functions(module):
            if FUSED in fn.attributes:
                continue
            for op in [op for op in walk(fn) if op.name == "graph.matmul"]:
                convert(op, self.options.matmul, taken)  # refused ops stay graph ops
