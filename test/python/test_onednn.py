"""oneDNN convolutions (`onednn.conv2d`): graph.conv2d dispatched to Strata's shim against
PyTorch, the shim's caches (constant weights reordered once per contents, other weights on every
call) and the entry's numpy reference. Skipped when the shim or oneDNN is not installed."""

from __future__ import annotations

import numpy as np
import pytest
import strata
from strata.libraries import onednn, registry
from strata.pipelines import Pipeline

torch = pytest.importorskip("torch")

needs_onednn = pytest.mark.skipif(
    not onednn.ONEDNN.available(),
    reason="libstrata_onednn.so or libdnnl.so.3 not installed (pip install 'strata[onednn]')",
)

DISPATCH = "graph-dispatch-libcall{rules=graph.conv2d:onednn.conv2d}"


def torch_conv2d(x, w, strides, padding, dilation, groups) -> np.ndarray:
    """PyTorch's conv2d in float64; padding (top, left, bottom, right) applied with numpy."""
    top, left, bottom, right = padding
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (top, bottom), (left, right)))
    out = torch.nn.functional.conv2d(
        torch.from_numpy(xp),
        torch.from_numpy(w.astype(np.float64)),
        stride=tuple(strides),
        dilation=tuple(dilation),
        groups=groups,
    )
    return out.numpy()


def compile_dispatched(module):
    """The module with its convolutions sent to oneDNN, compiled (and checked to call it)."""
    Pipeline.parse(DISPATCH).run(module.operation)
    assert '"libcall.conv2d"' in str(module)
    compiled = strata.compile(module)
    assert "llvm.call @strata_onednn_conv2d" in str(compiled.llvm_module)
    return compiled


CASES = [
    # input, weight, strides, padding (top, left, bottom, right), dilation, groups
    ((1, 3, 8, 8), (4, 3, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    ((2, 4, 9, 7), (6, 4, 3, 2), (2, 1), (0, 1, 0, 1), (1, 1), 1),
    ((1, 5, 12, 10), (3, 5, 3, 3), (1, 2), (2, 0, 1, 3), (2, 1), 1),  # dilated, asymmetric
    ((1, 8, 10, 10), (8, 1, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 8),  # depthwise
    ((1, 32, 14, 14), (32, 1, 3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 32),  # depthwise, strided
    ((2, 4, 11, 11), (6, 2, 3, 3), (2, 2), (2, 2, 2, 2), (2, 2), 2),  # grouped
    ((1, 16, 7, 7), (32, 16, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),  # pointwise
    ((1, 64, 28, 28), (128, 64, 1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 1),  # downsample
    ((1, 3, 32, 32), (16, 3, 7, 7), (2, 2), (3, 3, 3, 3), (1, 1), 1),  # a stem
    ((1, 64, 14, 14), (64, 64, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
]


@needs_onednn
@pytest.mark.parametrize("x_shape,w_shape,strides,padding,dilation,groups", CASES)
def test_conv2d_matches_pytorch(x_shape, w_shape, strides, padding, dilation, groups, rng):
    """Constant weights (the shim caches their reorder), called twice with different inputs."""
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = strata.GraphBuilder("f")
    x = b.input(x_shape)
    conv = b.conv2d(
        x, b.constant(w, "w"), strides=strides, padding=padding, dilation=dilation, groups=groups
    )
    compiled = compile_dispatched(b.finish(conv))
    for _ in range(2):
        xv = rng.standard_normal(x_shape).astype(np.float32)
        expected = torch_conv2d(xv, w, strides, padding, dilation, groups)
        np.testing.assert_allclose(compiled(xv), expected, rtol=1e-4, atol=1e-4)


@needs_onednn
def test_weights_as_input_are_read_on_every_call(rng):
    """A weight that is an argument may change between calls, even in the same buffer."""
    b = strata.GraphBuilder("f")
    x, w = b.input((1, 16, 10, 10)), b.input((32, 16, 3, 3))
    compiled = compile_dispatched(b.finish(b.conv2d(x, w, padding=(1, 1))))
    xv = rng.standard_normal((1, 16, 10, 10)).astype(np.float32)
    wv = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    for _ in range(3):
        expected = torch_conv2d(xv, wv, (1, 1), (1, 1, 1, 1), (1, 1), 1)
        np.testing.assert_allclose(compiled(xv, wv), expected, rtol=1e-4, atol=1e-4)
        wv *= -2.0  # same address, new contents


@needs_onednn
def test_modules_with_equal_shapes_keep_their_own_weights(rng):
    """Two models with the same convolution shape and different constant weights, called in
    turn (and a third compiled after the first is freed): each reads its own weights."""
    shape, w_shape = (1, 32, 12, 12), (64, 32, 3, 3)
    weights = [rng.standard_normal(w_shape).astype(np.float32) for _ in range(3)]

    def build(w):
        b = strata.GraphBuilder("f")
        x = b.input(shape)
        return compile_dispatched(b.finish(b.conv2d(x, b.constant(w, "w"), padding=(1, 1))))

    xv = rng.standard_normal(shape).astype(np.float32)
    expected = [torch_conv2d(xv, w, (1, 1), (1, 1, 1, 1), (1, 1), 1) for w in weights]
    first, second = build(weights[0]), build(weights[1])
    for _ in range(2):
        np.testing.assert_allclose(first(xv), expected[0], rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(second(xv), expected[1], rtol=1e-4, atol=1e-4)
    del first
    third = build(weights[2])
    np.testing.assert_allclose(third(xv), expected[2], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(second(xv), expected[1], rtol=1e-4, atol=1e-4)


@needs_onednn
def test_conv_bias_relu_blocks(rng):
    """A ResNet-style pair of conv + bias + relu: the convolutions go to oneDNN, the bias and
    relu stay in generated code."""
    w1 = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    b1 = rng.standard_normal((1, 16, 1, 1)).astype(np.float32)
    w2 = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    b = strata.GraphBuilder("block")
    x = b.input((1, 8, 12, 12))
    h = b.relu(b.add(b.conv2d(x, b.constant(w1, "w1"), padding=(1, 1)), b.constant(b1, "b1")))
    module = b.finish(b.relu(b.conv2d(h, b.constant(w2, "w2"), strides=(2, 2), padding=(1, 1))))
    compiled = compile_dispatched(module)
    xv = rng.standard_normal((1, 8, 12, 12)).astype(np.float32)
    h_ref = np.maximum(torch_conv2d(xv, w1, (1, 1), (1,) * 4, (1, 1), 1) + b1, 0)
    expected = np.maximum(torch_conv2d(h_ref, w2, (2, 2), (1,) * 4, (1, 1), 1), 0)
    np.testing.assert_allclose(compiled(xv), expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("x_shape,w_shape,strides,padding,dilation,groups", CASES[:6])
def test_reference_matches_pytorch(x_shape, w_shape, strides, padding, dilation, groups, rng):
    """The entry's numpy reference (what the simulator runs) writes PyTorch's result (no oneDNN
    needed)."""
    xv = rng.standard_normal(x_shape).astype(np.float32)
    wv = rng.standard_normal(w_shape).astype(np.float32)
    expected = torch_conv2d(xv, wv, strides, padding, dilation, groups)
    out = np.empty(expected.shape, np.float32)
    function = registry.lookup("onednn.conv2d")
    assert function is not None and function.op == "libcall.conv2d"
    function.reference(
        xv,
        wv,
        out,
        strides=list(strides),
        padding=list(padding),
        dilation=list(dilation),
        groups=groups,
    )
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_f16_convolution_stays_in_generated_code(rng):
    """The shim takes f32 only: an f16 convolution is not dispatched (oneDNN installed or not)."""
    b = strata.GraphBuilder("f")
    x = b.input((1, 4, 8, 8), "f16")
    w = b.input((4, 4, 3, 3), "f16")
    module = b.finish(b.conv2d(x, w, padding=(1, 1)))
    Pipeline.parse(DISPATCH).run(module.operation)
    assert "libcall.conv2d" not in str(module)
    assert '"graph.conv2d"' in str(module)
