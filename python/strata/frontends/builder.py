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

_ELEMENT = {"f32": ir.F32Type.get, "f16": ir.F16Type.get, "bf16": ir.BF16Type.get}


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

    def constant(self, array: np.ndarray, name: str = "weight") -> ir.Value:
        """A weight, held as a resource blob (not printed as text)."""
        with self.context, self._location() as loc, ir.InsertionPoint(self._entry):
            return graph.ConstantOp.from_numpy(np.asarray(array), name=name, loc=loc).output

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

    def finish(self, *outputs: ir.Value) -> ir.Module:
        """Return `outputs` from the function and give the finished module."""
        with self.context, self._location(), ir.InsertionPoint(self._entry):
            func.ReturnOp(list(outputs))
        ftype = ir.FunctionType.get(self._inputs, [v.type for v in outputs], context=self.context)
        self._fn.attributes["function_type"] = ir.TypeAttr.get(ftype, context=self.context)
        return self.module
