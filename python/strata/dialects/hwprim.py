"""Python op class of the `hwprim` dialect: CPU hardware primitives."""

from __future__ import annotations

from mlir import ir

from strata.dialects._base import StrataOp, register_dialect, register_operation


@register_dialect
class HwprimDialect(ir.Dialect):
    DIALECT_NAMESPACE = "hwprim"


@register_operation(HwprimDialect)
class FmaMicrokernelOp(StrataOp):
    """acc[MR x NR] += lhs[MR x K] * rhs[K x NR], accumulators held in vector registers."""

    OPERATION_NAME = "hwprim.fma_microkernel"

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
