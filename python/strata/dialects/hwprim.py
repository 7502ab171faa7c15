"""Python op classes of the `hwprim` dialect: CPU hardware primitives."""

from __future__ import annotations

from mlir import ir

from strata.dialects._base import StrataOp, register_dialect, register_operation


@register_dialect
class HwprimDialect(ir.Dialect):
    DIALECT_NAMESPACE = "hwprim"


class _Microkernel(StrataOp):
    """A register-blocked kernel on memref tiles: lhs, rhs, acc; `vector_width` lanes."""

    def __init__(
        self, lhs: ir.Value, rhs: ir.Value, acc: ir.Value, *, vector_width: int, loc=None, ip=None
    ):
        attrs = {"vector_width": ir.IntegerAttr.get(ir.IntegerType.get_signless(64), vector_width)}
        self._build([lhs, rhs, acc], [], attrs, loc=loc, ip=ip)

    @property
    def lhs(self) -> ir.Value:
        return self.operation.operands[0]

    @property
    def rhs(self) -> ir.Value:
        return self.operation.operands[1]

    @property
    def acc(self) -> ir.Value:
        return self.operation.operands[2]

    @property
    def vector_width(self) -> int:
        return ir.IntegerAttr(self.operation.attributes["vector_width"]).value


@register_operation(HwprimDialect)
class FmaMicrokernelOp(_Microkernel):
    """acc[MR x NR] += lhs[MR x K] * rhs[K x NR], accumulators held in vector registers."""

    OPERATION_NAME = "hwprim.fma_microkernel"


@register_operation(HwprimDialect)
class DotI8MicrokernelOp(_Microkernel):
    """acc[MR x NR] (i32) += zext(lhs[MR x K]) * sext(rhs) with rhs packed K/4 x NR*4 (VNNI)."""

    OPERATION_NAME = "hwprim.dot_i8_microkernel"


@register_operation(HwprimDialect)
class DotI8Op(StrataOp):
    """vpdpbusd: acc + per i32 lane the sum of 4 products zext(lhs byte) * sext(rhs byte)."""

    OPERATION_NAME = "hwprim.dot_i8"

    def __init__(self, acc: ir.Value, lhs: ir.Value, rhs: ir.Value, *, loc=None, ip=None):
        self._build([acc, lhs, rhs], [acc.type], {}, loc=loc, ip=ip)


@register_operation(HwprimDialect)
class VLoadOp(StrataOp):
    """A vector of `vector_type` loaded from `base` at `indices`."""

    OPERATION_NAME = "hwprim.vload"

    def __init__(self, vector_type: ir.Type, base: ir.Value, indices, *, loc=None, ip=None):
        self._build([base, *indices], [vector_type], {}, loc=loc, ip=ip)


@register_operation(HwprimDialect)
class VStoreOp(StrataOp):
    """`value` stored into `base` at `indices`."""

    OPERATION_NAME = "hwprim.vstore"

    def __init__(self, value: ir.Value, base: ir.Value, indices, *, loc=None, ip=None):
        self._build([value, base, *indices], [], {}, loc=loc, ip=ip)


@register_operation(HwprimDialect)
class VBroadcastOp(StrataOp):
    """`value` in every lane of a `vector_type`."""

    OPERATION_NAME = "hwprim.vbroadcast"

    def __init__(self, vector_type: ir.Type, value: ir.Value, *, loc=None, ip=None):
        self._build([value], [vector_type], {}, loc=loc, ip=ip)


@register_operation(HwprimDialect)
class VFmaOp(StrataOp):
    """lhs * rhs + acc per lane, rounded once."""

    OPERATION_NAME = "hwprim.vfma"

    def __init__(self, lhs: ir.Value, rhs: ir.Value, acc: ir.Value, *, loc=None, ip=None):
        self._build([lhs, rhs, acc], [acc.type], {}, loc=loc, ip=ip)
