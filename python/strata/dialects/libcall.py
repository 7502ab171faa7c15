"""Python op classes of the `libcall` dialect: native library calls in destination-passing style."""

from __future__ import annotations

from mlir import ir

from strata.dialects._base import StrataOp, register_dialect, register_operation


@register_dialect
class LibcallDialect(ir.Dialect):
    DIALECT_NAMESPACE = "libcall"


@register_operation(LibcallDialect)
class MatmulOp(StrataOp):
    """out = lhs @ rhs through the library function `callee` (a library registry name)."""

    OPERATION_NAME = "libcall.matmul"

    def __init__(
        self, lhs: ir.Value, rhs: ir.Value, out: ir.Value, *, callee: str, loc=None, ip=None
    ):
        self._build([lhs, rhs, out], [], {"callee": ir.StringAttr.get(callee)}, loc=loc, ip=ip)

    @property
    def callee(self) -> str:
        return ir.StringAttr(self.operation.attributes["callee"]).value

    @property
    def lhs(self) -> ir.Value:
        return self.operation.operands[0]

    @property
    def rhs(self) -> ir.Value:
        return self.operation.operands[1]

    @property
    def out(self) -> ir.Value:
        return self.operation.operands[2]
