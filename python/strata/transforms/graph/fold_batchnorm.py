"""graph-fold-batchnorm: fold an inference batch norm into the convolution or linear layer
before it (new weights and a bias add), as TVM's FoldScaleAxis and PyTorch's fuse_conv_bn_eval.

batch_norm(y) = y * s + (beta - mean * s) with s = gamma / sqrt(var + epsilon), per channel
(dimension 1). It folds when its parameters are constants and y is
- `graph.conv2d(x, W)` with a constant W (NCHW: output channel o is dimension 1): W[o] *= s[o];
- `graph.matmul(x, W)` with a constant 2-D W and a 2-D result (features are dimension 1, the
  last one): W[:, j] *= s[j]; a matmul with batch dimensions normalises rows, not features;
optionally followed by `graph.add` of a constant bias broadcast per channel, each intermediate
result used only on this path. Input: any module. Output: the folded batch norms become a bias
`graph.add` of the rescaled layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mlir import ir

from strata.dialects.constants import (
    constant_producer,
    make_constant,
    read_constants,
)
from strata.dialects.graph import AddOp
from strata.irutil import walk
from strata.passes import Pass


def _producer(value: ir.Value) -> ir.Operation | None:
    owner = value.owner
    return None if isinstance(owner, ir.Block) else owner.operation


def _constant(value: ir.Value) -> ir.Operation:
    op = constant_producer(value)
    assert op is not None, "internal: matched a non-constant operand"
    return op


def _single_use(value: ir.Value) -> bool:
    return len(list(value.uses)) == 1


@dataclass
class _Match:
    """A batch norm and the layer it folds into: `layer` (conv2d or matmul), its constant weight
    (operand 1), and the optional constant bias add between them."""

    batch_norm: ir.Operation
    layer: ir.Operation
    add: ir.Operation | None
    bias_operand: int  # which operand of `add` is the bias


def _channel_bias(value: ir.Value, out_shape: list[int]) -> bool:
    """Whether `value` is a constant that broadcasts along channel dimension 1 only (or is a
    scalar) against an output of `out_shape` without changing its shape."""
    if constant_producer(value) is None:
        return False
    shape, rank = list(value.type.shape), len(out_shape)
    if len(shape) > rank:
        return False
    padded = [1] * (rank - len(shape)) + shape
    return all(d == 1 for i, d in enumerate(padded) if i != 1) and padded[1] in (1, out_shape[1])


def _layer_of(value: ir.Value) -> ir.Operation | None:
    """The conv2d or linear matmul computing `value` with a constant weight, if it folds."""
    op = _producer(value)
    if op is None or op.name not in ("graph.conv2d", "graph.matmul") or not _single_use(value):
        return None
    weight = op.operands[1]
    if constant_producer(weight) is None or weight.type.element_type != value.type.element_type:
        return None
    if op.name == "graph.conv2d":
        return op
    if op.name == "graph.matmul":
        # Batch norm normalises dimension 1: that is the matmul's feature (last) dimension only
        # when both the result and the weight are matrices.
        if len(op.results[0].type.shape) == 2 and len(op.operands[1].type.shape) == 2:
            return op
    return None


def _match(bn: ir.Operation) -> _Match | None:
    if any(constant_producer(v) is None for v in list(bn.operands)[1:]):
        return None
    if str(bn.results[0].type.element_type) not in ("f32", "f16"):
        return None
    value = bn.operands[0]
    layer = _layer_of(value)
    if layer is not None:
        return _Match(bn, layer, None, 0)
    add = _producer(value)
    if add is None or add.name != "graph.add" or not _single_use(value):
        return None
    out_type = add.results[0].type
    for data, bias in ((0, 1), (1, 0)):
        layer = _layer_of(add.operands[data])
        if (
            layer is not None
            and layer.results[0].type == out_type
            and _channel_bias(add.operands[bias], list(out_type.shape))
        ):
            return _Match(bn, layer, add, bias)
    return None


def _fold(m: _Match) -> None:
    bn, layer = m.batch_norm, m.layer
    out_type = layer.results[0].type
    channels = out_type.shape[1]
    bias_value = m.add.operands[m.bias_operand] if m.add is not None else None
    inputs = [*list(bn.operands)[1:], layer.operands[1]]
    if bias_value is not None:
        inputs.append(bias_value)
    replaced = list({_constant(v): None for v in inputs})  # erased below once unused
    arrays = read_constants([_constant(v).attributes["value"] for v in inputs])
    if any(a is None for a in arrays):
        return
    gamma, beta, mean, var, weight = (np.asarray(a, dtype=np.float64) for a in arrays[:5])
    epsilon = ir.FloatAttr(bn.attributes["epsilon"]).value
    scale = gamma / np.sqrt(var + epsilon)
    bias = np.zeros(channels)
    if bias_value is not None:
        bias = np.broadcast_to(np.asarray(arrays[5], dtype=np.float64).reshape(-1), (channels,))
    new_bias = beta + (bias - mean) * scale
    if layer.name == "graph.conv2d":  # O x C/g x KH x KW: output channel first
        new_weight = weight * scale[:, None, None, None]
        bias_shape = [channels] + [1] * (len(out_type.shape) - 2)
    else:  # K x N: output feature last
        new_weight = weight * scale[None, :]
        bias_shape = [channels]
    with ir.InsertionPoint(layer), layer.location:
        w = make_constant(new_weight, layer.operands[1].type, name="bn_folded_weight")
    layer.operands[1] = w.output
    bias_type = ir.RankedTensorType.get(bias_shape, out_type.element_type)
    new_bias = new_bias.reshape(bias_shape)
    if m.add is not None:  # the existing bias add takes the new bias
        with ir.InsertionPoint(m.add), m.add.location:
            b = make_constant(new_bias, bias_type, name="bn_folded_bias")
        m.add.operands[m.bias_operand] = b.output
        result = m.add.results[0]
    else:
        with ir.InsertionPoint(bn), bn.location:
            b = make_constant(new_bias, bias_type, name="bn_folded_bias")
            result = AddOp(layer.results[0], b.output).output
    bn.results[0].replace_all_uses_with(result)
    bn.erase()
    for constant in replaced:
        if not any(True for _ in constant.results[0].uses):
            constant.erase()


class GraphFoldBatchnormPass(Pass):
    """Fold inference batch norms into the convolution or linear layer before them"""

    argument = "graph-fold-batchnorm"

    def run(self, module: ir.Operation) -> None:
        for op in [op for op in walk(module) if op.name == "graph.batch_norm"]:
            match = _match(op)
            if match is not None:
                _fold(match)
