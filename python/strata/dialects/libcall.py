"""Python op classes of the `libcall` dialect: native library calls in destination-passing style."""

from __future__ import annotations

from mlir import ir

from strata.dialects._base import ConvOp, StrataOp, register_dialect, register_operation


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


@register_operation(LibcallDialect)
class Conv2dOp(ConvOp):
    """out = conv2d(input, weight) through the library function `callee`: NCHW input, OIHW weight,
    graph.conv2d's attributes (strides, padding top/left/bottom/right, dilation, groups)."""

    OPERATION_NAME = "libcall.conv2d"

    def __init__(
        self,
        input: ir.Value,
        weight: ir.Value,
        out: ir.Value,
        *,
        callee: str,
        strides: list[int] | tuple[int, ...],
        padding: list[int] | tuple[int, ...],
        dilation: list[int] | tuple[int, ...],
        groups: int,
        loc=None,
        ip=None,
    ):
        attributes = {
            "callee": ir.StringAttr.get(callee),
            "strides": ir.DenseI64ArrayAttr.get(list(strides)),
            "padding": ir.DenseI64ArrayAttr.get(list(padding)),
            "dilation": ir.DenseI64ArrayAttr.get(list(dilation)),
            "groups": ir.IntegerAttr.get(ir.IntegerType.get_signless(64), groups),
        }
        self._build([input, weight, out], [], attributes, loc=loc, ip=ip)

    @property
    def callee(self) -> str:
        return ir.StringAttr(self.operation.attributes["callee"]).value

    @property
    def input(self) -> ir.Value:
        return self.operation.operands[0]

    @property
    def weight(self) -> ir.Value:
        return self.operation.operands[1]

    @property
    def out(self) -> ir.Value:
        return self.operation.operands[2]
