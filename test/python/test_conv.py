"""graph.conv2d end to end against a numpy reference (PyTorch's conv2d semantics)."""

from __future__ import annotations

import numpy as np
import pytest
import strata


def conv2d_reference(x, w, strides, padding, dilation, groups):
    """NCHW x OIHW convolution in float64 with numpy; padding is (top, left, bottom, right)."""
    top, left, bottom, right = padding
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, c, h, wd = xp.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = strides, dilation
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (wd - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for co in range(o):
        g = co // per_group
        for ki in range(kh):
            for kj in range(kw):
                patch = xp[
                    :,
                    g * cg : (g + 1) * cg,
                    ki * dh : ki * dh + sh * oh : sh,
                    kj * dw : kj * dw + sw * ow : sw,
                ]
                out[:, co] += np.einsum("nchw,c->nhw", patch, w[co, :, ki, kj])
    return out


CASES = [
    # input, weight, strides, padding (top, left, bottom, right), dilation, groups
    ((1, 3, 8, 8), (4, 3, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    ((2, 4, 9, 7), (6, 4, 3, 2), (2, 1), (0, 1, 0, 1), (1, 1), 1),
    ((1, 5, 12, 10), (3, 5, 3, 3), (1, 2), (2, 0, 1, 3), (2, 1), 1),
    ((1, 8, 10, 10), (8, 1, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 8),  # depthwise
    ((2, 4, 11, 11), (6, 2, 3, 3), (2, 2), (2, 2, 2, 2), (2, 2), 2),  # grouped
    ((1, 16, 7, 7), (32, 16, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),  # pointwise
]


@pytest.mark.parametrize("x_shape,w_shape,strides,padding,dilation,groups", CASES)
def test_conv2d(x_shape, w_shape, strides, padding, dilation, groups, rng):
    b = strata.GraphBuilder("f")
    x, w = b.input(x_shape), b.input(w_shape)
    module = b.finish(
        b.conv2d(x, w, strides=strides, padding=padding, dilation=dilation, groups=groups)
    )
    xv = rng.standard_normal(x_shape).astype(np.float32)
    wv = rng.standard_normal(w_shape).astype(np.float32)
    expected = conv2d_reference(xv, wv, strides, padding, dilation, groups)
    np.testing.assert_allclose(strata.compile(module)(xv, wv), expected, rtol=1e-4, atol=1e-4)


def test_conv_block_fused(rng):
    """conv + bias + relu, twice: each group fuses into one tensor program."""
    w1 = rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
    b1 = rng.standard_normal((1, 8, 1, 1)).astype(np.float32)
    w2 = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    b = strata.GraphBuilder("block")
    x = b.input((1, 4, 12, 12))
    h = b.relu(b.add(b.conv2d(x, b.constant(w1, "w1"), padding=(1, 1)), b.constant(b1, "b1")))
    module = b.finish(b.relu(b.conv2d(h, b.constant(w2, "w2"), padding=(1, 1))))
    text = str(module)
    assert text.count('"graph.conv2d"') == 2
    xv = rng.standard_normal((1, 4, 12, 12)).astype(np.float32)
    h_ref = np.maximum(conv2d_reference(xv, w1, (1, 1), (1,) * 4, (1, 1), 1) + b1, 0)
    expected = np.maximum(conv2d_reference(h_ref, w2, (1, 1), (1,) * 4, (1, 1), 1), 0)
    np.testing.assert_allclose(strata.compile(module)(xv), expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize(
    "x_shape,w_shape,kwargs,message",
    [
        (
            (1, 3, 8, 8),
            (4, 2, 3, 3),
            {},
            "weight has 2 input channels per group but the input has 3",
        ),
        (
            (1, 4, 8, 8),
            (6, 2, 3, 3),
            {"groups": 4},
            "groups 4 must divide the 4 input and 6 output",
        ),
        ((1, 3, 2, 2), (4, 3, 3, 3), {}, "conv2d output would be empty"),
        ((3, 8, 8), (4, 3, 3, 3), {}, "conv2d takes a 4-D input and weight"),
    ],
)
def test_conv2d_shape_errors(x_shape, w_shape, kwargs, message):
    b = strata.GraphBuilder("f")
    x, w = b.input(x_shape), b.input(w_shape)
    with pytest.raises(strata.CompileError, match=message):
        b.conv2d(x, w, **kwargs)
