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
from strata.dialects.shapes import (
    broadcast_shape,
    conv2d_shape,
    layer_norm_check,
    matmul_shape,
    normalized_axis,
    reshape_check,
    transpose_shape,
)


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


class _Broadcasting(_Binary):
    """An elementwise binary op with numpy broadcasting."""

    def __init__(self, lhs: ir.Value, rhs: ir.Value, *, loc=None, ip=None):
        shape = broadcast_shape(shape_of(lhs), shape_of(rhs))
        self._build([lhs, rhs], [tensor_type(shape, _element_type(lhs))], loc=loc, ip=ip)


@register_operation(GraphDialect)
class MatmulOp(_Binary):
    """numpy.matmul(lhs, rhs), batch dims included."""

    OPERATION_NAME = "graph.matmul"

    def __init__(self, lhs: ir.Value, rhs: ir.Value, *, loc=None, ip=None):
        shape = matmul_shape(shape_of(lhs), shape_of(rhs))
        self._build([lhs, rhs], [tensor_type(shape, _element_type(lhs))], loc=loc, ip=ip)


@register_operation(GraphDialect)
class AddOp(_Broadcasting):
    """lhs + rhs with numpy broadcasting."""

    OPERATION_NAME = "graph.add"


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


@register_operation(GraphDialect)
class SubOp(_Broadcasting):
    """lhs - rhs with numpy broadcasting."""

    OPERATION_NAME = "graph.sub"


@register_operation(GraphDialect)
class MulOp(_Broadcasting):
    """lhs * rhs with numpy broadcasting."""

    OPERATION_NAME = "graph.mul"


def _i64_array(values) -> ir.Attribute:
    return ir.DenseI64ArrayAttr.get([int(v) for v in values])


def _i64(value: int) -> ir.Attribute:
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), int(value))


@register_operation(GraphDialect)
class Conv2dOp(StrataOp):
    """NCHW convolution with an O x C/groups x KH x KW weight (PyTorch's conv2d, no bias)."""

    OPERATION_NAME = "graph.conv2d"

    def __init__(
        self,
        input: ir.Value,
        weight: ir.Value,
        *,
        strides=(1, 1),
        padding=(0, 0, 0, 0),
        dilation=(1, 1),
        groups: int = 1,
        loc=None,
        ip=None,
    ):
        if len(padding) == 2:  # (ph, pw): symmetric, as PyTorch's padding=(ph, pw)
            padding = (padding[0], padding[1], padding[0], padding[1])
        shape = conv2d_shape(shape_of(input), shape_of(weight), strides, padding, dilation, groups)
        attrs = {
            "strides": _i64_array(strides),
            "padding": _i64_array(padding),
            "dilation": _i64_array(dilation),
            "groups": _i64(groups),
        }
        self._build(
            [input, weight], [tensor_type(shape, _element_type(input))], attrs, loc=loc, ip=ip
        )

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


@register_operation(GraphDialect)
class SoftmaxOp(StrataOp):
    """exp(x) / sum(exp(x)) along `axis`."""

    OPERATION_NAME = "graph.softmax"

    def __init__(self, input: ir.Value, *, axis: int = -1, loc=None, ip=None):
        normalized_axis(axis, len(shape_of(input)))
        self._build([input], [input.type], {"axis": _i64(axis)}, loc=loc, ip=ip)

    @property
    def axis(self) -> int:
        return ir.IntegerAttr(self.operation.attributes["axis"]).value


@register_operation(GraphDialect)
class LayerNormOp(StrataOp):
    """(x - mean) / sqrt(var + epsilon) * weight + bias over the trailing dims of `weight`."""

    OPERATION_NAME = "graph.layer_norm"

    def __init__(
        self,
        input: ir.Value,
        weight: ir.Value,
        bias: ir.Value,
        *,
        epsilon: float = 1e-5,
        loc=None,
        ip=None,
    ):
        layer_norm_check(shape_of(input), shape_of(weight), shape_of(bias))
        attrs = {"epsilon": ir.FloatAttr.get(ir.F64Type.get(), float(epsilon))}
        self._build([input, weight, bias], [input.type], attrs, loc=loc, ip=ip)

    @property
    def epsilon(self) -> float:
        return ir.FloatAttr(self.operation.attributes["epsilon"]).value


@register_operation(GraphDialect)
class ReshapeOp(StrataOp):
    """The same elements, row-major, in `shape` (one entry may be -1: inferred)."""

    OPERATION_NAME = "graph.reshape"

    def __init__(self, input: ir.Value, shape, *, loc=None, ip=None):
        source = shape_of(input)
        shape = list(shape)
        if shape.count(-1) == 1:
            known = 1
            for d in shape:
                known *= d if d != -1 else 1
            total = 1
            for d in source:
                total *= d
            shape[shape.index(-1)] = total // known if known else 0
        reshape_check(source, shape)
        self._build([input], [tensor_type(shape, _element_type(input))], loc=loc, ip=ip)


@register_operation(GraphDialect)
class TransposeOp(StrataOp):
    """numpy.transpose(input, permutation)."""

    OPERATION_NAME = "graph.transpose"

    def __init__(self, input: ir.Value, permutation, *, loc=None, ip=None):
        shape = transpose_shape(shape_of(input), list(permutation))
        attrs = {"permutation": _i64_array(permutation)}
        self._build([input], [tensor_type(shape, _element_type(input))], attrs, loc=loc, ip=ip)

    @property
    def permutation(self) -> list[int]:
        return list(ir.DenseI64ArrayAttr(self.operation.attributes["permutation"]))


FUSED = "graph.fused"  # unit attribute on a private func.func holding a fused subgraph
