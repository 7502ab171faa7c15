"""What `convert-hwprim-to-nvvm` and `tprog-gpu-tensorize` share: the target chip, index
arithmetic on IR values with Python operators (so the coordinate functions of
`tensorcore_layouts` build per-lane address computations), pointers into memrefs, NVVM ops
built from attribute text, LLVM struct and vector plumbing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlir import ir
from mlir.dialects import arith, llvm, memref, vector

from strata.passes import PipelineError

_CHIP = re.compile(r"sm_(\d+)(a?)")


@dataclass(frozen=True)
class Chip:
    """An NVIDIA compute capability, e.g. sm_80 or sm_90a (arch-specific)."""

    version: int
    arch_specific: bool

    @classmethod
    def parse(cls, text: str, owner: str) -> Chip:
        found = _CHIP.fullmatch(text)
        if found is None:
            raise PipelineError(
                f"invalid value '{text}' for option 'chip' of '{owner}': expected sm_<NN> or "
                "sm_<NN>a, e.g. sm_80, sm_90a"
            )
        return cls(int(found.group(1)), bool(found.group(2)))

    @property
    def name(self) -> str:
        return f"sm_{self.version}{'a' if self.arch_specific else ''}"

    @property
    def has_mma_sync(self) -> bool:
        return self.version >= 80

    @property
    def has_wgmma(self) -> bool:
        return self.version == 90 and self.arch_specific


# ---- index arithmetic on IR values with Python operators (for the layout functions) ----------


class Index:
    """An `index` IR value with `+ * // %` building arith ops (constant-folded on ints), so
    the coordinate functions of `tensorcore_layouts` compute per-lane addresses in IR."""

    def __init__(self, value: Index | ir.Value | int):
        self.value: ir.Value | int = value.value if isinstance(value, Index) else value

    @staticmethod
    def of(x: Index | int | ir.Value) -> ir.Value:
        if isinstance(x, Index):
            x = x.value
        if isinstance(x, int):
            return arith.ConstantOp(ir.IndexType.get(), x).result
        return x

    def _op(self, other: Any, build: Any, fold: Any) -> Index:
        other = other.value if isinstance(other, Index) else other
        if isinstance(self.value, int) and isinstance(other, int):
            return Index(fold(self.value, other))
        return Index(build(Index.of(self), Index.of(other)).result)

    def __add__(self, other: Any) -> Index:
        other = other.value if isinstance(other, Index) else other
        if isinstance(other, int) and other == 0:
            return self
        return self._op(other, arith.AddIOp, lambda x, y: x + y)

    __radd__ = __add__

    def __mul__(self, other: Any) -> Index:
        other = other.value if isinstance(other, Index) else other
        if isinstance(other, int) and other == 1:
            return self
        return self._op(other, arith.MulIOp, lambda x, y: x * y)

    __rmul__ = __mul__

    def __floordiv__(self, other: int) -> Index:
        return self._op(other, arith.DivUIOp, lambda x, y: x // y)

    def __mod__(self, other: int) -> Index:
        return self._op(other, arith.RemUIOp, lambda x, y: x % y)


def index(value: int) -> ir.Value:
    return arith.ConstantOp(ir.IndexType.get(), value).result


def nvvm_op(name: str, operands: list, results: list, attributes: dict[str, str]) -> ir.Operation:
    attrs = {key: ir.Attribute.parse(text) for key, text in attributes.items()}
    return ir.Operation.create(name, results=results, operands=operands, attributes=attrs)


def strides(source: ir.Value, meta: ir.Operation) -> list[Index]:
    """The strides of memref `source`: constants where its type knows them, else `meta`'s (its
    `memref.extract_strided_metadata`)."""
    static, _ = ir.MemRefType(source.type).get_strides_and_offset()
    dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
    return [Index(meta.strides[d] if s == dynamic else s) for d, s in enumerate(static)]


def byte_address(source: ir.Value, indices: Sequence[Index | ir.Value | int]) -> Index:
    """The address of source[indices] (any strided memref) as an index value."""
    meta = memref.ExtractStridedMetadataOp(source)
    base = memref.extract_aligned_pointer_as_index(meta.base_buffer)
    element = Index(meta.offset)
    for i, stride in zip(indices, strides(source, meta)):
        element = element + Index(i) * stride
    return Index(base) + element * (bits(ir.MemRefType(source.type).element_type) // 8)


def pointer(address: Index, space: int) -> ir.Value:
    """An `!llvm.ptr<space>` from an address (3: shared memory, 1: global)."""
    word = arith.IndexCastOp(ir.IntegerType.get_signless(64), Index.of(address)).result
    return llvm.IntToPtrOp(ir.Type.parse(f"!llvm.ptr<{space}>"), word).result


def bits(t: ir.Type) -> int:
    return {"f16": 16, "bf16": 16, "f32": 32}[str(t)]


def struct_fields(value: ir.Value, count: int) -> list[ir.Value]:
    return [llvm.ExtractValueOp(field_type(value), value, [i]).result for i in range(count)]


def field_type(value: ir.Value) -> ir.Type:
    text = str(value.type)  # !llvm.struct<(f32, f32, ...)>: every field of one type
    return ir.Type.parse(text[len("!llvm.struct<(") :].split(",")[0].rstrip(")>"))


def concat(parts: list[ir.Value]) -> ir.Value:
    """Concatenate 1-D vectors of one type, pairwise (vector.shuffle)."""
    while len(parts) > 1:
        pairs = []
        for x, y in zip(parts[::2], parts[1::2]):
            n = ir.VectorType(x.type).shape[0]
            pairs.append(vector.ShuffleOp(x, y, list(range(2 * n))).result)
        parts = pairs
    return parts[0]
