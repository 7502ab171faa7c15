"""OpenBLAS from the `scipy-openblas32` wheel (32-bit integers, symbols prefixed `scipy_`)."""

from __future__ import annotations

from pathlib import Path

from mlir import ir
from mlir.dialects import arith, func, llvm, memref

from strata.irutil import enclosing_module, lookup_function
from strata.libraries.registry import Library, LibraryFunction, register

CBLAS_ROW_MAJOR, CBLAS_NO_TRANS = 101, 111


def _locate() -> Path | None:
    try:
        import scipy_openblas32
    except ImportError:
        return None
    path = Path(scipy_openblas32.get_lib_dir()) / "libscipy_openblas.so"
    return path if path.is_file() else None


OPENBLAS = Library("openblas", _locate)


def _accepts_sgemm(op: ir.Operation) -> str | None:
    for value in op.operands:
        t = value.type
        if str(t.element_type) != "f32":
            return f"openblas.sgemm takes f32 operands, found {t}"
        strides, _ = t.get_strides_and_offset()
        if strides[-1] != 1:
            return f"openblas.sgemm needs unit-stride rows, found {t}"
    return None


def _declare(module: ir.Operation, symbol: str, arg_types: list[ir.Type]) -> None:
    if lookup_function(module, symbol) is not None:
        return
    with ir.InsertionPoint.at_block_begin(module.regions[0].blocks[0]):
        func.FuncOp(symbol, (arg_types, []), visibility="private")


def _pointer_and_ld(value: ir.Value) -> tuple[ir.Value, ir.Value]:
    """A raw pointer to the first element of a 2-D memref, and its row stride (as i32)."""
    i32, i64, ptr = (
        ir.IntegerType.get_signless(32),
        ir.IntegerType.get_signless(64),
        llvm.PointerType.get(),
    )
    meta = memref.ExtractStridedMetadataOp(value)
    base = memref.ExtractAlignedPointerAsIndexOp(value).result
    elem_bytes = ir.IntegerAttr.get(ir.IndexType.get(), value.type.element_type.width // 8)
    offset_bytes = arith.MulIOp(
        meta.offset, arith.ConstantOp(ir.IndexType.get(), elem_bytes).result
    ).result
    address = arith.IndexCastOp(i64, arith.AddIOp(base, offset_bytes).result).result
    pointer = llvm.IntToPtrOp(ptr, address).result
    ld = arith.IndexCastOp(i32, meta.strides[0]).result
    return pointer, ld


def _emit_sgemm(op: ir.Operation, function: LibraryFunction) -> None:
    i32, f32, ptr = ir.IntegerType.get_signless(32), ir.F32Type.get(), llvm.PointerType.get()
    module = enclosing_module(op)
    _declare(
        module,
        function.symbol,
        [i32, i32, i32, i32, i32, i32, f32, ptr, i32, ptr, i32, f32, ptr, i32],
    )
    lhs, rhs, out = op.operands
    (m, k), n = lhs.type.shape, rhs.type.shape[1]
    with ir.InsertionPoint(op), op.location:
        a, lda = _pointer_and_ld(lhs)
        b, ldb = _pointer_and_ld(rhs)
        c, ldc = _pointer_and_ld(out)

        def c32(v: int) -> ir.Value:
            return arith.ConstantOp(i32, v).result

        def f(v: float) -> ir.Value:
            return arith.ConstantOp(f32, v).result

        args = [
            c32(CBLAS_ROW_MAJOR),
            c32(CBLAS_NO_TRANS),
            c32(CBLAS_NO_TRANS),
            c32(m),
            c32(n),
            c32(k),
        ]
        args += [f(1.0), a, lda, b, ldb, f(0.0), c, ldc]
        func.CallOp([], function.symbol, args)
    op.erase()


SGEMM = register(
    LibraryFunction(
        name="openblas.sgemm",
        op="libcall.matmul",
        library=OPENBLAS,
        symbol="scipy_cblas_sgemm",
        accepts=_accepts_sgemm,
        emit=_emit_sgemm,
    )
)
