"""A small builder of `graph` modules from Python and numpy weights.

Each op is located at the Python line that built it, so errors point back to the model code.

>>> b = GraphBuilder("mlp")
>>> x = b.input((1, 784))
>>> h = b.relu(b.add(b.matmul(x, b.constant(w0, "w0")), b.constant(b0, "b0")))
>>> module = b.finish(b.matmul(h, b.constant(w1, "w1")))
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import numpy as np
from mlir import ir
from mlir.dialects import func

from strata.dialects import graph, make_context
from strata.dialects.shapes import ShapeError

_ELEMENT = {
    "f32": ir.F32Type.get,
    "f16": ir.F16Type.get,
    "bf16": ir.BF16Type.get,
    "i8": lambda: ir.IntegerType.get_signless(8),
    "i32": lambda: ir.IntegerType.get_signless(32),
    "i64": lambda: ir.IntegerType.get_signless(64),
}


def _op_class(name: str) -> type:
    for value in vars(graph).values():
        if isinstance(value, type) and getattr(value, "OPERATION_NAME", None) == name:
            return value
    raise KeyError(name)


class GraphBuilder:
    """Builds one public function `name` in a new module (with its own context)."""

    def __init__(self, name: str = "main", *, context: ir.Context | None = None):
        self.context = context or make_context()
        self.name = name
        with self.context, ir.Location.unknown():
            self.module = ir.Module.create()
        self._inputs: list[ir.Type] = []
        with self.context, ir.Location.unknown(), ir.InsertionPoint(self.module.body):
            self._fn = func.FuncOp(name, ([], []))
            self._entry = self._fn.add_entry_block()

    def _location(self) -> ir.Location:
        frame = inspect.currentframe()
        while frame is not None and frame.f_globals.get("__name__") == __name__:
            frame = frame.f_back
        if frame is None:
            return ir.Location.unknown(self.context)
        return ir.Location.file(frame.f_code.co_filename, frame.f_lineno, 1, context=self.context)

    def input(self, shape: Sequence[int], dtype: str = "f32") -> ir.Value:
        """A new function argument (all inputs must be declared before the first op)."""
        if dtype not in _ELEMENT:
            raise ValueError(f"unsupported dtype '{dtype}'; valid: {', '.join(_ELEMENT)}")
        if len(list(self._entry.operations)):
            raise ValueError("declare every input before building ops")
        loc = self._location()
        with self.context, loc:
            t = ir.RankedTensorType.get(list(shape), _ELEMENT[dtype]())
            arg = self._entry.add_argument(t, loc)
        self._inputs.append(t)
        return arg

    def _build(self, cls, *args, **kwargs) -> ir.Value:
        with self.context, self._location() as loc, ir.InsertionPoint(self._entry):
            try:
                return cls(*args, loc=loc, **kwargs).results[0]
            except ShapeError as e:
                from strata.diagnostics import CompileError

                raise CompileError(f"{cls.OPERATION_NAME}: {e}", loc) from None

    def constant(
        self, array: np.ndarray, name: str = "weight", dtype: str | None = None
    ) -> ir.Value:
        """A weight, held as a resource blob (not printed as text). `dtype="bf16"` takes the
        bits of bfloat16 values as a uint16 array (numpy has no bfloat16)."""
        with self.context, self._location() as loc, ir.InsertionPoint(self._entry):
            element = _ELEMENT[dtype]() if dtype is not None else None
            return graph.ConstantOp.from_numpy(
                np.asarray(array), name=name, element=element, loc=loc
            ).output

    def matmul(self, lhs: ir.Value, rhs: ir.Value) -> ir.Value:
        return self._build(graph.MatmulOp, lhs, rhs)

    def add(self, lhs: ir.Value, rhs: ir.Value) -> ir.Value:
        return self._build(graph.AddOp, lhs, rhs)

    def relu(self, x: ir.Value) -> ir.Value:
        return self._build(graph.ReluOp, x)

    def sub(self, lhs: ir.Value, rhs: ir.Value) -> ir.Value:
        return self._build(graph.SubOp, lhs, rhs)

    def mul(self, lhs: ir.Value, rhs: ir.Value) -> ir.Value:
        return self._build(graph.MulOp, lhs, rhs)

    def conv2d(
        self,
        x: ir.Value,
        weight: ir.Value,
        *,
        strides=(1, 1),
        padding=(0, 0),
        dilation=(1, 1),
        groups=1,
    ) -> ir.Value:
        """NCHW convolution; `padding` is (ph, pw) or (top, left, bottom, right)."""
        return self._build(
            graph.Conv2dOp,
            x,
            weight,
            strides=strides,
            padding=padding,
            dilation=dilation,
            groups=groups,
        )

    def reshape(self, x: ir.Value, shape) -> ir.Value:
        return self._build(graph.ReshapeOp, x, shape)

    def transpose(self, x: ir.Value, permutation) -> ir.Value:
        return self._build(graph.TransposeOp, x, permutation)

    def softmax(self, x: ir.Value, axis: int = -1) -> ir.Value:
        return self._build(graph.SoftmaxOp, x, axis=axis)

    def layer_norm(
        self, x: ir.Value, weight: ir.Value, bias: ir.Value, epsilon: float = 1e-5
    ) -> ir.Value:
        return self._build(graph.LayerNormOp, x, weight, bias, epsilon=epsilon)

    # Elementwise math.
    def gelu(self, x: ir.Value, approximate: str = "none") -> ir.Value:
        return self._build(graph.GeluOp, x, approximate=approximate)

    def unary(self, name: str, x: ir.Value) -> ir.Value:
        """An elementwise op of `graph.UNARY_OPS` by name ("relu", "silu", "tanh", ...)."""
        if name not in graph.UNARY_OPS:
            raise ValueError(f"unknown unary op '{name}'; valid: {', '.join(graph.UNARY_OPS)}")
        if name == "gelu":
            return self.gelu(x)
        return self._build(_op_class(f"graph.{name}"), x)

    def silu(self, x: ir.Value) -> ir.Value:
        return self._build(graph.SiluOp, x)

    def sigmoid(self, x: ir.Value) -> ir.Value:
        return self._build(graph.SigmoidOp, x)

    def tanh(self, x: ir.Value) -> ir.Value:
        return self._build(graph.TanhOp, x)

    def exp(self, x: ir.Value) -> ir.Value:
        return self._build(graph.ExpOp, x)

    def log(self, x: ir.Value) -> ir.Value:
        return self._build(graph.LogOp, x)

    def erf(self, x: ir.Value) -> ir.Value:
        return self._build(graph.ErfOp, x)

    def sqrt(self, x: ir.Value) -> ir.Value:
        return self._build(graph.SqrtOp, x)

    def rsqrt(self, x: ir.Value) -> ir.Value:
        return self._build(graph.RsqrtOp, x)

    def neg(self, x: ir.Value) -> ir.Value:
        return self._build(graph.NegOp, x)

    def abs(self, x: ir.Value) -> ir.Value:
        return self._build(graph.AbsOp, x)

    def binary(self, name: str, lhs: ir.Value, rhs: ir.Value) -> ir.Value:
        """A broadcasting op of `graph.BINARY_OPS` by name ("add", "div", "maximum", ...)."""
        if name not in graph.BINARY_OPS:
            raise ValueError(f"unknown binary op '{name}'; valid: {', '.join(graph.BINARY_OPS)}")
        return self._build(_op_class(f"graph.{name}"), lhs, rhs)

    def div(self, lhs: ir.Value, rhs: ir.Value) -> ir.Value:
        return self._build(graph.DivOp, lhs, rhs)

    def pow(self, lhs: ir.Value, rhs: ir.Value) -> ir.Value:
        return self._build(graph.PowOp, lhs, rhs)

    def maximum(self, lhs: ir.Value, rhs: ir.Value) -> ir.Value:
        return self._build(graph.MaximumOp, lhs, rhs)

    def minimum(self, lhs: ir.Value, rhs: ir.Value) -> ir.Value:
        return self._build(graph.MinimumOp, lhs, rhs)

    # Normalization, reductions, pooling.
    def log_softmax(self, x: ir.Value, axis: int = -1) -> ir.Value:
        return self._build(graph.LogSoftmaxOp, x, axis=axis)

    def batch_norm(
        self,
        x: ir.Value,
        weight: ir.Value,
        bias: ir.Value,
        mean: ir.Value,
        var: ir.Value,
        epsilon: float = 1e-5,
    ) -> ir.Value:
        return self._build(graph.BatchNormOp, x, weight, bias, mean, var, epsilon=epsilon)

    def reduce(self, kind: str, x: ir.Value, axes, keepdim: bool = False) -> ir.Value:
        """`kind` is "sum", "mean" or "max"."""
        classes = {"sum": graph.ReduceSumOp, "mean": graph.ReduceMeanOp, "max": graph.ReduceMaxOp}
        if kind not in classes:
            raise ValueError(f"unknown reduction '{kind}'; valid: sum, mean, max")
        return self._build(classes[kind], x, axes, keepdim=keepdim)

    def max_pool2d(
        self, x: ir.Value, kernel, strides=None, padding=(0, 0), dilation=(1, 1)
    ) -> ir.Value:
        return self._build(
            graph.MaxPool2dOp,
            x,
            kernel=kernel,
            strides=strides,
            padding=padding,
            dilation=dilation,
        )

    def avg_pool2d(
        self, x: ir.Value, kernel, strides=None, padding=(0, 0), count_include_pad: bool = True
    ) -> ir.Value:
        return self._build(
            graph.AvgPool2dOp,
            x,
            kernel=kernel,
            strides=strides,
            padding=padding,
            count_include_pad=count_include_pad,
        )

    def adaptive_avg_pool2d(self, x: ir.Value, output_size) -> ir.Value:
        return self._build(graph.AdaptiveAvgPool2dOp, x, list(output_size))

    # Data movement.
    def slice(self, x: ir.Value, offsets, sizes, strides=None) -> ir.Value:
        return self._build(graph.SliceOp, x, list(offsets), list(sizes), strides)

    def concat(self, values: Sequence[ir.Value], axis: int) -> ir.Value:
        """Join `values` along `axis` (a chain of binary `graph.concat`)."""
        if not values:
            raise ValueError("concat needs at least one value")
        result = values[0]
        for v in values[1:]:
            result = self._build(graph.ConcatOp, result, v, axis=axis)
        return result

    def broadcast_to(self, x: ir.Value, shape) -> ir.Value:
        return self._build(graph.BroadcastToOp, x, list(shape))

    def gather(self, x: ir.Value, indices: ir.Value, axis: int = 0) -> ir.Value:
        return self._build(graph.GatherOp, x, indices, axis=axis)

    def finish(self, *outputs: ir.Value) -> ir.Module:
        """Return `outputs` from the function and give the finished module."""
        with self.context, self._location(), ir.InsertionPoint(self._entry):
            func.ReturnOp(list(outputs))
        ftype = ir.FunctionType.get(self._inputs, [v.type for v in outputs], context=self.context)
        self._fn.attributes["function_type"] = ir.TypeAttr.get(ftype, context=self.context)
        return self.module
