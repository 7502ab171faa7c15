"""hwprim-expand-microkernels and convert-hwprim-to-vector: CPU hardware primitives down to the
`vector` dialect.

hwprim-expand-microkernels: `hwprim.fma_microkernel` / `hwprim.dot_i8_microkernel` on memref
tiles -> the register instructions `hwprim.vload` / `vbroadcast` / `vfma` / `dot_i8` / `vstore`:
the accumulator tile loaded into vector registers, a K loop carried in `iter_args`, the stores.
The f32 kernel broadcasts one lhs element per row and issues one vfma per accumulator register
(of the kernel's `vector_width`); the int8 kernel broadcasts 4 lhs bytes per row and issues one
`dot_i8` (vpdpbusd) per accumulator register.
convert-hwprim-to-vector: expands the micro-kernels, then lowers the register instructions to
`vector.load` / `broadcast` / `fma` / `store` (`convert-vector-to-llvm` makes the FMAs
`llvm.intr.fmuladd`: vfmadd on x86) and `hwprim.dot_i8` to a call of the VNNI intrinsic
`llvm.x86.avx512.vpdpbusd.{512,256}`.
"""

from __future__ import annotations

import numpy as np
from mlir import ir
from mlir.dialects import arith, llvm, memref, scf, vector

from strata.dialects.hwprim import DotI8Op, VBroadcastOp, VFmaOp, VLoadOp, VStoreOp
from strata.interpreter.core import Kernel, OpContext, semantics
from strata.interpreter.memory import write_array
from strata.interpreter.values import Trap
from strata.irutil import enclosing_module, index_constant, symbol_names, walk
from strata.passes import Pass


def expand_fma_microkernel(op: ir.Operation) -> None:
    """MR x NR accumulators as MR x ceil(NR / width) vector registers of the target's width
    (the last one partial when NR is not a multiple), one broadcast per row and k."""
    kernel = op.opview
    rows, cols = kernel.acc.type.shape
    depth = kernel.lhs.type.shape[1]
    width = kernel.vector_width
    element = kernel.acc.type.element_type
    pieces = [(c, min(width, cols - c)) for c in range(0, cols, width)]
    types = {n: ir.VectorType.get([n], element) for _, n in pieces}
    with ir.InsertionPoint(op), op.location:
        zero = index_constant(0)
        row_index = [index_constant(r) for r in range(rows)]
        col_index = [index_constant(c) for c, _ in pieces]
        accs = [
            VLoadOp(types[n], kernel.acc, [row_index[r], col_index[p]]).result
            for r in range(rows)
            for p, (_, n) in enumerate(pieces)
        ]
        loop = scf.ForOp(zero, index_constant(depth), index_constant(1), accs)
        with ir.InsertionPoint(loop.body):
            k = loop.induction_variable
            b = [
                VLoadOp(types[n], kernel.rhs, [k, col_index[p]]).result
                for p, (_, n) in enumerate(pieces)
            ]
            updated = []
            for r in range(rows):
                a = memref.LoadOp(kernel.lhs, [row_index[r], k]).result
                splats = {n: VBroadcastOp(types[n], a).result for n in types}
                for p, (_, n) in enumerate(pieces):
                    previous = loop.inner_iter_args[r * len(pieces) + p]
                    updated.append(VFmaOp(splats[n], b[p], previous).result)
            scf.YieldOp(updated)
        for r in range(rows):
            for p in range(len(pieces)):
                result = loop.results[r * len(pieces) + p]
                VStoreOp(result, kernel.acc, [row_index[r], col_index[p]])
    op.erase()


def expand_dot_i8_microkernel(op: ir.Operation) -> None:
    kernel = op.opview
    rows, cols = kernel.acc.type.shape
    width = kernel.vector_width
    steps = kernel.rhs.type.shape[0]  # K / 4
    i8, i32 = ir.IntegerType.get_signless(8), ir.IntegerType.get_signless(32)
    acc_type, byte_type = ir.VectorType.get([width], i32), ir.VectorType.get([4 * width], i8)
    with ir.InsertionPoint(op), op.location:
        zero = index_constant(0)
        chunks = [index_constant(c * width) for c in range(cols // width)]
        row_index = [index_constant(r) for r in range(rows)]
        accs = [
            VLoadOp(acc_type, kernel.acc, [row_index[r], c]).result
            for r in range(rows)
            for c in chunks
        ]
        loop = scf.ForOp(zero, index_constant(steps), index_constant(1), accs)
        with ir.InsertionPoint(loop.body):
            step = loop.induction_variable
            four = index_constant(4)
            k = arith.MulIOp(step, four).result
            rhs = [
                VLoadOp(byte_type, kernel.rhs, [step, arith.MulIOp(c, four).result]).result
                for c in chunks
            ]
            updated = []
            for r in range(rows):
                quad = VLoadOp(ir.VectorType.get([4], i8), kernel.lhs, [row_index[r], k])
                word = vector.BitCastOp(ir.VectorType.get([1], i32), quad.result).result
                scalar = vector.ExtractOp(word, [], [0]).result
                splat = VBroadcastOp(acc_type, scalar).result
                lhs = vector.BitCastOp(byte_type, splat).result
                for c in range(len(chunks)):
                    previous = loop.inner_iter_args[r * len(chunks) + c]
                    updated.append(DotI8Op(previous, lhs, rhs[c]).result)
            scf.YieldOp(updated)
        for r in range(rows):
            for c, column in enumerate(chunks):
                result = loop.results[r * len(chunks) + c]
                VStoreOp(result, kernel.acc, [row_index[r], column])
    op.erase()


NO_MEMORY = (
    "#llvm.memory_effects<other = none, argMem = none, inaccessibleMem = none, errnoMem = none, "
    "targetMem0 = none, targetMem1 = none>"
)


def lower_dot_i8(op: ir.Operation) -> None:
    """hwprim.dot_i8 -> a call of the VNNI intrinsic (512-bit for 16 lanes, 256-bit for 8).

    The intrinsic is declared as an `llvm.func` named `llvm.x86...` and called with `llvm.call`
    marked free of memory effects: `llvm.call_intrinsic` has unknown effects, which the buffer
    deallocation pipeline (run later) rejects."""
    acc, lhs, rhs = op.operands
    lanes = acc.type.shape[0]
    name = {16: "llvm.x86.avx512.vpdpbusd.512", 8: "llvm.x86.avx512.vpdpbusd.256"}[lanes]
    module = enclosing_module(op)
    assert module is not None, "hwprim.dot_i8 outside a module"
    if name not in symbol_names(module):
        with ir.InsertionPoint.at_block_begin(module.regions[0].blocks[0]), op.location:
            fn_type = ir.Type.parse(f"!llvm.func<{acc.type} ({acc.type}, {lhs.type}, {rhs.type})>")
            llvm.LLVMFuncOp(name, ir.TypeAttr.get(fn_type))
    with ir.InsertionPoint(op), op.location:
        call = ir.Operation.create(
            "llvm.call",
            results=[acc.type],
            operands=[acc, lhs, rhs],
            attributes={
                "callee": ir.FlatSymbolRefAttr.get(name),
                "memory_effects": ir.Attribute.parse(NO_MEMORY),
                "operandSegmentSizes": ir.DenseI32ArrayAttr.get([3, 0]),
                "op_bundle_sizes": ir.DenseI32ArrayAttr.get([]),
            },
        )
    op.results[0].replace_all_uses_with(call.results[0])
    op.erase()


def lower_register_op(op: ir.Operation) -> None:
    """hwprim.vload / vstore / vbroadcast / vfma -> their `vector` dialect ops."""
    operands = list(op.operands)
    with ir.InsertionPoint(op), op.location:
        if op.name == "hwprim.vload":
            new = vector.LoadOp(op.results[0].type, operands[0], operands[1:]).result
        elif op.name == "hwprim.vstore":
            vector.StoreOp(operands[0], operands[1], operands[2:])
            new = None
        elif op.name == "hwprim.vbroadcast":
            new = vector.BroadcastOp(op.results[0].type, operands[0]).result
        else:
            new = vector.FMAOp(*operands).result
    if new is not None:
        op.results[0].replace_all_uses_with(new)
    op.erase()


MICROKERNELS = {
    "hwprim.fma_microkernel": expand_fma_microkernel,
    "hwprim.dot_i8_microkernel": expand_dot_i8_microkernel,
}
REGISTER_OPS = ("hwprim.vload", "hwprim.vstore", "hwprim.vbroadcast", "hwprim.vfma")


def expand_microkernels(module: ir.Operation) -> None:
    for op in [op for op in walk(module) if op.name in MICROKERNELS]:
        MICROKERNELS[op.name](op)


class HwprimExpandMicrokernelsPass(Pass):
    """Expand hwprim micro-kernels into hwprim register instructions (vload, vbroadcast, vfma,
    dot_i8, vstore) in a K loop"""

    argument = "hwprim-expand-microkernels"

    def run(self, module: ir.Operation) -> None:
        expand_microkernels(module)


class ConvertHwprimToVectorPass(Pass):
    """Lower hwprim micro-kernels and register instructions to vector ops and VNNI calls"""

    argument = "convert-hwprim-to-vector"

    def run(self, module: ir.Operation) -> None:
        expand_microkernels(module)
        for op in [op for op in walk(module) if op.name in REGISTER_OPS]:
            lower_register_op(op)
        for op in [op for op in walk(module) if op.name == "hwprim.dot_i8"]:
            lower_dot_i8(op)


# --- simulator semantics (strata.simulate) of the primitives lowered above ------------------------
# Micro-kernels compute as the vector code they lower to: `fma_microkernel` accumulates one k at a
# time with a single rounding per multiply-add (the FMA instruction), so the simulation matches
# the compiled kernel bit for bit; `dot_i8` and the vpdpbusd calls it becomes wrap around in i32.
# (hwprim.vload / vstore / vbroadcast / vfma share the semantics of their vector ops.)


@semantics("hwprim.fma_microkernel")
def _fma_microkernel(op: OpContext) -> Kernel:
    def run(lhs: np.ndarray, rhs: np.ndarray, acc: np.ndarray) -> None:
        (m, depth), (depth_rhs, n) = lhs.shape, rhs.shape
        if depth != depth_rhs or acc.shape != (m, n):
            raise Trap(
                f"shapes do not form acc[MxN] += lhs[MxK] * rhs[KxN]: lhs {list(lhs.shape)}, "
                f"rhs {list(rhs.shape)}, acc {list(acc.shape)}"
            )
        a, b = lhs.astype(np.float64), rhs.astype(np.float64)
        c = np.array(acc)
        for k in range(depth):  # f32 products are exact in f64: one rounding per step
            c = (a[:, k : k + 1] * b[k] + c).astype(acc.dtype)
        write_array(acc, ..., c)

    return run


@semantics("hwprim.dot_i8_microkernel")
def _dot_i8_microkernel(op: OpContext) -> Kernel:
    def run(lhs: np.ndarray, rhs: np.ndarray, acc: np.ndarray) -> None:
        (m, depth), (quads, n4) = lhs.shape, rhs.shape
        if depth != 4 * quads or acc.shape != (m, n4 // 4) or n4 % 4:
            raise Trap(
                f"shapes do not form acc[MxN] += lhs[MxK] * rhs[K/4 x 4N]: lhs {list(lhs.shape)}, "
                f"rhs {list(rhs.shape)}, acc {list(acc.shape)}"
            )
        unsigned = lhs.view(np.uint8).astype(np.int64)
        # rhs[k // 4, 4 * j + k % 4] as a K x N matrix
        signed = rhs.astype(np.int64).reshape(quads, n4 // 4, 4).transpose(0, 2, 1)
        total = acc.astype(np.int64) + unsigned @ signed.reshape(depth, n4 // 4)
        write_array(acc, ..., total.astype(acc.dtype))  # wraps around, as vpdpbusd does

    return run


@semantics("hwprim.dot_i8")
def _dot_i8(op: OpContext) -> Kernel:
    def run(acc: np.ndarray, lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        lanes = acc.shape[0]
        unsigned = lhs.view(np.uint8).astype(np.int64).reshape(lanes, 4)
        signed = rhs.astype(np.int64).reshape(lanes, 4)
        return (acc.astype(np.int64) + (unsigned * signed).sum(axis=1)).astype(acc.dtype)

    return run


# LLVM intrinsics the hwprim lowering calls (`llvm.call` of an `llvm.x86...` declaration).
_INTRINSICS = {
    "llvm.x86.avx512.vpdpbusd.512": _dot_i8,
    "llvm.x86.avx512.vpdpbusd.256": _dot_i8,
}


@semantics("llvm.call")
def _llvm_call(op: OpContext) -> Kernel:
    callee = ir.FlatSymbolRefAttr(op.op.attributes["callee"]).value
    prepare = _INTRINSICS.get(callee)
    if prepare is None:
        raise op.error(f"no simulator semantics for the call of '{callee}'")
    kernel = prepare(op)
    assert callable(kernel)
    return kernel
