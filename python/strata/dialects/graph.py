"""Python op classes of the `graph` dialect; builders infer result types (numpy semantics)."""

from __future__ import annotations

import numpy as np
from mlir import ir

from strata.dialects._base import (
    StrataOp,
    register_dialect,
    register_operation,
    shape_of,
    tensor_type,
)
from strata.dialects.shapes import broadcast_shape, matmul_shape


@register_dialect
class GraphDialect(ir.Dialect):
    DIALECT_NAMESPACE = "graph"


def _element_type(value: ir.Value) -> ir.Type:
    return ir.ShapedType(value.type).element_type


@register_operation(GraphDialect)
class ConstantOp(StrataOp):
    """A weight: `value` is a `dense` or `dense_resource` elements attribute."""

    OPERATION_NAME = "graph.constant"

    def __init__(self, value: ir.Attribute, *, loc=None, ip=None):
        self._build([], [value.type], {"value": value}, loc=loc, ip=ip)

    @classmethod
    def from_numpy(
        cls, array: np.ndarray, *, name: str = "weight", loc=None, ip=None
    ) -> ConstantOp:
        """A constant holding `array`; stored as a resource blob so it does not print as text."""
        array = np.ascontiguousarray(array)
        element = {
            np.dtype("float32"): ir.F32Type.get(),
            np.dtype("float16"): ir.F16Type.get(),
        }.get(array.dtype)
        if element is None:
            raise TypeError(
                f"unsupported constant dtype {array.dtype}; expected float32 or float16"
            )
        buffer = memoryview(array)  # type: ignore[arg-type]  # numpy arrays are buffers
        attr = ir.DenseResourceElementsAttr.get_from_buffer(
            buffer, name, tensor_type(array.shape, element)
        )
        return cls(attr, loc=loc, ip=ip)

    @property
    def value(self) -> ir.Attribute:
        return self.operation.attributes["value"]

    @property
    def output(self) -> ir.Value:
        return self.operation.results[0]


class _Binary(StrataOp):
    @property
    def lhs(self) -> ir.Value:
        return self.operation.operands[0]

    @property
    def rhs(self) -> ir.Value:
        return self.operation.operands[1]

    @property
    def output(self) -> ir.Value:
        return self.operation.results[0]


@register_operation(GraphDialect)
class MatmulOp(_Binary):
    """numpy.matmul(lhs, rhs), batch dims included."""

    OPERATION_NAME = "graph.matmul"

    def __init__(self, lhs: ir.Value, rhs: ir.Value, *, loc=None, ip=None):
        shape = matmul_shape(shape_of(lhs), shape_of(rhs))
        self._build([lhs, rhs], [tensor_type(shape, _element_type(lhs))], loc=loc, ip=ip)


@register_operation(GraphDialect)
class AddOp(_Binary):
    """lhs + rhs with numpy broadcasting."""

    OPERATION_NAME = "graph.add"

    def __init__(self, lhs: ir.Value, rhs: ir.Value, *, loc=None, ip=None):
        shape = broadcast_shape(shape_of(lhs), shape_of(rhs))
        self._build([lhs, rhs], [tensor_type(shape, _element_type(lhs))], loc=loc, ip=ip)


@register_operation(GraphDialect)
class ReluOp(StrataOp):
    """max(input, 0)."""

    OPERATION_NAME = "graph.relu"

    def __init__(self, input: ir.Value, *, loc=None, ip=None):
        self._build([input], [input.type], loc=loc, ip=ip)

    @property
    def input(self) -> ir.Value:
        return self.operation.operands[0]

    @property
    def output(self) -> ir.Value:
        return self.operation.results[0]


FUSED = "graph.fused"  # unit attribute on a private func.func holding a fused subgraph
