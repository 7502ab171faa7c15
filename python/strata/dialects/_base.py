"""Helpers shared by the Python op classes of the IRDL dialects (IRDL generates no Python)."""

from __future__ import annotations

from collections.abc import Sequence

from mlir import ir
from mlir.dialects._ods_common import _cext

register_dialect = _cext.register_dialect
register_operation = _cext.register_operation


class StrataOp(ir.OpView):
    """Base of the op classes: a builder in the style of ODS-generated ones."""

    _ODS_REGIONS: tuple[int, bool] = (0, True)

    def _build(
        self,
        operands: Sequence,
        results: Sequence[ir.Type],
        attributes: dict[str, ir.Attribute] | None = None,
        *,
        regions: int | None = None,
        loc: ir.Location | None = None,
        ip: ir.InsertionPoint | None = None,
    ) -> None:
        super().__init__(
            self.OPERATION_NAME,
            self._ODS_REGIONS,
            self._ODS_OPERAND_SEGMENTS,
            self._ODS_RESULT_SEGMENTS,
            attributes=attributes or {},
            results=list(results),
            operands=list(operands),
            successors=None,
            regions=regions,
            loc=loc,
            ip=ip,
        )


class ConvOp(StrataOp):
    """Base of ops with a convolution's `strides`, `padding`, `dilation` and `groups`
    attributes (graph.conv2d and libcall.conv2d; nanobind op classes take one base)."""

    def _array(self, name: str) -> list[int]:
        return list(ir.DenseI64ArrayAttr(self.operation.attributes[name]))

    @property
    def strides(self) -> list[int]:
        return self._array("strides")

    @property
    def padding(self) -> list[int]:
        return self._array("padding")

    @property
    def dilation(self) -> list[int]:
        return self._array("dilation")

    @property
    def groups(self) -> int:
        return ir.IntegerAttr(self.operation.attributes["groups"]).value


def tensor_type(shape: Sequence[int], element_type: ir.Type) -> ir.RankedTensorType:
    return ir.RankedTensorType.get(list(shape), element_type)


def shape_of(value: ir.Value) -> list[int]:
    return list(ir.ShapedType(value.type).shape)
