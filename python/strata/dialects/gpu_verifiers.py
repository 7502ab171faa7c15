"""Verifiers of the TensorCore `hwprim` ops (ldmatrix, frag_load, mma_sync, frag_store, wgmma and
its fence/commit/wait/store, cp_async and its wait, round_tf32): the element types, shapes and
memory spaces IRDL cannot express. f16 and bf16 fragments are the m16n8k16 / m64nNk16 forms, f32
ones the TF32 forms (m16n8k8 / m64nNk8).

`GPU_VERIFIERS` maps op names to checks raising a located `CompileError`; `verifiers.VERIFIERS`
merges it, so strata-opt runs them right after parsing.
"""

from __future__ import annotations

from collections.abc import Callable

from mlir import ir

from strata.diagnostics import CompileError

HALF_TYPES = ("f16", "bf16")
TENSORCORE_TYPES = ("f16", "bf16", "f32")  # f32: read as TF32
STORE_TYPES = ("f32", "f16", "bf16")
WGMMA_MAX_N = 256
# (tf32?, operand) -> the mma.sync fragment's matrix rows, columns and elements per lane
FRAGMENTS = {
    (False, "a"): (16, 16, 8),
    (False, "b"): (16, 8, 4),
    (True, "a"): (16, 8, 4),
    (True, "b"): (8, 8, 2),
}


def is_shared(t: ir.MemRefType) -> bool:
    """True for a memref in shared memory (`#gpu.address_space<workgroup>`, or 3)."""
    space = t.memory_space
    return space is not None and str(space) in ("#gpu.address_space<workgroup>", "3", "3 : i64")


def _strides(op: ir.Operation, t: ir.MemRefType, what: str) -> list[int]:
    try:
        strides, _ = t.get_strides_and_offset()
    except (RuntimeError, ValueError):
        raise CompileError(f"{what} must have a strided layout, found {t}", op.location) from None
    return list(strides)


def _vector(op: ir.Operation, t: ir.Type, what: str) -> ir.VectorType:
    if not isinstance(t, ir.VectorType) or t.rank != 1 or t.scalable:
        raise CompileError(f"{what} must be a 1-D vector, found {t}", op.location)
    return t


def _half(op: ir.Operation, t: ir.ShapedType, what: str) -> str:
    element = str(t.element_type)
    if element not in HALF_TYPES:
        raise CompileError(f"{what} must hold f16 or bf16, found {t}", op.location)
    return element


def _tensorcore(op: ir.Operation, t: ir.ShapedType, what: str) -> str:
    element = str(t.element_type)
    if element not in TENSORCORE_TYPES:
        raise CompileError(f"{what} must hold f16, bf16 or f32 (tf32), found {t}", op.location)
    return element


def _tile(op: ir.Operation, value: ir.Value, what: str, rank: int) -> ir.MemRefType:
    t = value.type
    if t.rank != rank or not t.has_static_shape:
        raise CompileError(f"{what} must be a static {rank}-D memref, found {t}", op.location)
    return t


def _shared_tile(op: ir.Operation, value: ir.Value, what: str, rank: int) -> ir.MemRefType:
    t = _tile(op, value, what, rank)
    if not is_shared(t):
        raise CompileError(
            f"{what} must be in shared memory (#gpu.address_space<workgroup>), found {t}",
            op.location,
        )
    if _strides(op, t, what)[-1] != 1:
        raise CompileError(
            f"{what} must have a contiguous innermost dimension, found {t}", op.location
        )
    return t


def _core_width(element: str) -> int:
    """Elements in a 16-byte row of a core matrix (wgmma) or of an ldmatrix matrix."""
    return 4 if element == "f32" else 8


def _verify_ldmatrix(op: ir.Operation) -> None:
    tile = _shared_tile(op, op.operands[0], "ldmatrix tile", 2)
    element = _tensorcore(op, tile, "ldmatrix tile")
    rows, cols = tile.shape
    width = _core_width(element)
    count = (rows // 8) * (cols // width)
    if rows % 8 or cols % width or count not in (1, 2, 4):
        raise CompileError(
            f"ldmatrix loads 1, 2 or 4 8x{width} matrices: the tile must be [8R, {width}C] with "
            f"R*C in (1, 2, 4), found {rows}x{cols}",
            op.location,
        )
    trans = op.attributes["trans"]
    if not (isinstance(trans, ir.BoolAttr) or str(trans) in ("true", "false")):
        raise CompileError(f"'trans' must be a bool (true or false), found {trans}", op.location)
    if element == "f32" and str(trans) == "true":
        raise CompileError(
            "ldmatrix .trans transposes 16-bit elements: an f32 tile takes trans = false "
            "(load a transposed 32-bit fragment with hwprim.frag_load)",
            op.location,
        )
    result = _vector(op, op.results[0].type, "ldmatrix result")
    registers = count if element == "f32" else 2 * count
    if result.shape[0] != registers or str(result.element_type) != element:
        raise CompileError(
            f"ldmatrix of {count} matrices gives vector<{registers}x{element}> per lane, "
            f"found {result}",
            op.location,
        )


def _verify_frag_load(op: ir.Operation) -> None:
    tile = _tile(op, op.operands[0], "frag_load tile", 2)
    element = _tensorcore(op, tile, "frag_load tile")
    _strides(op, tile, "frag_load tile")
    operand = op.attributes["operand"]
    if not isinstance(operand, ir.StringAttr) or operand.value not in ("a", "b"):
        raise CompileError(f'\'operand\' must be "a" or "b", found {operand}', op.location)
    rows, cols, count = FRAGMENTS[element == "f32", operand.value]
    result = _vector(op, op.results[0].type, "frag_load result")
    if (
        list(tile.shape) != [rows, cols]
        or result.shape[0] != count
        or str(result.element_type) != element
    ):
        raise CompileError(
            f"frag_load of operand {operand.value} on {element} reads a {rows}x{cols} tile into "
            f"vector<{count}x{element}> per lane, found {tile} and {result}",
            op.location,
        )


def _verify_mma_sync(op: ir.Operation) -> None:
    a, b, c = (_vector(op, v.type, n) for v, n in zip(op.operands, ("a", "b", "c")))
    if str(a.element_type) == "f32":
        if [a.shape[0], b.shape[0], str(b.element_type)] != [4, 2, "f32"]:
            raise CompileError(
                f"mma_sync m16n8k8 .tf32 takes a: vector<4xf32> and b: vector<2xf32> per lane, "
                f"found {a} and {b}",
                op.location,
            )
    else:
        element = _half(op, a, "mma_sync a")
        if [a.shape[0], b.shape[0], str(b.element_type)] != [8, 4, element]:
            raise CompileError(
                f"mma_sync m16n8k16 takes a: vector<8x{element}> and b: vector<4x{element}> "
                f"per lane, found {a} and {b}",
                op.location,
            )
    if c.shape[0] != 4 or str(c.element_type) != "f32":
        raise CompileError(
            f"mma_sync accumulates into vector<4xf32> per lane, found {c}", op.location
        )


def _verify_store(op: ir.Operation, lanes: int) -> None:
    frag = _vector(op, op.operands[0].type, f"{op.name} value")
    base = op.operands[1].type
    indices = len(op.operands) - 2
    if base.rank < 2 or str(base.element_type) not in STORE_TYPES:
        raise CompileError(
            f"{op.name} stores into a memref of rank >= 2 of f32, f16 or bf16, found {base}",
            op.location,
        )
    if indices != base.rank:
        raise CompileError(
            f"{op.name} takes {base.rank} indices for {base}, found {indices}", op.location
        )
    n = frag.shape[0]
    valid = n == 4 if lanes == 32 else n % 4 == 0 and 4 <= n <= WGMMA_MAX_N // 2
    if str(frag.element_type) != "f32" or not valid:
        expected = "vector<4xf32>" if lanes == 32 else "vector<(N/2)xf32> with N in 8, 16, ..., 256"
        raise CompileError(
            f"{op.name} takes an f32 accumulator {expected}, found {frag}", op.location
        )


def _verify_wgmma(op: ir.Operation) -> None:
    acc = _vector(op, op.operands[0].type, "wgmma accumulator")
    a = _shared_tile(op, op.operands[1], "wgmma a", 4)
    b = _shared_tile(op, op.operands[2], "wgmma b", 4)
    element = _tensorcore(op, a, "wgmma a")
    if str(b.element_type) != element:
        raise CompileError(f"wgmma a and b differ in element type: {a} and {b}", op.location)
    w = _core_width(element)
    b_major = "K-major" if element == "f32" else "MN-major"  # tf32 has no transposed B
    for t, what, layout in ((a, "a", f"8x2x8x{w} K-major"), (b, "b", f"(N/8)x2x8x{w} {b_major}")):
        shape, strides = list(t.shape), _strides(op, t, f"wgmma {what}")
        if shape[1:] != [2, 8, w] or (what == "a" and shape[0] != 8) or strides[2:] != [w, 1]:
            raise CompileError(
                f"wgmma {what} must be {layout} core matrices of 128 contiguous bytes "
                f"(strides [?, ?, {w}, 1]), found {t}",
                op.location,
            )
    n = 8 * b.shape[0]
    if not 8 <= n <= WGMMA_MAX_N:
        raise CompileError(f"wgmma N must be 8 to {WGMMA_MAX_N}, found {n}", op.location)
    if str(acc.element_type) != "f32" or acc.shape[0] != n // 2:
        raise CompileError(
            f"wgmma m64n{n}k{2 * w} accumulates into vector<{n // 2}xf32> per thread, found {acc}",
            op.location,
        )


def _verify_cp_async(op: ir.Operation) -> None:
    dst = _shared_tile(op, op.operands[0], "cp_async destination", 1)
    element = _tensorcore(op, dst, "cp_async destination")
    w = _core_width(element)
    if dst.shape[0] != w:
        raise CompileError(
            f"cp_async copies 16 bytes: the destination must be memref<{w}x{element}>, found {dst}",
            op.location,
        )
    src = op.operands[1].type
    strides = _strides(op, src, "cp_async source")
    if str(src.element_type) != element or strides[-1] != 1 or src.shape[-1] % w:
        raise CompileError(
            f"cp_async reads a memref of {element} whose last dimension is contiguous and a "
            f"static multiple of {w}, found {src}",
            op.location,
        )
    if len(op.operands) - 2 != src.rank:
        raise CompileError(
            f"cp_async takes {src.rank} indices for {src}, found {len(op.operands) - 2}",
            op.location,
        )


def _verify_round_tf32(op: ir.Operation) -> None:
    t = op.operands[0].type
    element = ir.VectorType(t).element_type if isinstance(t, ir.VectorType) else t
    if str(element) != "f32" or (isinstance(t, ir.VectorType) and (t.rank != 1 or t.scalable)):
        raise CompileError(f"round_tf32 rounds f32 or a 1-D vector of f32, found {t}", op.location)


def _verify_wgmma_wait(op: ir.Operation) -> None:
    pending = op.attributes["pending"]
    if isinstance(pending, ir.BoolAttr) or ir.IntegerAttr(pending).value < 0:
        raise CompileError(
            f"'pending' must be a non-negative integer, found {pending}", op.location
        )


GPU_VERIFIERS: dict[str, Callable[[ir.Operation], None]] = {
    "hwprim.ldmatrix": _verify_ldmatrix,
    "hwprim.frag_load": _verify_frag_load,
    "hwprim.mma_sync": _verify_mma_sync,
    "hwprim.frag_store": lambda op: _verify_store(op, 32),
    "hwprim.wgmma": _verify_wgmma,
    "hwprim.wgmma_wait": _verify_wgmma_wait,
    "hwprim.cp_async": _verify_cp_async,
    "hwprim.cp_async_wait": _verify_wgmma_wait,
    "hwprim.wgmma_store": lambda op: _verify_store(op, 128),
    "hwprim.round_tf32": _verify_round_tf32,
}
