"""Semantics of the hardware primitives (`hwprim`) and library calls (`libcall`).

Micro-kernels compute as the vector code they lower to: `fma_microkernel` accumulates one k at a
time with a single rounding per multiply-add (the FMA instruction), so the simulation matches the
compiled kernel bit for bit. A library call runs its registry entry's numpy `reference` (the
native library is never loaded); an entry without one falls back to the op's own semantics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mlir import ir

from strata.interpreter.core import Kernel, OpContext, semantics
from strata.interpreter.memory import write_array
from strata.interpreter.values import Trap, python_value


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
