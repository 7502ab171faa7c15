"""Python op classes of the `tprog` dialect: tensor programs (TensorIR-style blocks)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from mlir import ir

from strata.dialects._base import StrataOp, register_dialect, register_operation


@register_dialect
class TprogDialect(ir.Dialect):
    DIALECT_NAMESPACE = "tprog"


# Attribute names used on upstream ops inside tensor programs.
PRIM_FUNC = "tprog.prim_func"  # unit attribute on a func.func: this is a tensor program
LOOP_NAME = "tprog.loop"  # string attribute on an scf.for: the loop's name for schedules


class IterType(str, Enum):
    SPATIAL = "spatial"
    REDUCTION = "reduction"


@register_operation(TprogDialect)
class BlockOp(StrataOp):
    """One iteration of a computation; see dialects/tprog.irdl.mlir for the fields."""

    OPERATION_NAME = "tprog.block"
    _ODS_REGIONS = (2, True)

    def __init__(
        self,
        name: str,
        iter_values: Sequence[ir.Value],
        iter_types: Sequence[IterType],
        dom: Sequence[int],
        *,
        loc=None,
        ip=None,
    ):
        if not (len(iter_values) == len(iter_types) == len(dom)):
            raise ValueError("iter_values, iter_types and dom must have the same length")
        attrs = {
            "name": ir.StringAttr.get(name),
            "iter_types": ir.ArrayAttr.get(
                [ir.StringAttr.get(IterType(t).value) for t in iter_types]
            ),
            "dom": ir.DenseI64ArrayAttr.get(list(dom)),
        }
        self._build(list(iter_values), [], attrs, regions=2, loc=loc, ip=ip)
        index = ir.IndexType.get()
        for region in self.operation.regions:
            region.blocks.append(*([index] * len(iter_values)))

    @property
    def iter_values(self) -> list[ir.Value]:
        return list(self.operation.operands)

    def _accessed(self, op_name: str, operand: int) -> list[ir.Value]:
        found: list[ir.Value] = []
        for region in self.operation.regions:
            for op in region.blocks[0].operations:
                if op.operation.name == op_name and op.operation.operands[operand] not in found:
                    found.append(op.operation.operands[operand])
        return found

    @property
    def reads(self) -> list[ir.Value]:
        """The buffers the block loads from (TensorIR's `T.reads`), in order of first use."""
        return self._accessed("memref.load", 0)

    @property
    def writes(self) -> list[ir.Value]:
        """The buffers the block stores to (TensorIR's `T.writes`)."""
        return self._accessed("memref.store", 1)

    @property
    def block_name(self) -> str:
        return ir.StringAttr(self.operation.attributes["name"]).value

    @property
    def iter_types(self) -> list[IterType]:
        return [
            IterType(ir.StringAttr(a).value)
            for a in ir.ArrayAttr(self.operation.attributes["iter_types"])
        ]

    @property
    def dom(self) -> list[int]:
        return list(ir.DenseI64ArrayAttr(self.operation.attributes["dom"]))

    @property
    def init(self) -> ir.Block:
        return self.operation.regions[0].blocks[0]

    @property
    def body(self) -> ir.Block:
        return self.operation.regions[1].blocks[0]
