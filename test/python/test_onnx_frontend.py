"""ONNX frontend: per-op graphs against onnx's numpy reference evaluator, constant folding of
exporters' shape arithmetic, errors, and the example models exported by PyTorch."""

from __future__ import annotations

import runpy
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import strata
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from strata.diagnostics import CompileError
from strata.frontends.onnx import from_onnx

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
INT64_MAX = np.iinfo(np.int64).max
_rng = np.random.default_rng(7)


def r(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape).astype(np.float32)


def pos(*shape: int) -> np.ndarray:
    """Positive values away from zero (log, sqrt, div, pow inputs)."""
    return (np.abs(r(*shape)) + 0.5).astype(np.float32)


def i64(*values) -> np.ndarray:
    return np.array(values, np.int64)


def scalar(value) -> np.ndarray:
    """A rank-0 int64 (from an int) or float32 array."""
    return np.array(value, np.int64 if isinstance(value, int) else np.float32)


def node(op: str, inputs, outputs=("y",), **attrs):
    return helper.make_node(op, list(inputs), list(outputs), name=f"{op.lower()}_node", **attrs)


def make_model(nodes, feeds, inits=None, opset=17, outputs=("y",)):
    """A model whose inputs are `feeds` (shapes and types from the arrays)."""
    inputs = [
        helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(array.dtype), array.shape
        )
        for name, array in feeds.items()
    ]
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs]
    initializers = [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()]
    graph = helper.make_graph(nodes, "test", inputs, outs, initializer=initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def case(nodes, feeds, inits=None, opset=17, outputs=("y",), id=None):
    nodes = nodes if isinstance(nodes, list) else [nodes]
    return pytest.param(nodes, feeds, inits, opset, outputs, id=id)


def check(model, feeds, rtol=1e-4, atol=1e-5):
    expected = ReferenceEvaluator(model).run(None, feeds)
    got = strata.compile(model)(*feeds.values())
    got = list(got) if isinstance(got, tuple) else [got]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


UNARY = ["Relu", "Sigmoid", "Tanh", "Exp", "Erf", "Neg", "Abs", "Reciprocal"]
POSITIVE_UNARY = ["Log", "Sqrt"]

CASES = [
    # Linear algebra.
    case(
        node("Gemm", ["a", "w", "c"], transB=1, alpha=0.5, beta=2.0),
        {"a": r(3, 4)},
        {"w": r(5, 4), "c": r(5)},
        id="gemm-weight-transB-alpha-beta",
    ),
    case(
        node("Gemm", ["a", "b", "c"], transA=1, beta=0.5),
        {"a": r(4, 3), "b": r(4, 5), "c": r(3, 5)},
        id="gemm-inputs-transA-beta",
    ),
    case(node("Gemm", ["a", "b"], transB=1), {"a": r(3, 4), "b": r(6, 4)}, id="gemm-no-bias"),
    case(node("MatMul", ["a", "b"]), {"a": r(2, 3, 4, 5), "b": r(5, 6)}, id="matmul-batched"),
    case(node("MatMul", ["a", "b"]), {"a": r(2, 1, 4, 5), "b": r(3, 5, 6)}, id="matmul-bcast"),
    case(node("MatMul", ["a", "w"]), {"a": r(5)}, {"w": r(5, 6)}, id="matmul-vector"),
    # Convolution.
    case(
        node("Conv", ["x", "w", "b"], pads=[1, 1, 1, 1], strides=[2, 2]),
        {"x": r(1, 3, 10, 10)},
        {"w": r(8, 3, 3, 3), "b": r(8)},
        id="conv-pads-strides-bias",
    ),
    case(
        node("Conv", ["x", "w"], dilations=[2, 2], pads=[0, 1, 2, 1]),
        {"x": r(2, 3, 9, 9)},
        {"w": r(4, 3, 3, 3)},
        id="conv-dilation-asymmetric-pads",
    ),
    case(
        node("Conv", ["x", "w", "b"], group=4, pads=[1, 1, 1, 1]),
        {"x": r(1, 4, 7, 7)},
        {"w": r(8, 1, 3, 3), "b": r(8)},
        id="conv-groups",
    ),
    *(
        case(
            node("Conv", ["x", "w"], auto_pad=mode, strides=[2, 2], kernel_shape=[4, 4]),
            {"x": r(1, 2, 9, 9)},
            {"w": r(3, 2, 4, 4)},
            id=f"conv-{mode.lower()}",
        )
        for mode in ("SAME_UPPER", "SAME_LOWER", "VALID")
    ),
    case(
        node("Conv", ["x", "w", "b"], pads=[1, 2]),
        {"x": r(2, 3, 12)},
        {"w": r(4, 3, 3), "b": r(4)},
        id="conv-1d",
    ),
    case(
        node("Conv", ["x", "w"], pads=[1, 1, 1, 1]),
        {"x": r(1, 2, 5, 5), "w": r(3, 2, 3, 3)},
        id="conv-weight-input",
    ),
    # Elementwise.
    *(case(node(op, ["x"]), {"x": r(2, 3, 4)}, id=op.lower()) for op in UNARY),
    *(case(node(op, ["x"]), {"x": pos(2, 3, 4)}, id=op.lower()) for op in POSITIVE_UNARY),
    case(node("Gelu", ["x"]), {"x": r(2, 3, 4)}, opset=20, id="gelu"),
    case(node("Gelu", ["x"], approximate="tanh"), {"x": r(2, 8)}, opset=20, id="gelu-tanh"),
    *(
        case(node(op, ["x", "b"]), {"x": r(2, 3, 4), "b": r(3, 1)}, id=op.lower())
        for op in ("Add", "Sub", "Mul")
    ),
    case(node("Div", ["x", "b"]), {"x": r(2, 3, 4), "b": pos(4)}, id="div"),
    case(node("Pow", ["x", "b"]), {"x": pos(2, 3), "b": r(2, 3)}, id="pow"),
    *(
        case(
            node("Pow", ["x", "e"]),
            {"x": r(2, 3) if e in (2.0, 3.0) else pos(2, 3)},
            {"e": np.array(e, np.float32)},
            id=f"pow-constant-{e}",
        )
        for e in (2.0, 3.0, 0.5, 1.7)
    ),
    case(node("Max", ["a", "b", "c"]), {"a": r(2, 3), "b": r(3), "c": r(2, 1)}, id="max-variadic"),
    case(node("Min", ["a", "b"]), {"a": r(2, 3), "b": r(2, 3)}, id="min"),
    case(node("Sum", ["a", "b", "c"]), {"a": r(2, 3), "b": r(3), "c": r(2, 3)}, id="sum"),
    case(node("Mul", ["x", "s"]), {"x": r(2, 3)}, {"s": np.array(3.0, np.float32)}, id="scalar"),
    case(
        node("Clip", ["x", "lo", "hi"]),
        {"x": r(3, 4) * 8},
        {"lo": scalar(0.0), "hi": scalar(6.0)},
        id="clip",
    ),
    case(node("Clip", ["x", "", "hi"]), {"x": r(3, 4)}, {"hi": scalar(0.5)}, id="clip-max"),
    case(node("HardSigmoid", ["x"], alpha=0.3), {"x": r(3, 4) * 4}, id="hardsigmoid"),
    case(node("HardSwish", ["x"]), {"x": r(3, 4) * 4}, id="hardswish"),
    case(node("LeakyRelu", ["x"], alpha=0.1), {"x": r(3, 4)}, id="leakyrelu"),
    case(node("Identity", ["x"]), {"x": r(3, 4)}, id="identity"),
    case(
        node("Dropout", ["x", "ratio"]),
        {"x": r(3, 4)},
        {"ratio": scalar(0.5)},
        id="dropout",
    ),
    case(node("Cast", ["x"], to=TensorProto.FLOAT), {"x": r(3, 4)}, id="cast-same-type"),
    # Normalization and reductions.
    case(
        node("BatchNormalization", ["x", "s", "b", "m", "v"], epsilon=1e-3),
        {"x": r(2, 3, 4, 5)},
        {"s": r(3), "b": r(3), "m": r(3), "v": pos(3)},
        opset=15,
        id="batchnorm",
    ),
    case(node("Softmax", ["x"], axis=1), {"x": r(2, 5, 3)}, opset=13, id="softmax-axis1"),
    case(node("Softmax", ["x"]), {"x": r(2, 5, 3)}, id="softmax"),
    case(node("LogSoftmax", ["x"], axis=-1), {"x": r(2, 5, 3)}, opset=13, id="logsoftmax"),
    case(
        node("LayerNormalization", ["x", "s", "b"], epsilon=1e-3),
        {"x": r(2, 5, 8)},
        {"s": r(8), "b": r(8)},
        id="layernorm",
    ),
    case(
        node("LayerNormalization", ["x", "s"], axis=-2),
        {"x": r(2, 5, 8)},
        {"s": r(5, 8)},
        id="layernorm-2d-no-bias",
    ),
    case(
        node("ReduceSum", ["x", "axes"]),
        {"x": r(2, 3, 4)},
        {"axes": i64(1)},
        opset=13,
        id="reducesum-13",
    ),
    case(
        node("ReduceMean", ["x"], axes=[-1], keepdims=0),
        {"x": r(2, 3, 4)},
        opset=13,
        id="reducemean-13-attr",
    ),
    case(
        node("ReduceMean", ["x", "axes"]),
        {"x": r(2, 3, 4)},
        {"axes": i64(0, 2)},
        opset=18,
        id="reducemean-18-input",
    ),
    case(node("ReduceMax", ["x"], keepdims=0), {"x": r(2, 3, 4)}, opset=18, id="reducemax-all"),
    case(
        node("ReduceMax", ["x", "axes"], keepdims=1),
        {"x": r(2, 3, 4)},
        {"axes": i64(1)},
        opset=18,
        id="reducemax-18",
    ),
    case(
        node("ReduceSum", ["x"], noop_with_empty_axes=1),
        {"x": r(2, 3)},
        opset=13,
        id="reducesum-noop",
    ),
    case(node("ReduceMin", ["x"], axes=[1]), {"x": r(2, 3, 4)}, opset=17, id="reducemin"),
    # Pooling.
    case(
        node("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        {"x": r(1, 2, 9, 9)},
        id="maxpool",
    ),
    case(
        node("MaxPool", ["x"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        {"x": r(1, 2, 7, 7)},
        id="maxpool-ceil",
    ),
    case(
        node("MaxPool", ["x"], kernel_shape=[2, 2], dilations=[2, 2]),
        {"x": r(1, 2, 7, 7)},
        id="maxpool-dilation",
    ),
    *(
        case(
            node(
                "AveragePool",
                ["x"],
                kernel_shape=[3, 3],
                strides=[2, 2],
                pads=[1, 1, 1, 1],
                count_include_pad=c,
            ),
            {"x": r(1, 2, 8, 8)},
            id=f"avgpool-count-include-pad-{c}",
        )
        for c in (0, 1)
    ),
    case(
        node("AveragePool", ["x"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        {"x": r(1, 2, 7, 7)},
        id="avgpool-ceil",
    ),
    case(node("GlobalAveragePool", ["x"]), {"x": r(2, 3, 5, 5)}, id="globalavgpool"),
    case(node("GlobalMaxPool", ["x"]), {"x": r(2, 3, 5, 5)}, id="globalmaxpool"),
    # Data movement.
    *(
        case(node("Flatten", ["x"], axis=a), {"x": r(2, 3, 4, 5)}, id=f"flatten-{a}")
        for a in (0, 2, -1)
    ),
    case(node("Reshape", ["x", "s"]), {"x": r(2, 3, 4)}, {"s": i64(0, -1)}, id="reshape-0-m1"),
    case(node("Reshape", ["x", "s"]), {"x": r(2, 3, 4)}, {"s": i64(-1, 2, 2)}, id="reshape"),
    case(node("Transpose", ["x"], perm=[2, 0, 1]), {"x": r(2, 3, 4)}, id="transpose"),
    case(node("Transpose", ["x"]), {"x": r(2, 3, 4)}, id="transpose-default"),
    case(node("Squeeze", ["x", "a"]), {"x": r(2, 1, 4, 1)}, {"a": i64(1)}, id="squeeze"),
    case(node("Squeeze", ["x"]), {"x": r(2, 1, 4, 1)}, id="squeeze-all"),
    case(node("Unsqueeze", ["x", "a"]), {"x": r(2, 4)}, {"a": i64(0, -1)}, id="unsqueeze"),
    case(
        node("Slice", ["x", "s", "e", "a", "t"]),
        {"x": r(4, 5, 6)},
        {"s": i64(1, -5), "e": i64(INT64_MAX, -1), "a": i64(0, 2), "t": i64(1, 2)},
        id="slice-steps-negative",
    ),
    case(
        node("Slice", ["x", "s", "e"]),
        {"x": r(4, 5)},
        {"s": i64(1, 0), "e": i64(3, 100)},
        id="slice-default-axes",
    ),
    case(
        node("Concat", ["a", "b", "c"], axis=1),
        {"a": r(2, 1), "b": r(2, 3), "c": r(2, 2)},
        id="concat",
    ),
    case(
        node("Split", ["x", "s"], ["y", "z"], axis=1),
        {"x": r(2, 5)},
        {"s": i64(2, 3)},
        opset=13,
        outputs=("y", "z"),
        id="split-13",
    ),
    case(
        node("Split", ["x"], ["y", "z"], axis=0),
        {"x": r(4, 3)},
        opset=13,
        outputs=("y", "z"),
        id="split-equal",
    ),
    case(
        node("Split", ["x"], ["y", "z", "w"], axis=1, num_outputs=3),
        {"x": r(2, 7)},
        opset=18,
        outputs=("y", "z", "w"),
        id="split-18-num-outputs",
    ),
    case(node("Expand", ["x", "s"]), {"x": r(3, 1)}, {"s": i64(2, 3, 4)}, id="expand"),
    case(node("Tile", ["x", "t"]), {"x": r(2, 3)}, {"t": i64(2, 3)}, id="tile"),
    case(
        node("Pad", ["x", "p", "v"]),
        {"x": r(2, 3, 4)},
        {"p": i64(0, 1, 2, 0, 2, 3), "v": scalar(1.5)},
        id="pad-constant",
    ),
    case(
        node("Pad", ["x", "p", "", "a"]),
        {"x": r(1, 2, 4, 4)},
        {"p": i64(1, 2, 1, 2), "a": i64(-2, -1)},
        opset=18,
        id="pad-18-axes",
    ),
    case(
        node("Gather", ["x", "i"], axis=1), {"x": r(2, 3, 4)}, {"i": scalar(-1)}, id="gather-scalar"
    ),
    case(
        node("Gather", ["x", "i"]),
        {"x": r(5, 3)},
        {"i": np.array([[0, 4], [-1, 2]], np.int64)},
        id="gather-indices",
    ),
    case(
        node("Gather", ["w", "ids"]),
        {"ids": np.array([[1, 7, 3]], np.int64)},
        {"w": r(10, 4)},
        id="embedding",
    ),
]


@pytest.mark.parametrize("nodes,feeds,inits,opset,outputs", CASES)
def test_op(nodes, feeds, inits, opset, outputs) -> None:
    check(make_model(nodes, feeds, inits, opset, outputs), feeds)


@pytest.mark.parametrize("opset", [13, 17, 18, onnx.defs.onnx_opset_version()])
def test_ops_whose_attributes_became_inputs(opset) -> None:
    """Split sizes, Squeeze/Unsqueeze axes and Reduce* axes in the form each opset uses."""

    def reduce(op, x, out, axis):  # axes: an input from opset 18, an attribute before
        if opset >= 18:
            return node(op, [x, f"axis{axis}"], [out])
        return node(op, [x], [out], axes=[axis])

    nodes = [
        node("Split", ["x", "sizes"], ["a", "b"], axis=1),
        node("Unsqueeze", ["a", "axis0"], ["a1"]),
        node("Squeeze", ["a1", "axis0"], ["a2"]),
        reduce("ReduceMean", "a2", "m", 2),
        node("Sub", ["a2", "m"], ["y"]),
        reduce("ReduceMax", "x", "mx", 1),
        node("Slice", ["b", "starts", "ends", "axis1", "axis2"], ["s"]),
    ]
    inits = {"sizes": i64(2, 3), "starts": i64(0), "ends": i64(3)}
    inits |= {f"axis{k}": i64(k) for k in range(3)}
    feeds = {"x": r(2, 5, 4)}
    check(make_model(nodes, feeds, inits, opset, outputs=("y", "mx", "s")), feeds)


def test_pad_negative_pads_crop() -> None:
    feeds = {"x": r(3, 5)}
    model = make_model([node("Pad", ["x", "p"])], feeds, {"p": i64(-1, 2, 0, -2)})
    expected = np.pad(feeds["x"][1:, :3], [(0, 0), (2, 0)])
    np.testing.assert_array_equal(strata.compile(model)(feeds["x"]), expected)


def _shape_arithmetic_model():
    """What exporters emit for `x.view(x.size(0), -1)` plus a causal mask and positions: only
    Reshape and Add should survive."""
    nodes = [
        node("Shape", ["x"], ["shape"]),
        node("Gather", ["shape", "zero"], ["n"], axis=0),
        node("Unsqueeze", ["n", "zero_axes"], ["n1"]),
        node("Concat", ["n1", "minus_one"], ["target"], axis=0),
        node("Reshape", ["x", "target"], ["flat"]),
        node("Shape", ["flat"], ["fshape"]),
        node("ConstantOfShape", ["fshape"], ["ones"], value=helper.make_tensor("", 1, [1], [1])),
        node("Trilu", ["ones"], ["lower"], upper=0),
        node("Equal", ["lower", "zero_f"], ["masked"]),
        node("Where", ["masked", "ninf", "zero_f"], ["bias"]),
        node("Cast", ["bias"], ["bias_f"], to=TensorProto.FLOAT),
        node("Range", ["zero", "n", "step"], ["positions"]),
        node("Cast", ["positions"], ["positions_f"], to=TensorProto.FLOAT),
        node("Unsqueeze", ["positions_f", "minus_one"], ["column"]),
        node("Add", ["bias_f", "column"], ["bias_pos"]),
        node("Add", ["flat", "bias_pos"], ["y"]),
    ]
    inits = {
        "zero": scalar(0),
        "step": scalar(1),
        "zero_axes": i64(0),
        "minus_one": i64(-1),
        "zero_f": scalar(0.0),
        "ninf": scalar(-1e9),
    }
    for n in nodes:
        n.name = f"{n.op_type}_{n.output[0]}"
    return nodes, inits


def test_constant_folding_of_shape_arithmetic() -> None:
    nodes, inits = _shape_arithmetic_model()
    feeds = {"x": r(6, 2, 3)}
    model = make_model(nodes, feeds, inits)
    module = from_onnx(model)
    ops = [op.operation.name for op in module.body.operations[0].regions[0].blocks[0].operations]
    assert sorted(set(ops)) == ["func.return", "graph.add", "graph.constant", "graph.reshape"]
    check(model, feeds)


def test_initializers_are_resources_not_text() -> None:
    w = r(16, 8)
    model = make_model([node("MatMul", ["x", "layer.w"])], {"x": r(2, 16)}, {"layer.w": w})
    module = from_onnx(model)
    asm = module.operation.get_asm()
    assert "dense_resource<layer_w>" in asm
    assert "dense<" not in asm


def test_ops_are_located_at_nodes() -> None:
    model = make_model([node("Relu", ["x"])], {"x": r(2, 3)})
    module = from_onnx(model, name="f")
    relu = module.body.operations[0].regions[0].blocks[0].operations[0]
    assert str(relu.location) == 'loc("relu_node"("<onnx:test>":0:0))'
    assert module.body.operations[0].attributes["sym_name"].value == "f"


def test_compile_accepts_paths_and_protos(tmp_path: Path) -> None:
    feeds = {"x": r(2, 3)}
    model = make_model([node("Relu", ["x"])], feeds)
    path = tmp_path / "relu.onnx"
    onnx.save(model, path)
    for source in (str(path), path, model):
        np.testing.assert_array_equal(strata.compile(source)(feeds["x"]), np.maximum(feeds["x"], 0))


def test_unsupported_ops_are_all_listed(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Foo", ["x"], ["a"], name="custom", domain="com.example"),
        helper.make_node("NonZero", ["a"], ["b"], name="nz"),
        helper.make_node("Relu", ["x"], ["c"], name="fine"),
        helper.make_node("Less", ["c", "x"], ["d"], name="cmp"),
        helper.make_node("Where", ["d", "x", "c"], ["y"], name="select"),
    ]
    model = make_model(nodes, {"x": r(2, 3)}, outputs=("y", "b"))
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    path = tmp_path / "bad.onnx"
    onnx.save(model, path)
    with pytest.raises(CompileError) as info:
        from_onnx(path)
    diags = info.value.diagnostics
    assert "4 node(s) of unsupported ONNX op types (Foo, Less, NonZero, Where)" in diags[0].message
    lines = [d.message for d in diags[1:]]
    assert lines == [
        "node 'custom': unsupported ONNX op 'com.example.Foo'",
        "node 'nz': unsupported ONNX op 'NonZero': supported only when every input is a "
        "compile-time constant",
        "node 'cmp': unsupported ONNX op 'Less': supported only when every input is a "
        "compile-time constant",
        "node 'select': unsupported ONNX op 'Where': supported only when every input is a "
        "compile-time constant",
    ]
    assert all(d.file == str(path) for d in diags)


def test_unused_unsupported_nodes_are_ignored() -> None:
    nodes = [node("NonZero", ["x"], ["dead"]), node("Relu", ["x"])]
    feeds = {"x": r(2, 3)}
    check(make_model(nodes, feeds), feeds)


def test_unsorted_graph_is_sorted() -> None:
    feeds = {"x": r(2, 3)}
    model = make_model([node("Relu", ["a"]), node("Neg", ["x"], ["a"])], feeds)
    np.testing.assert_array_equal(strata.compile(model)(feeds["x"]), np.maximum(-feeds["x"], 0))
    cycle = make_model(
        [node("Relu", ["b"], ["a"]), node("Neg", ["a"], ["b"]), node("Abs", ["a"])], feeds
    )
    with pytest.raises(CompileError, match="the graph has a cycle through node"):
        from_onnx(cycle)


def test_symbolic_dimension_is_rejected_and_can_be_fixed() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([node("Relu", ["x"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(CompileError, match=r"input 'x' has a symbolic dimension 'batch'"):
        strata.compile(model)
    feed = r(4, 3)
    out = strata.compile(from_onnx(model, input_shapes={"x": (4, 3)}))(feed)
    np.testing.assert_array_equal(out, np.maximum(feed, 0))
    with pytest.raises(CompileError, match=r"input_shapes gives \[4, 5\] for input 'x'"):
        from_onnx(model, input_shapes={"x": (4, 5)})
    with pytest.raises(CompileError, match=r"input_shapes names z, which the model does not"):
        from_onnx(model, input_shapes={"z": (4, 3)})


@pytest.mark.parametrize(
    "nodes,feeds,inits,opset,message",
    [
        (
            [node("Relu", ["x"])],
            {"x": r(2)},
            None,
            12,
            r"ONNX opset 12 is not supported: expected 13 to \d+",
        ),
        (
            [node("Cast", ["x"], to=TensorProto.INT64)],
            {"x": r(2)},
            None,
            17,
            r"Cast node 'cast_node': casting a computed f32 tensor to i64 is not supported",
        ),
        (
            [node("MatMul", ["x", "w"])],
            {"x": r(2, 3)},
            {"w": r(4, 5)},
            17,
            r"MatMul node 'matmul_node': graph.matmul: contracting dimensions differ",
        ),
        (
            [node("Reshape", ["x", "s"])],
            {"x": r(2, 3), "s": i64(3, 2)},
            None,
            17,
            r"Reshape node 'reshape_node': the shape \(input 1\) must be a compile-time constant",
        ),
        (
            [node("Slice", ["x", "s", "e", "a", "t"])],
            {"x": r(4)},
            {"s": i64(3), "e": i64(0), "a": i64(0), "t": i64(-1)},
            17,
            r"Slice node 'slice_node': step -1 on axis 0: only positive steps are supported",
        ),
        (
            [node("Conv", ["x", "w"])],
            {"x": r(1, 1, 3, 3, 3)},
            {"w": r(1, 1, 1, 1, 1)},
            17,
            r"Conv node 'conv_node': only 1-D and 2-D convolutions are supported",
        ),
    ],
    ids=["old-opset", "cast", "shape-error", "dynamic-reshape", "negative-step", "conv3d"],
)
def test_errors_name_the_node(nodes, feeds, inits, opset, message) -> None:
    with pytest.raises(CompileError, match=message):
        from_onnx(make_model(nodes, feeds, inits, opset))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CompileError, match="cannot read"):
        strata.compile(str(tmp_path / "missing.onnx"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\xff\xfe not a protobuf")
    with pytest.raises(CompileError, match="is not an ONNX model"):
        strata.compile(junk)
    with pytest.raises(TypeError, match="from_onnx takes a path or an onnx.ModelProto"):
        from_onnx(42)  # type: ignore[arg-type]


def test_importing_strata_does_not_import_onnx() -> None:
    code = (
        "import sys, strata, strata.frontends.onnx, strata.compiler\n"
        "assert 'onnx' not in sys.modules, 'onnx was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- the example models, exported by PyTorch -------------------------------------------------


def _export(name: str, directory: Path, opset: int) -> tuple[Path, np.ndarray, np.ndarray]:
    """Export examples/<name>.py at `opset`; return the file, the input and PyTorch's output."""
    torch = pytest.importorskip("torch")
    ns = runpy.run_path(str(EXAMPLES / f"{name}.py"))
    model, inputs = ns["model"], ns["example_inputs"]
    path = directory / f"{name}-{opset}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, inputs, str(path), dynamo=False, opset_version=opset)
    with torch.no_grad():
        expected = model(*inputs).numpy()
    return path, inputs[0].numpy(), expected


def _newest_exporter_opset() -> int:
    """The newest opset both onnx and PyTorch's TorchScript exporter know."""
    from torch.onnx import _constants

    exporter = getattr(_constants, "ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET", 20)
    return min(onnx.defs.onnx_opset_version(), exporter)


def _relative_error(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.abs(got - expected).max() / np.abs(expected).max())


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    directory = tmp_path_factory.mktemp("onnx")
    cache: dict[tuple[str, int], tuple[Path, np.ndarray, np.ndarray]] = {}

    def get(name: str, opset: int):
        if (name, opset) not in cache:
            cache[name, opset] = _export(name, directory, opset)
        return cache[name, opset]

    return get


@pytest.mark.parametrize("opset", [13, 17, "newest"])
def test_mlp_opsets(exported, opset) -> None:
    opset = _newest_exporter_opset() if opset == "newest" else opset
    path, x, expected = exported("mlp", opset)
    assert _relative_error(strata.compile(path)(x), expected) < 1e-4


@pytest.mark.parametrize(
    "name,opset",
    [("mlp", 17), ("resnet18", 17), ("transformer", 17), ("gpt2_block", 17), ("gpt2_block", 20)],
)
def test_example_models(exported, name, opset) -> None:
    path, x, expected = exported(name, opset)
    assert _relative_error(strata.compile(path)(x), expected) < 1e-4


def test_initializer_shorter_than_its_shape_is_a_clear_error(tmp_path):
    """Found by the frontend fuzzer: translation failed reshaping the bytes (an internal
    error); onnx's checker now says what is wrong."""
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((8, 4), np.float32), "w")
    w.raw_data = w.raw_data[:-4]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
        [w],
    )
    path = tmp_path / "short.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(strata.CompileError, match="is not a valid ONNX model: .*raw_data size"):
        from_onnx(path)


FUZZ_CASES = sorted((Path(__file__).parent / "data" / "onnx-fuzz").glob("*.onnx"))


@pytest.mark.parametrize("path", FUZZ_CASES, ids=[p.stem for p in FUZZ_CASES])
def test_onnx_files_the_fuzzer_broke_give_clean_errors(path, capsys):
    """Each file made `strata compile` fail with an internal error (non-UTF-8 names, short
    initializers, nodes out of order, a graph ONNX Runtime refuses to load)."""
    from strata.tools.cli import main

    code = main(["compile", str(path), "--compile-to", "tprog", "-o", "/dev/null"])
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
    assert code == 0 or "error:" in err
