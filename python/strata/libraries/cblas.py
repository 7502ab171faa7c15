"""The CBLAS argument convention for `libcall.matmul`: `cblas_sgemm` and its strided batch form.

`libcall.matmul` multiplies logical shapes (out = lhs @ rhs, numpy broadcasting over batch
dimensions); how an operand lies in memory is its memref layout. This module maps layouts onto
CBLAS arguments: unit-stride rows are `NoTrans` with the row stride as leading dimension,
unit-stride columns (a transposed view, `memref.transpose`) are `Trans`. Batches run as one
`cblas_sgemm_batch_strided` call over the innermost batch dimension (stride 0 where an operand is
broadcast) inside loops over the others, or as loops of `cblas_sgemm` calls when the library has
no batch entry; a batched lhs times a 2-D rhs with contiguous rows is one call on the collapsed
rows.
Integer arguments are 32-bit (LP64 builds) or 64-bit (ILP64 builds, `int_width=64`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np
from mlir import ir
from mlir.dialects import arith, func, llvm, memref, scf

from strata.irutil import enclosing_module, index_constant, lookup_function

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


def matmul_reference(lhs: np.ndarray, rhs: np.ndarray, out: np.ndarray) -> None:
    """libcall.matmul's semantics: out = lhs @ rhs (numpy matmul, batches broadcast)."""
    out[...] = np.matmul(lhs, rhs)


@dataclass(frozen=True)
class OperandLayout:
    """How a matrix operand lies in memory: `trans` when its columns have unit stride,
    `ld` its leading dimension, `batch_strides` per batch dimension of the output (0 where the
    operand is broadcast)."""

    trans: bool
    ld: int
    batch_strides: list[int]


def _static_strides(t: ir.MemRefType) -> list[int] | None:
    strides, _ = t.get_strides_and_offset()
    dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
    return None if any(s == dynamic for s in strides) else list(strides)


def operand_layout(value: ir.Value, out_batch: list[int]) -> OperandLayout | str:
    """The layout of matrix operand `value`, or why CBLAS cannot take it."""
    t = value.type
    strides = _static_strides(t)
    if strides is None:
        return f"needs static strides, found {t}"
    *batch, rows, cols = list(t.shape)
    s_rows, s_cols = strides[-2:]
    if s_cols == 1 or cols == 1:
        if rows > 1 and s_rows < cols:
            return f"rows overlap in {t}"
        trans, ld = False, max(s_rows if rows > 1 else cols, 1)
    elif s_rows == 1 or rows == 1:
        if cols > 1 and s_cols < rows:
            return f"columns overlap in {t}"
        trans, ld = True, max(s_cols if cols > 1 else rows, 1)
    else:
        return f"needs unit-stride rows or columns, found {t}"
    aligned = [1] * (len(out_batch) - len(batch)) + batch
    aligned_strides = [0] * (len(out_batch) - len(batch)) + strides[:-2]
    batch_strides = [s if size != 1 else 0 for size, s in zip(aligned, aligned_strides)]
    return OperandLayout(trans, ld, batch_strides)


def _checked_layout(value: ir.Value, out_batch: list[int]) -> OperandLayout:
    layout = operand_layout(value, out_batch)
    assert isinstance(layout, OperandLayout), layout  # `accepts` checked every operand
    return layout


def accepts_matmul(element: str) -> Callable[[ir.Operation], str | None]:
    def accepts(op: ir.Operation) -> str | None:
        name = ir.StringAttr(op.attributes["callee"]).value
        out_batch = list(op.operands[2].type.shape)[:-2]
        for value in op.operands:
            if str(value.type.element_type) != element:
                return f"{name} takes {element} operands, found {value.type}"
            layout = operand_layout(value, out_batch)
            if isinstance(layout, str):
                return f"{name} {layout}"
        if _checked_layout(op.operands[2], out_batch).trans:
            return f"{name} writes row-major outputs, found {op.operands[2].type}"
        return None

    return accepts


def declare(module: ir.Operation, symbol: str, arg_types: list[ir.Type]) -> None:
    if lookup_function(module, symbol) is not None:
        return
    with ir.InsertionPoint.at_block_begin(module.regions[0].blocks[0]):
        func.FuncOp(symbol, (arg_types, []), visibility="private")


def element_pointer(value: ir.Value, index_offset: ir.Value | None = None) -> ir.Value:
    """A raw pointer to element `index_offset` (in elements, from the memref's own offset)."""
    i64, ptr = ir.IntegerType.get_signless(64), llvm.PointerType.get()
    meta = memref.ExtractStridedMetadataOp(value)
    base = memref.ExtractAlignedPointerAsIndexOp(value).result
    offset = meta.offset
    if index_offset is not None:
        offset = arith.AddIOp(offset, index_offset).result
    elem_bytes = index_constant(value.type.element_type.width // 8)
    address = arith.AddIOp(base, arith.MulIOp(offset, elem_bytes).result).result
    return llvm.IntToPtrOp(ptr, arith.IndexCastOp(i64, address).result).result


def _collapsible(value: ir.Value) -> bool:
    """A batched operand whose batch and row dimensions form one run of contiguous rows."""
    strides = _static_strides(value.type)
    if strides is None:
        return False
    shape = list(value.type.shape)
    expected = strides[-2]
    for d in range(len(shape) - 2, -1, -1):
        if strides[d] != expected and shape[d] != 1:
            return False
        expected *= shape[d]
    return strides[-1] == 1


def matmul_emitter(
    *, int_width: int = 32, batch_symbol: str | None = None
) -> Callable[[ir.Operation, Any], None]:
    """The `emit` of a CBLAS sgemm entry (`function.symbol` is cblas_sgemm; `batch_symbol`, when
    the library has it, is cblas_sgemm_batch_strided)."""

    def emit(op: ir.Operation, function: Any) -> None:
        lhs, rhs, out = op.operands
        out_batch = list(out.type.shape)[:-2]
        m, n = list(out.type.shape)[-2:]
        k = lhs.type.shape[-1]
        i32 = ir.IntegerType.get_signless(32)
        blasint = ir.IntegerType.get_signless(int_width)
        f32, ptr = ir.F32Type.get(), llvm.PointerType.get()
        module = enclosing_module(op)
        with ir.InsertionPoint(op), op.location:

            def enum(v: int) -> ir.Value:
                return arith.ConstantOp(i32, v).result

            def integer(v: int) -> ir.Value:
                return arith.ConstantOp(blasint, v).result

            def real(v: float) -> ir.Value:
                return arith.ConstantOp(f32, v).result

            la, lb, lc = (_checked_layout(v, out_batch) for v in (lhs, rhs, out))
            rows = m
            if out_batch and len(rhs.type.shape) == 2 and not la.trans:
                if _collapsible(lhs) and _collapsible(out):  # one call on all rows
                    rows, out_batch = m * math.prod(out_batch), []
            single = [ptr, blasint, ptr, blasint, f32, ptr, blasint]
            gemm_types = [i32, i32, i32, blasint, blasint, blasint, f32, *single]
            header = [
                enum(ROW_MAJOR),
                enum(TRANS if la.trans else NO_TRANS),
                enum(TRANS if lb.trans else NO_TRANS),
                integer(rows),
                integer(n),
                integer(k),
                real(1.0),
            ]
            use_batch = bool(out_batch) and batch_symbol is not None
            loops = out_batch[:-1] if use_batch else out_batch
            ivs: list[ir.Value] = []
            nest = ExitStack()
            for extent in loops:  # loops over the batch dimensions one call does not cover
                loop = scf.ForOp(index_constant(0), index_constant(extent), index_constant(1))
                ivs.append(loop.induction_variable)
                with ir.InsertionPoint(loop.body):
                    end = scf.YieldOp([])
                nest.enter_context(ir.InsertionPoint(end))

            def pointer(value: ir.Value, layout: OperandLayout) -> ir.Value:
                terms = [
                    arith.MulIOp(iv, index_constant(s)).result
                    for iv, s in zip(ivs, layout.batch_strides)
                    if s
                ]
                offset = None
                for term in terms:
                    offset = term if offset is None else arith.AddIOp(offset, term).result
                return element_pointer(value, offset)

            a, b, c = pointer(lhs, la), pointer(rhs, lb), pointer(out, lc)
            if use_batch:
                assert batch_symbol is not None
                strides = [x.batch_strides[-1] for x in (la, lb, lc)]
                types = [i32, i32, i32, blasint, blasint, blasint, f32]
                types += [ptr, blasint, blasint, ptr, blasint, blasint, f32, ptr, blasint]
                types += [blasint, blasint]
                declare(module, batch_symbol, types)
                args = [*header, a, integer(la.ld), integer(strides[0])]
                args += [b, integer(lb.ld), integer(strides[1]), real(0.0)]
                args += [c, integer(lc.ld), integer(strides[2]), integer(out_batch[-1])]
                func.CallOp([], batch_symbol, args)
            else:
                declare(module, function.symbol, gemm_types)
                args = [*header, a, integer(la.ld), b, integer(lb.ld), real(0.0), c]
                args.append(integer(lc.ld))
                func.CallOp([], function.symbol, args)
            nest.close()
        op.erase()

    return emit
