"""Library functions registered by users (the course's `register_global_func`).

`register_function` declares a native function by its name in `libcall`, the libcall op it
implements, the shared library and symbol, and its argument convention:

- `cblas_sgemm` / `cblas_sgemm64`: a CBLAS sgemm with 32-bit (LP64) or 64-bit (ILP64) integers,
  for `libcall.matmul` (batches become loops of calls; transposed views pass as Trans);
- `memref`: `void f(T *p0, i64 sizes0[r0]..., i64 strides0[r0]..., T *p1, ..., i64 attrs...)`:
  for each operand (inputs, then the output) a pointer to its first element, its sizes and its
  strides in elements, then the op's integer attributes (arrays flattened) in name order.

The numpy `reference` (the simulator runs it instead of the library) defaults to the op's own
semantics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from mlir import ir
from mlir.dialects import arith, func

from strata.irutil import enclosing_module
from strata.libraries import cblas
from strata.libraries.registry import Library, LibraryFunction, Reference, register

CONVENTIONS = ("cblas_sgemm", "cblas_sgemm64", "memref")

# The semantics of each libcall op, the default reference of a user's function.
OP_REFERENCES: dict[str, Reference] = {"libcall.matmul": cblas.matmul_reference}


def _memref_accepts(dtypes: Sequence[str]) -> Callable[[ir.Operation], str | None]:
    def accepts(op: ir.Operation) -> str | None:
        name = ir.StringAttr(op.attributes["callee"]).value
        for value in op.operands:
            if str(value.type.element_type) not in dtypes:
                return f"{name} takes {'/'.join(dtypes)} operands, found {value.type}"
            strides, _ = value.type.get_strides_and_offset()
            if any(s == ir.ShapedType.get_dynamic_stride_or_offset() for s in strides):
                return f"{name} needs static strides, found {value.type}"
        return None

    return accepts


def _integer_attributes(op: ir.Operation) -> list[int]:
    values: list[int] = []
    for name in sorted(op.attributes):
        attr = op.attributes[name]
        if isinstance(attr, ir.IntegerAttr) and not isinstance(attr, ir.BoolAttr):
            values.append(attr.value)
        elif isinstance(attr, ir.DenseI64ArrayAttr):
            values += list(attr)
    return values


def _emit_memref(op: ir.Operation, function: LibraryFunction) -> None:
    i64 = ir.IntegerType.get_signless(64)
    with ir.InsertionPoint(op), op.location:
        args: list[ir.Value] = []
        for value in op.operands:
            args.append(cblas.element_pointer(value))
            strides, _ = value.type.get_strides_and_offset()
            for n in [*value.type.shape, *strides]:
                args.append(arith.ConstantOp(i64, n).result)
        args += [arith.ConstantOp(i64, v).result for v in _integer_attributes(op)]
        cblas.declare(enclosing_module(op), function.symbol, [a.type for a in args])
        func.CallOp([], function.symbol, args)
    op.erase()


def register_function(
    name: str,
    op: str,
    *,
    library: str | Path | Library,
    symbol: str,
    convention: str = "memref",
    reference: Reference | None = None,
    dtypes: Sequence[str] = ("f32",),
    accepts: Callable[[ir.Operation], str | None] | None = None,
) -> LibraryFunction:
    """Register native function `symbol` of `library` as `name`, implementing libcall op `op`
    (then usable in `graph-dispatch-libcall` rules: `graph.matmul:<name>`). Returns the entry
    (`registry.unregister(name)` removes it). ValueError on a bad declaration."""
    from strata.dialects import make_context

    if "." not in name or name.startswith(".") or name.endswith("."):
        raise ValueError(f"library function name '{name}' must look like '<library>.<function>'")
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention '{convention}'; expected one of {CONVENTIONS}")
    if not make_context().is_registered_operation(op) or not op.startswith("libcall."):
        raise ValueError(f"'{op}' is not a libcall op")
    if convention.startswith("cblas") and op != "libcall.matmul":
        raise ValueError(f"convention '{convention}' implements libcall.matmul, not '{op}'")
    if reference is None:
        reference = OP_REFERENCES.get(op)
        if reference is None:
            raise ValueError(f"give a numpy reference for '{name}': '{op}' has no default")
    if not isinstance(library, Library):
        path = Path(library)
        library = Library(name.split(".")[0], lambda: path if path.is_file() else None)
    if convention.startswith("cblas"):
        width = 64 if convention == "cblas_sgemm64" else 32
        emit = cblas.matmul_emitter(int_width=width)
        accepts = accepts or cblas.accepts_matmul("f32")
    else:
        emit, accepts = _emit_memref, accepts or _memref_accepts(dtypes)
    return register(
        LibraryFunction(
            name=name,
            op=op,
            library=library,
            symbol=symbol,
            accepts=accepts,
            emit=emit,
            reference=reference,
            convention=convention,
        )
    )
