"""convert-graph-to-libcall: map graph ops onto native library calls (MLC chapter 3).

Input: `graph` functions. Output: each 2-D f32 `graph.matmul` becomes a call of a private
tensor program whose body is one `libcall.matmul` (destination-passing, `openblas.sgemm`);
other ops are left for `convert-graph-to-tprog`.
"""

from __future__ import annotations

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


def _accepted(op: ir.Operation) -> bool:
    return all(len(v.type.shape) == 2 and str(v.type.element_type) == "f32" for v in op.operands)


class ConvertGraphToLibcallPass(Pass):
    """Map graph.matmul onto a native BLAS call"""

    argument = "convert-graph-to-libcall"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        taken = symbol_names(module)
        for fn in functions(module):
            if FUSED in fn.attributes:
                continue
            for op in [op for op in walk(fn) if op.name == "graph.matmul" and _accepted(op)]:
                callee = unique_symbol(self.options.matmul.replace(".", "_"), taken)
                with op.location:
                    prim = new_prim_func(
                        fn, callee, [v.type for v in op.operands], [op.results[0].type]
                    )
                    lhs, rhs, out = prim.regions[0].blocks[0].arguments
                    with ir.InsertionPoint(prim.regions[0].blocks[0]):
                        MatmulOp(lhs, rhs, out, callee=self.options.matmul)
                        func.ReturnOp([])
                    with ir.InsertionPoint(op):
                        (value,) = call_prim_func(callee, list(op.operands), [op.results[0].type])
                op.results[0].replace_all_uses_with(value)
                op.erase()
