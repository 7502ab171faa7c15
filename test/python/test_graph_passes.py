"""Graph-level optimisation passes: constant folding, CSE, batch-norm folding and rule-based
library dispatch keep numerics (compiled with and without them, against numpy and PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest
import strata
from mlir import ir
from strata.diagnostics import CompileError
from strata.dialects import graph
from strata.dialects.constants import read_constants
from strata.irutil import walk
from strata.passes import Pass, PipelineError
from strata.pipelines import LowerToLLVMPipeline, Pipeline
from strata.transforms.graph import dispatch_libcall


def op_names(module: ir.Module) -> list[str]:
    return [op.name for op in walk(module.operation)]


def run(module: ir.Module, pipeline: str) -> ir.Module:
    Pipeline.parse(pipeline).run(module)
    return module


def graph_level_ir(model, *inputs, **options) -> tuple[strata.CompiledModule, str]:
    """Compile `model`; also return its IR once the graph-level passes have run."""
    seen: dict[str, str] = {}
    cm = strata.compile(
        model, on_level=lambda level, op: seen.setdefault(level, str(op)), **options
    )
    return cm, seen["graph"]


def f32(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


# --- graph-fold-constants ------------------------------------------------------------------------


def constant_subgraph_model(rng: np.random.Generator):
    """x @ transpose(w) + exp(b) * sqrt(|s|) / 2, relu: everything but the matmul is constant."""
    w, b, s = f32(rng, 32, 16), f32(rng, 32), f32(rng, 32)
    builder = strata.GraphBuilder("f")
    x = builder.input((8, 16))
    wt = builder.transpose(builder.constant(w, "w"), (1, 0))
    bias = builder.div(
        builder.mul(
            builder.exp(builder.constant(b, "b")),
            builder.sqrt(builder.abs(builder.constant(s, "s"))),
        ),
        builder.constant(np.float32(2.0).reshape(1), "two"),
    )
    module = builder.finish(builder.relu(builder.add(builder.matmul(x, wt), bias)))

    def reference(xv: np.ndarray) -> np.ndarray:
        return np.maximum(xv @ w.T + np.exp(b) * np.sqrt(np.abs(s)) / 2, 0)

    return module, reference


def test_fold_constants_leaves_only_the_input_computation(rng):
    module, _ = constant_subgraph_model(rng)
    run(module, "graph-fold-constants")
    graph_ops = [n for n in op_names(module) if n.startswith("graph.")]
    assert sorted(graph_ops) == sorted(
        ["graph.constant", "graph.constant", "graph.matmul", "graph.add", "graph.relu"]
    )


def test_fold_constants_values_match_numpy(rng):
    module, reference = constant_subgraph_model(rng)
    run(module, "graph-fold-constants")
    constants = [op for op in walk(module.operation) if op.name == "graph.constant"]
    arrays = read_constants([op.attributes["value"] for op in constants])
    by_shape = {a.shape: a for a in arrays if a is not None}
    x = np.zeros((8, 16), np.float32)
    # with x = 0 the result is relu(bias): the folded bias is exactly what numpy computes
    np.testing.assert_allclose(np.maximum(by_shape[(32,)], 0), reference(x)[0], rtol=1e-6)
    assert by_shape[(16, 32)].flags.c_contiguous


def test_fold_constants_compiled_with_and_without(rng):
    module, reference = constant_subgraph_model(rng)
    xv = f32(rng, 8, 16)
    folded, graph_ir = graph_level_ir(module)
    unfolded = strata.compile(module, simplify=False)
    assert "graph.transpose" not in graph_ir and "graph.exp" not in graph_ir
    np.testing.assert_allclose(folded(xv), reference(xv), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(folded(xv), unfolded(xv), rtol=1e-5, atol=1e-5)


def test_fold_constants_size_limit(rng):
    builder = strata.GraphBuilder("f")
    big = builder.broadcast_to(builder.constant(np.float32(1.5).reshape(1, 1), "s"), (256, 256))
    module = builder.finish(big)
    run(module, "graph-fold-constants{max-bytes=65535}")
    assert "graph.broadcast_to" in op_names(module)
    run(module, "graph-fold-constants{max-bytes=262144}")
    assert "graph.broadcast_to" not in op_names(module)
    np.testing.assert_array_equal(strata.compile(module)(), np.full((256, 256), 1.5, np.float32))


def test_fold_constants_bad_option():
    with pytest.raises(PipelineError, match="max-bytes"):
        Pipeline.parse("graph-fold-constants{max-bytes=-1}")


# --- graph-cse -----------------------------------------------------------------------------------


def test_cse_merges_duplicated_weights_and_ops(rng):
    w = f32(rng, 16, 16)
    builder = strata.GraphBuilder("f")
    x = builder.input((4, 16))
    # The same weight imported twice (two blobs), and the same subexpression built twice.
    a = builder.relu(builder.matmul(x, builder.constant(w, "w")))
    b = builder.relu(builder.matmul(x, builder.constant(w.copy(), "w_again")))
    other = builder.matmul(x, builder.constant(w + 1, "w_plus_one"))  # different data: kept
    module = builder.finish(builder.add(builder.add(a, b), other))
    xv = f32(rng, 4, 16)
    expected = 2 * np.maximum(xv @ w, 0) + xv @ (w + 1)
    before = strata.compile(module, simplify=False)(xv)

    run(module, "graph-cse")
    names = op_names(module)
    assert names.count("graph.constant") == 2
    assert names.count("graph.matmul") == 2 and names.count("graph.relu") == 1
    after = strata.compile(module, simplify=False)(xv)
    np.testing.assert_allclose(after, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-6)


def test_cse_keeps_constants_that_differ_in_one_bit(rng):
    w = f32(rng, 8)
    v = w.copy()
    v.view(np.uint32)[3] ^= 1  # one ulp apart
    builder = strata.GraphBuilder("f")
    x = builder.input((8,))
    module = builder.finish(
        builder.add(builder.add(x, builder.constant(w, "w")), builder.constant(v, "v"))
    )
    run(module, "graph-cse")
    assert op_names(module).count("graph.constant") == 2


# --- graph-fold-batchnorm ------------------------------------------------------------------------


torch = pytest.importorskip("torch")


def random_bn(channels: int, dim: int = 2):
    bn = torch.nn.BatchNorm2d(channels) if dim == 2 else torch.nn.BatchNorm1d(channels)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2.0)
        bn.bias.uniform_(-1.0, 1.0)
        bn.running_mean.uniform_(-1.0, 1.0)
        bn.running_var.uniform_(0.25, 2.0)
    return bn.eval()


def const(builder: strata.GraphBuilder, tensor, name: str) -> ir.Value:
    return builder.constant(tensor.detach().numpy().astype(np.float32), name)


def batch_norm(builder: strata.GraphBuilder, y: ir.Value, bn) -> ir.Value:
    params = (bn.weight, bn.bias, bn.running_mean, bn.running_var)
    names = ("gamma", "beta", "mean", "var")
    return builder.batch_norm(
        y, *(const(builder, p, n) for p, n in zip(params, names)), epsilon=bn.eps
    )


CONV_CASES = [
    # in channels, out channels, kernel, stride, padding, groups, conv bias
    (3, 8, 3, 1, 1, 1, True),
    (4, 6, 3, 2, 0, 2, False),
    (8, 8, 3, 1, 1, 8, True),  # depthwise
]


@pytest.mark.parametrize("cin,cout,k,stride,pad,groups,bias", CONV_CASES)
def test_conv_batch_norm_folded_matches_torch(rng, cin, cout, k, stride, pad, groups, bias):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(cin, cout, k, stride=stride, padding=pad, groups=groups, bias=bias)
    bn = random_bn(cout)
    builder = strata.GraphBuilder("f")
    x = builder.input((2, cin, 9, 9))
    y = builder.conv2d(
        x,
        const(builder, conv.weight, "w"),
        strides=(stride, stride),
        padding=(pad, pad),
        groups=groups,
    )
    if bias:
        y = builder.add(y, const(builder, conv.bias.reshape(cout, 1, 1), "b"))
    module = builder.finish(builder.relu(batch_norm(builder, y, bn)))

    xv = f32(rng, 2, cin, 9, 9)
    with torch.no_grad():
        expected = torch.relu(bn(conv(torch.from_numpy(xv)))).numpy()
    unfolded = strata.compile(module, simplify=False)
    folded, graph_ir = graph_level_ir(module)
    assert "graph.batch_norm" not in graph_ir
    np.testing.assert_allclose(folded(xv), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(unfolded(xv), expected, rtol=1e-4, atol=1e-4)

    run(module, "graph-fold-batchnorm")
    assert "graph.batch_norm" not in op_names(module)


def test_linear_batch_norm_folded_matches_torch(rng):
    torch.manual_seed(1)
    linear, bn = torch.nn.Linear(24, 16), random_bn(16, dim=1)
    builder = strata.GraphBuilder("f")
    x = builder.input((5, 24))
    y = builder.matmul(x, builder.transpose(const(builder, linear.weight, "w"), (1, 0)))
    y = builder.add(y, const(builder, linear.bias, "b"))
    module = builder.finish(batch_norm(builder, y, bn))
    xv = f32(rng, 5, 24)
    with torch.no_grad():
        expected = bn(linear(torch.from_numpy(xv))).numpy()
    # graph-fold-constants turns transpose(w) into a constant, which graph-fold-batchnorm needs.
    folded, graph_ir = graph_level_ir(module)
    assert "graph.batch_norm" not in graph_ir
    np.testing.assert_allclose(folded(xv), expected, rtol=1e-4, atol=1e-4)


def test_batch_norm_after_conv_with_other_use_is_kept(rng):
    torch.manual_seed(2)
    conv, bn = torch.nn.Conv2d(3, 4, 3, bias=False), random_bn(4)
    builder = strata.GraphBuilder("f")
    x = builder.input((1, 3, 6, 6))
    y = builder.conv2d(x, const(builder, conv.weight, "w"))
    module = builder.finish(builder.add(batch_norm(builder, y, bn), y))
    run(module, "graph-fold-batchnorm")
    assert "graph.batch_norm" in op_names(module)
    xv = f32(rng, 1, 3, 6, 6)
    with torch.no_grad():
        c = conv(torch.from_numpy(xv))
        expected = (bn(c) + c).numpy()
    np.testing.assert_allclose(strata.compile(module)(xv), expected, rtol=1e-4, atol=1e-4)


def test_torch_conv_bn_relu_is_folded(rng):
    torch.manual_seed(3)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), random_bn(8), torch.nn.ReLU()
    ).eval()
    xv = f32(rng, 1, 3, 8, 8)
    folded, graph_ir = graph_level_ir(model, example_inputs=(torch.from_numpy(xv),))
    assert "graph.batch_norm" not in graph_ir
    with torch.no_grad():
        expected = model(torch.from_numpy(xv)).numpy()
    np.testing.assert_allclose(folded(xv), expected, rtol=1e-4, atol=1e-4)


# --- graph-dispatch-libcall ----------------------------------------------------------------------


def two_matmuls(rng):
    """A small (4 x 16 @ 16 x 8) and a large (64 x 16 @ 16 x 8) 2-D f32 matmul."""
    w = f32(rng, 16, 8)
    builder = strata.GraphBuilder("f")
    small, large = builder.input((4, 16)), builder.input((64, 16))
    weight = builder.constant(w, "w")
    module = builder.finish(builder.matmul(small, weight), builder.matmul(large, weight))
    return module, w


def sgemm_calls(module: ir.Module) -> int:
    return sum(
        1
        for op in walk(module.operation)
        if op.name == "libcall.matmul"
        and ir.StringAttr(op.attributes["callee"]).value == "openblas.sgemm"
    )


def test_default_rules_dispatch_every_2d_f32_matmul(rng):
    module, _ = two_matmuls(rng)
    run(module, "graph-dispatch-libcall")
    assert sgemm_calls(module) == 2 and "graph.matmul" not in op_names(module)


def test_user_rule_with_predicate_is_honoured(rng):
    module, w = two_matmuls(rng)
    small_ones = dispatch_libcall.add_rule(
        "graph.matmul", "none", when=lambda op: op.operands[0].type.shape[0] < 16
    )
    try:
        assert dispatch_libcall.user_rules() == (small_ones,)
        run(module, "graph-dispatch-libcall")
        assert sgemm_calls(module) == 1
        remaining = [op for op in walk(module.operation) if op.name == "graph.matmul"]
        assert [list(op.operands[0].type.shape) for op in remaining] == [[4, 16]]

        # The pipeline honours it too, and the numerics hold on both paths.
        module, w = two_matmuls(rng)
        seen: list[str] = []
        cm = strata.compile(
            module,
            use_libcall=True,
            on_level=lambda level, op: seen.append(str(op)) if level == "tprog" else None,
        )
        assert seen[0].count('callee = "openblas.sgemm"') == 1
        a, b = f32(rng, 4, 16), f32(rng, 64, 16)
        got_small, got_large = cm(a, b)
        np.testing.assert_allclose(got_small, a @ w, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(got_large, b @ w, rtol=1e-5, atol=1e-5)
    finally:
        dispatch_libcall.remove_rule(small_ones)
    assert dispatch_libcall.user_rules() == ()


def test_rules_option_and_mode_never(rng):
    module, _ = two_matmuls(rng)
    run(module, "graph-dispatch-libcall{mode=never}")
    assert sgemm_calls(module) == 0
    run(module, "graph-dispatch-libcall{rules=graph.matmul:none}")
    assert sgemm_calls(module) == 0
    run(module, "graph-dispatch-libcall{default-rules=false rules=graph.matmul:openblas.sgemm}")
    assert sgemm_calls(module) == 2


def test_invalid_rules_are_refused():
    with pytest.raises(ValueError, match="no library takes 'graph.relu'"):
        dispatch_libcall.add_rule("graph.relu", "openblas.sgemm")
    with pytest.raises(ValueError, match="'mkl.sgemm' is not a library function"):
        dispatch_libcall.add_rule("graph.matmul", "mkl.sgemm")
    with pytest.raises(PipelineError, match="malformed dispatch rule"):
        Pipeline.parse("graph-dispatch-libcall{rules=matmul}")
    with pytest.raises(ValueError, match="not registered"):
        dispatch_libcall.remove_rule(dispatch_libcall.DispatchRule("graph.matmul", "none"))


def test_failing_predicate_is_a_located_error(rng):
    module, _ = two_matmuls(rng)

    def broken(op):
        raise KeyError("shape")

    rule = dispatch_libcall.add_rule("graph.matmul", "openblas.sgemm", when=broken)
    message = "dispatch rule 'graph.matmul:openblas.sgemm when broken' failed on 'graph.matmul'"
    try:
        with pytest.raises(CompileError, match=message) as failure:
            run(module, "graph-dispatch-libcall")
    finally:
        dispatch_libcall.remove_rule(rule)
    assert failure.value.diagnostics[0].file == __file__  # the line that built the matmul


# --- pipeline ------------------------------------------------------------------------------------


def test_pipeline_runs_graph_passes_before_fusion():
    options = LowerToLLVMPipeline.Options(use_libcall=True)
    names = [e.argument for e in LowerToLLVMPipeline.build(options) if isinstance(e, Pass)]
    expected = [
        "graph-verify",
        "graph-fold-constants",
        "graph-cse",
        "graph-fold-batchnorm",
        "graph-dce",
        "graph-dispatch-libcall",
        "graph-fuse-ops",
    ]
    assert [n for n in names if n in expected] == expected  # in this order, others between
    assert names[0] == "graph-verify"
    plain = LowerToLLVMPipeline.build(LowerToLLVMPipeline.Options(simplify=False))
    names = [e.argument for e in plain if isinstance(e, Pass)]
    assert "graph-fold-constants" not in names and "graph-dispatch-libcall" not in names


def test_read_constants_forms():
    with strata.make_context() as ctx, ir.Location.unknown(ctx):
        module = ir.Module.create()
        with ir.InsertionPoint(module.body):
            blob = graph.ConstantOp.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3))
        dense = ir.Attribute.parse("dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>")
        splat = ir.Attribute.parse("dense<2.5> : tensor<3xf16>")
        other = ir.Attribute.parse('"text"')
        arrays = read_constants([blob.value, dense, splat, other])
    np.testing.assert_array_equal(arrays[0], np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(arrays[1], [[1, 2], [3, 4]])
    assert arrays[1].dtype == np.int64 and arrays[2].dtype == np.float16
    np.testing.assert_array_equal(arrays[2], [2.5, 2.5, 2.5])
    assert arrays[3] is None
