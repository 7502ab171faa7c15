"""Python op classes of the `graph` dialect; builders infer result types (numpy semantics)."""

from __future__ import annotations

import numpy as np
from mlir import ir

from strata.dialects._base import (
    ConvOp,
    StrataOp,
    register_dialect,
    register_operation,
    shape_of,
    tensor_type,
)
from strata.dialects.shapes import (
    adaptive_pool_check,
    batch_norm_check,
    broadcast_shape,
    broadcast_to_check,
    concat_shape,
    conv2d_shape,
    gather_shape,
    layer_norm_check,
    matmul_shape,
    normalized_axis,
    pool2d_shape,
    reduce_shape,
    reshape_check,
    slice_shape,
    transpose_shape,
)


@register_dialect
class GraphDialect(ir.Dialect):
    DIALECT_NAMESPACE = "graph"


_CONSTANT_ELEMENTS = {
    np.dtype("float32"): ir.F32Type.get,
    np.dtype("float16"): ir.F16Type.get,
    np.dtype("int32"): lambda: ir.IntegerType.get_signless(32),
    np.dtype("int64"): lambda: ir.IntegerType.get_signless(64),
}


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
        cls,
        array: np.ndarray,
        *,
        name: str = "weight",
        element: ir.Type | None = None,
        loc=None,
        ip=None,
    ) -> ConstantOp:
        """A constant holding `array`; stored as a resource blob so it does not print as text.
        `element` overrides the element type for dtypes numpy lacks (bf16 given as uint16 bits)."""
        array = np.asarray(array)
        if element is None:
            make = _CONSTANT_ELEMENTS.get(array.dtype)
            if make is None:
                raise TypeError(
                    f"unsupported constant dtype {array.dtype}; expected float32, float16, "
                    "int32 or int64"
                )
            element = make()
        shape = np.shape(array)  # before flattening: a 0-d array is a rank-0 tensor
        # A flat buffer: the bindings crash on 0-d memoryviews.
        buffer = memoryview(np.ascontiguousarray(array).reshape(-1))  # type: ignore[arg-type]
        attr = ir.DenseResourceElementsAttr.get_from_buffer(
            buffer, name, tensor_type(shape, element)
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
    """numpy.matmul(lhs, rhs), batch dims included; i8 operands accumulate into i32."""

    OPERATION_NAME = "graph.matmul"

    def __init__(self, lhs: ir.Value, rhs: ir.Value, *, loc=None, ip=None):
        shape = matmul_shape(shape_of(lhs), shape_of(rhs))
        element = _element_type(lhs)
        if str(element) == "i8":
            element = ir.IntegerType.get_signless(32)
        self._build([lhs, rhs], [tensor_type(shape, element)], loc=loc, ip=ip)


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
class Conv2dOp(ConvOp):
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


def _i64_attr(op: ir.OpView, name: str) -> int:
    return ir.IntegerAttr(op.operation.attributes[name]).value


def _array_attr(op: ir.OpView, name: str) -> list[int]:
    return list(ir.DenseI64ArrayAttr(op.operation.attributes[name]))


def _bool(value: bool) -> ir.Attribute:
    return ir.BoolAttr.get(bool(value))


class _Unary(StrataOp):
    """An elementwise op of one operand: the result has the input's type."""

    def __init__(self, input: ir.Value, *, loc=None, ip=None):
        self._build([input], [input.type], loc=loc, ip=ip)

    @property
    def input(self) -> ir.Value:
        return self.operation.operands[0]

    @property
    def output(self) -> ir.Value:
        return self.operation.results[0]


UNARY_OPS = (
    "relu",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "exp",
    "log",
    "erf",
    "sqrt",
    "rsqrt",
    "neg",
    "abs",
)
BINARY_OPS = ("add", "sub", "mul", "div", "pow", "maximum", "minimum")
ELEMENTWISE_OPS = tuple(f"graph.{n}" for n in (*UNARY_OPS, *BINARY_OPS))


@register_operation(GraphDialect)
class GeluOp(_Unary):
    """x * Phi(x), Phi by erf (`approximate="none"`) or PyTorch's tanh formula (`"tanh"`)."""

    OPERATION_NAME = "graph.gelu"

    def __init__(self, input: ir.Value, *, approximate: str = "none", loc=None, ip=None):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu approximate must be 'none' or 'tanh', not {approximate!r}")
        attrs = {"approximate": ir.StringAttr.get(approximate)}
        self._build([input], [input.type], attrs, loc=loc, ip=ip)

    @property
    def approximate(self) -> str:
        return ir.StringAttr(self.operation.attributes["approximate"]).value


def _define_unary(name: str, doc: str) -> type:
    cls = type(f"{name.title()}Op", (_Unary,), {"OPERATION_NAME": f"graph.{name}", "__doc__": doc})
    return register_operation(GraphDialect)(cls)


SiluOp = _define_unary("silu", "x * sigmoid(x).")
SigmoidOp = _define_unary("sigmoid", "1 / (1 + exp(-x)).")
TanhOp = _define_unary("tanh", "tanh(x).")
ExpOp = _define_unary("exp", "exp(x).")
LogOp = _define_unary("log", "log(x).")
ErfOp = _define_unary("erf", "erf(x).")
SqrtOp = _define_unary("sqrt", "sqrt(x).")
RsqrtOp = _define_unary("rsqrt", "1 / sqrt(x).")
NegOp = _define_unary("neg", "-x.")
AbsOp = _define_unary("abs", "|x|.")


@register_operation(GraphDialect)
class DivOp(_Broadcasting):
    """lhs / rhs with numpy broadcasting."""

    OPERATION_NAME = "graph.div"


@register_operation(GraphDialect)
class PowOp(_Broadcasting):
    """lhs ** rhs with numpy broadcasting."""

    OPERATION_NAME = "graph.pow"


@register_operation(GraphDialect)
class MaximumOp(_Broadcasting):
    """max(lhs, rhs), NaN-propagating, with numpy broadcasting."""

    OPERATION_NAME = "graph.maximum"


@register_operation(GraphDialect)
class MinimumOp(_Broadcasting):
    """min(lhs, rhs), NaN-propagating, with numpy broadcasting."""

    OPERATION_NAME = "graph.minimum"


@register_operation(GraphDialect)
class LogSoftmaxOp(StrataOp):
    """x - max - log(sum(exp(x - max))) along `axis`."""

    OPERATION_NAME = "graph.log_softmax"

    def __init__(self, input: ir.Value, *, axis: int = -1, loc=None, ip=None):
        normalized_axis(axis, len(shape_of(input)))
        self._build([input], [input.type], {"axis": _i64(axis)}, loc=loc, ip=ip)

    @property
    def axis(self) -> int:
        return _i64_attr(self, "axis")


@register_operation(GraphDialect)
class BatchNormOp(StrataOp):
    """Inference batch norm over channel dimension 1."""

    OPERATION_NAME = "graph.batch_norm"

    def __init__(self, input, weight, bias, mean, var, *, epsilon: float = 1e-5, loc=None, ip=None):
        params = [weight, bias, mean, var]
        batch_norm_check(shape_of(input), *(shape_of(p) for p in params))
        attrs = {"epsilon": ir.FloatAttr.get(ir.F64Type.get(), float(epsilon))}
        self._build([input, *params], [input.type], attrs, loc=loc, ip=ip)

    @property
    def epsilon(self) -> float:
        return ir.FloatAttr(self.operation.attributes["epsilon"]).value


class _Reduce(StrataOp):
    """A reduction over `axes`; `keepdim` keeps them as size-1 dimensions."""

    def __init__(self, input: ir.Value, axes, *, keepdim: bool = False, loc=None, ip=None):
        axes = [int(a) for a in axes]
        shape = reduce_shape(shape_of(input), axes, keepdim)
        attrs = {"axes": _i64_array(axes), "keepdim": _bool(keepdim)}
        self._build([input], [tensor_type(shape, _element_type(input))], attrs, loc=loc, ip=ip)

    @property
    def axes(self) -> list[int]:
        return _array_attr(self, "axes")

    @property
    def keepdim(self) -> bool:
        return bool(ir.BoolAttr(self.operation.attributes["keepdim"]).value)


@register_operation(GraphDialect)
class ReduceSumOp(_Reduce):
    OPERATION_NAME = "graph.reduce_sum"


@register_operation(GraphDialect)
class ReduceMeanOp(_Reduce):
    OPERATION_NAME = "graph.reduce_mean"


@register_operation(GraphDialect)
class ReduceMaxOp(_Reduce):
    OPERATION_NAME = "graph.reduce_max"


def _pads(padding) -> list[int]:
    padding = list(padding)
    return [*padding, *padding] if len(padding) == 2 else padding


class _Pool2d(StrataOp):
    """A 2-D pooling window over an NCHW input."""

    kernel = property(lambda self: _array_attr(self, "kernel"))
    strides = property(lambda self: _array_attr(self, "strides"))
    padding = property(lambda self: _array_attr(self, "padding"))


@register_operation(GraphDialect)
class MaxPool2dOp(_Pool2d):
    """Maximum over each window of an NCHW input (padding is -inf)."""

    OPERATION_NAME = "graph.max_pool2d"

    def __init__(
        self, input, *, kernel, strides=None, padding=(0, 0), dilation=(1, 1), loc=None, ip=None
    ):
        strides = list(strides or kernel)
        padding = _pads(padding)
        shape = pool2d_shape(shape_of(input), kernel, strides, padding, dilation)
        attrs = {
            "kernel": _i64_array(kernel),
            "strides": _i64_array(strides),
            "padding": _i64_array(padding),
            "dilation": _i64_array(dilation),
        }
        self._build([input], [tensor_type(shape, _element_type(input))], attrs, loc=loc, ip=ip)

    dilation = property(lambda self: _array_attr(self, "dilation"))


@register_operation(GraphDialect)
class AvgPool2dOp(_Pool2d):
    """Mean over each window of an NCHW input."""

    OPERATION_NAME = "graph.avg_pool2d"

    def __init__(
        self,
        input,
        *,
        kernel,
        strides=None,
        padding=(0, 0),
        count_include_pad: bool = True,
        loc=None,
        ip=None,
    ):
        strides = list(strides or kernel)
        padding = _pads(padding)
        shape = pool2d_shape(shape_of(input), kernel, strides, padding)
        attrs = {
            "kernel": _i64_array(kernel),
            "strides": _i64_array(strides),
            "padding": _i64_array(padding),
            "count_include_pad": _bool(count_include_pad),
        }
        self._build([input], [tensor_type(shape, _element_type(input))], attrs, loc=loc, ip=ip)

    @property
    def count_include_pad(self) -> bool:
        return bool(ir.BoolAttr(self.operation.attributes["count_include_pad"]).value)


@register_operation(GraphDialect)
class AdaptiveAvgPool2dOp(StrataOp):
    """PyTorch's adaptive average pool to `output_size` (oh, ow)."""

    OPERATION_NAME = "graph.adaptive_avg_pool2d"

    def __init__(self, input, output_size, *, loc=None, ip=None):
        n, c = shape_of(input)[:2]
        shape = [n, c, *output_size]
        adaptive_pool_check(shape_of(input), shape)
        self._build([input], [tensor_type(shape, _element_type(input))], loc=loc, ip=ip)


@register_operation(GraphDialect)
class SliceOp(StrataOp):
    """result[i] = input[offsets + i * strides]; `sizes` is the result shape."""

    OPERATION_NAME = "graph.slice"

    def __init__(self, input, offsets, sizes, strides=None, *, loc=None, ip=None):
        strides = list(strides) if strides is not None else [1] * len(sizes)
        shape = slice_shape(shape_of(input), offsets, sizes, strides)
        attrs = {
            "offsets": _i64_array(offsets),
            "sizes": _i64_array(sizes),
            "strides": _i64_array(strides),
        }
        self._build([input], [tensor_type(shape, _element_type(input))], attrs, loc=loc, ip=ip)

    offsets = property(lambda self: _array_attr(self, "offsets"))
    sizes = property(lambda self: _array_attr(self, "sizes"))
    strides = property(lambda self: _array_attr(self, "strides"))


@register_operation(GraphDialect)
class ConcatOp(_Binary):
    """lhs and rhs joined along `axis`."""

    OPERATION_NAME = "graph.concat"

    def __init__(self, lhs, rhs, *, axis: int, loc=None, ip=None):
        shape = concat_shape(shape_of(lhs), shape_of(rhs), axis)
        attrs = {"axis": _i64(axis)}
        self._build([lhs, rhs], [tensor_type(shape, _element_type(lhs))], attrs, loc=loc, ip=ip)

    @property
    def axis(self) -> int:
        return _i64_attr(self, "axis")


@register_operation(GraphDialect)
class BroadcastToOp(StrataOp):
    """numpy.broadcast_to(input, shape)."""

    OPERATION_NAME = "graph.broadcast_to"

    def __init__(self, input, shape, *, loc=None, ip=None):
        broadcast_to_check(shape_of(input), list(shape))
        self._build([input], [tensor_type(shape, _element_type(input))], loc=loc, ip=ip)


@register_operation(GraphDialect)
class GatherOp(StrataOp):
    """numpy.take(input, indices, axis); an embedding is gather(weight, ids, axis=0)."""

    OPERATION_NAME = "graph.gather"

    def __init__(self, input, indices, *, axis: int = 0, loc=None, ip=None):
        shape = gather_shape(shape_of(input), shape_of(indices), axis)
        attrs = {"axis": _i64(axis)}
        self._build(
            [input, indices], [tensor_type(shape, _element_type(input))], attrs, loc=loc, ip=ip
        )

    @property
    def axis(self) -> int:
        return _i64_attr(self, "axis")


FUSED = "graph.fused"  # unit attribute on a private func.func holding a fused subgraph
