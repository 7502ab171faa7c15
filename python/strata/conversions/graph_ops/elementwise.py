"""Elementwise ops with numpy broadcasting: one spatial block over the output.

The scalar code of each op is plain arithmetic that LLVM vectorizes (transcendental functions
come from `mathfn`, not from `math` ops that become libm calls); `graph.pow` is the exception
(`math.powf`, a call of `powf` per element). f16 and bf16 operands are computed in f32 and the
result rounded back, as PyTorch does on CPU.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from mlir import ir
from mlir.dialects import arith, memref
from mlir.dialects import math as mathd

from strata.conversions.graph_ops import broadcast_index, mathfn, reference, register
from strata.conversions.tprog_builder import emit_block
from strata.dialects.tprog import IterType
from strata.irutil import float_constant

# fn(op, f32 operands) -> f32 result.
Scalar = Callable[[ir.Operation, list[ir.Value]], ir.Value]

SCALAR: dict[str, Scalar] = {
    "graph.add": lambda op, x: arith.AddFOp(x[0], x[1]).result,
    "graph.sub": lambda op, x: arith.SubFOp(x[0], x[1]).result,
    "graph.mul": lambda op, x: arith.MulFOp(x[0], x[1]).result,
    "graph.div": lambda op, x: arith.DivFOp(x[0], x[1]).result,
    "graph.pow": lambda op, x: mathd.PowFOp(x[0], x[1]).result,
    # NaN-propagating, like torch.maximum / torch.minimum.
    "graph.maximum": lambda op, x: arith.MaximumFOp(x[0], x[1]).result,
    "graph.minimum": lambda op, x: arith.MinimumFOp(x[0], x[1]).result,
    "graph.relu": lambda op, x: arith.MaximumFOp(x[0], float_constant(x[0].type, 0.0)).result,
    "graph.neg": lambda op, x: arith.NegFOp(x[0]).result,
    "graph.abs": lambda op, x: mathd.AbsFOp(x[0]).result,
    "graph.sqrt": lambda op, x: mathd.SqrtOp(x[0]).result,
    # Lowered by convert-to-llvm as 1 / sqrt(x), like torch.rsqrt.
    "graph.rsqrt": lambda op, x: mathd.RsqrtOp(x[0]).result,
    "graph.exp": lambda op, x: mathfn.exp(x[0]),
    "graph.log": lambda op, x: mathfn.log(x[0]),
    "graph.tanh": lambda op, x: mathfn.tanh(x[0]),
    "graph.sigmoid": lambda op, x: mathfn.sigmoid(x[0]),
    "graph.silu": lambda op, x: mathfn.silu(x[0]),
    "graph.erf": lambda op, x: mathfn.erf(x[0]),
    "graph.gelu": lambda op, x: mathfn.gelu(x[0], op.opview.approximate),
}


@register(*SCALAR)
def lower_elementwise(op: ir.Operation, ins: Sequence[ir.Value], out: ir.Value, name: str) -> None:
    shape = list(out.type.shape)
    scalar = SCALAR[op.name]
    element = out.type.element_type

    def body(v: list[ir.Value]) -> None:
        loaded = [
            mathfn.widen(memref.LoadOp(b, broadcast_index(b.type.shape, v)).result) for b in ins
        ]
        memref.StoreOp(mathfn.narrow(scalar(op, loaded), element), out, v)

    emit_block(
        name, [f"i{d}" for d in range(len(shape))], shape, [IterType.SPATIAL] * len(shape), body
    )


# ---- numpy semantics (PyTorch's): computed in float64, rounded to the operands' dtype ----

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _gelu(op: ir.Operation, x: np.ndarray) -> np.ndarray:
    if op.opview.approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
        return 0.5 * x * (1.0 + np.tanh(inner))
    return x * 0.5 * _erfc(-x / math.sqrt(2.0))  # = x * (1 + erf(x / sqrt 2)) / 2


NUMPY: dict[str, Callable[..., np.ndarray]] = {
    "graph.add": lambda op, a, b: a + b,
    "graph.sub": lambda op, a, b: a - b,
    "graph.mul": lambda op, a, b: a * b,
    "graph.div": lambda op, a, b: a / b,
    "graph.pow": lambda op, a, b: np.power(a, b),
    "graph.maximum": lambda op, a, b: np.maximum(a, b),
    "graph.minimum": lambda op, a, b: np.minimum(a, b),
    "graph.relu": lambda op, x: np.maximum(x, 0.0),
    "graph.neg": lambda op, x: -x,
    "graph.abs": lambda op, x: np.abs(x),
    "graph.sqrt": lambda op, x: np.sqrt(x),
    "graph.rsqrt": lambda op, x: 1.0 / np.sqrt(x),
    "graph.exp": lambda op, x: np.exp(x),
    "graph.log": lambda op, x: np.log(x),
    "graph.tanh": lambda op, x: np.tanh(x),
    "graph.sigmoid": lambda op, x: 1.0 / (1.0 + np.exp(-x)),
    "graph.silu": lambda op, x: x / (1.0 + np.exp(-x)),
    "graph.erf": lambda op, x: _erf(x),
    "graph.gelu": _gelu,
}


@reference(*NUMPY)
def elementwise_reference(op: ir.Operation, *arrays: np.ndarray) -> np.ndarray:
    """The op on float64 copies of `arrays` (numpy broadcasting), in the first operand's dtype."""
    with np.errstate(all="ignore"):  # inf and NaN are results like any other
        result = NUMPY[op.name](op, *(np.asarray(a, dtype=np.float64) for a in arrays))
    return np.asarray(result).astype(arrays[0].dtype)
