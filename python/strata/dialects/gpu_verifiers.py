"""Verifiers of the TensorCore `hwprim` ops (ldmatrix, mma_sync, frag_store, wgmma and its
fence/commit/wait/store, cp_async and its wait): the element types, shapes and memory spaces
IRDL cannot express.

`GPU_VERIFIERS` maps op names to checks raising a located `CompileError`; `verifiers.VERIFIERS`
merges it, so strata-opt runs them right after parsing.
"""

from __future__ import annotations

from collections.abc import Callable

from mlir import ir

from strata.diagnostics import CompileError

HALF_TYPES = ("f16", "bf16")
STORE_TYPES = ("f32", "f16", "bf16")
WGMMA_MAX_N = 256


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


def _shared_tile(op: ir.Operation, value: ir.Value, what: str, rank: int) -> ir.MemRefType:
    t = value.type
    if t.rank != rank or not t.has_static_shape:
        raise CompileError(f"{what} must be a static {rank}-D memref, found {t}", op.location)
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


def _verify_ldmatrix(op: ir.Operation) -> None:
    tile = _shared_tile(op, op.operands[0], "ldmatrix tile", 2)
    element = _half(op, tile, "ldmatrix tile")
    rows, cols = tile.shape
    count = (rows // 8) * (cols // 8)
    if rows % 8 or cols % 8 or count not in (1, 2, 4):
        raise CompileError(
            f"ldmatrix loads 1, 2 or 4 8x8 matrices: the tile must be [8R, 8C] with R*C in "
            f"(1, 2, 4), found {rows}x{cols}",
            op.location,
        )
    trans = op.attributes["trans"]
    if not (isinstance(trans, ir.BoolAttr) or str(trans) in ("true", "false")):
        raise CompileError(f"'trans' must be a bool (true or false), found {trans}", op.location)
    result = _vector(op, op.results[0].type, "ldmatrix result")
    if result.shape[0] != 2 * count or str(result.element_type) != element:
        raise CompileError(
            f"ldmatrix of {count} matrices gives vector<{2 * count}x{element}> per lane, "
            f"found {result}",
            op.location,
        )


def _verify_mma_sync(op: ir.Operation) -> None:
    a, b, c = (_vector(op, v.type, n) for v, n in zip(op.operands, ("a", "b", "c")))
    element = _half(op, a, "mma_sync a")
    if [a.shape[0], b.shape[0], str(b.element_type)] != [8, 4, element]:
        raise CompileError(
            f"mma_sync m16n8k16 takes a: vector<8x{element}> and b: vector<4x{element}> per "
            f"lane, found {a} and {b}",
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
    element = _half(op, a, "wgmma a")
    if str(b.element_type) != element:
        raise CompileError(f"wgmma a and b differ in element type: {a} and {b}", op.location)
    for t, what, layout in ((a, "a", "8x2x8x8 K-major"), (b, "b", "(N/8)x2x8x8 MN-major")):
        shape, strides = list(t.shape), _strides(op, t, f"wgmma {what}")
        if shape[1:] != [2, 8, 8] or (what == "a" and shape[0] != 8) or strides[2:] != [8, 1]:
            raise CompileError(
                f"wgmma {what} must be {layout} core matrices of 128 contiguous bytes "
                f"(strides [?, ?, 8, 1]), found {t}",
                op.location,
            )
    n = 8 * b.shape[0]
    if not 8 <= n <= WGMMA_MAX_N:
        raise CompileError(f"wgmma N must be 8 to {WGMMA_MAX_N}, found {n}", op.location)
    if str(acc.element_type) != "f32" or acc.shape[0] != n // 2:
        raise CompileError(
            f"wgmma m64n{n}k16 accumulates into vector<{n // 2}xf32> per thread, found {acc}",
            op.location,
        )


def _verify_cp_async(op: ir.Operation) -> None:
    dst = _shared_tile(op, op.operands[0], "cp_async destination", 1)
    element = _half(op, dst, "cp_async destination")
    if dst.shape[0] != 8:
        raise CompileError(
            f"cp_async copies 16 bytes: the destination must be memref<8x{element}>, found {dst}",
            op.location,
        )
    src = op.operands[1].type
    strides = _strides(op, src, "cp_async source")
    if str(src.element_type) != element or strides[-1] != 1 or src.shape[-1] % 8:
        raise CompileError(
            f"cp_async reads a memref of {element} whose last dimension is contiguous and a "
            f"static multiple of 8, found {src}",
            op.location,
        )
    if len(op.operands) - 2 != src.rank:
        raise CompileError(
            f"cp_async takes {src.rank} indices for {src}, found {len(op.operands) - 2}",
            op.location,
        )


def _verify_wgmma_wait(op: ir.Operation) -> None:
    pending = op.attributes["pending"]
    if isinstance(pending, ir.BoolAttr) or ir.IntegerAttr(pending).value < 0:
        raise CompileError(
            f"'pending' must be a non-negative integer, found {pending}", op.location
        )


GPU_VERIFIERS: dict[str, Callable[[ir.Operation], None]] = {
    "hwprim.ldmatrix": _verify_ldmatrix,
    "hwprim.mma_sync": _verify_mma_sync,
    "hwprim.frag_store": lambda op: _verify_store(op, 32),
    "hwprim.wgmma": _verify_wgmma,
    "hwprim.wgmma_wait": _verify_wgmma_wait,
    "hwprim.cp_async": _verify_cp_async,
    "hwprim.cp_async_wait": _verify_wgmma_wait,
    "hwprim.wgmma_store": lambda op: _verify_store(op, 128),
}
