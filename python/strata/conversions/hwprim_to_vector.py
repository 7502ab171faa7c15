"""convert-hwprim-to-vector: lower CPU hardware primitives to the `vector` dialect.

Input: `hwprim.fma_microkernel` on memref tiles. Output: the accumulator tile loaded into MR
vector registers, a K loop of broadcast + `vector.fma` carried in `iter_args`, and the stores;
`convert-vector-to-llvm` turns the FMAs into `llvm.intr.fmuladd` (vfmadd on x86).
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import memref, scf, vector

from strata.irutil import index_constant, walk
from strata.passes import Pass


def lower_fma_microkernel(op: ir.Operation) -> None:
    kernel = op.opview
    rows, cols = kernel.acc.type.shape
    depth = kernel.lhs.type.shape[1]
    vtype = ir.VectorType.get([cols], kernel.acc.type.element_type)
    with ir.InsertionPoint(op), op.location:
        zero = index_constant(0)
        row_index = [index_constant(r) for r in range(rows)]
        accs = [vector.LoadOp(vtype, kernel.acc, [row_index[r], zero]).result for r in range(rows)]
        loop = scf.ForOp(zero, index_constant(depth), index_constant(1), accs)
        with ir.InsertionPoint(loop.body):
            k = loop.induction_variable
            b = vector.LoadOp(vtype, kernel.rhs, [k, zero]).result
            updated = []
            for r in range(rows):
                a = memref.LoadOp(kernel.lhs, [row_index[r], k]).result
                splat = vector.BroadcastOp(vtype, a).result
                updated.append(vector.FMAOp(splat, b, loop.inner_iter_args[r]).result)
            scf.YieldOp(updated)
        for r in range(rows):
            vector.StoreOp(loop.results[r], kernel.acc, [row_index[r], zero])
    op.erase()


class ConvertHwprimToVectorPass(Pass):
    """Lower hwprim micro-kernels to vector loads, broadcasts and FMAs"""

    argument = "convert-hwprim-to-vector"

    def run(self, module: ir.Operation) -> None:
        for op in [op for op in walk(module) if op.name == "hwprim.fma_microkernel"]:
            lower_fma_microkernel(op)
