"""Pooling and batch norm compiled and as numpy references, and the numpy references of conv2d
and matmul, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import strata
import torch
import torch.nn.functional as F
from strata.conversions.graph_ops import reference_for
from strata.irutil import walk

DTYPES = {np.float32: "f32", np.float16: "f16", np.int32: "i32", np.int64: "i64"}


def graph_op(module, name: str):
    return next(op for op in walk(module.operation) if op.name == name)


def check(build, arrays, expected, op_name: str, *, rtol=1e-5, atol=1e-6):
    """Compile the graph `build(builder, *inputs)` and compare it, and the numpy reference of
    its `op_name` op, with `expected`."""
    b = strata.GraphBuilder("f")
    inputs = [b.input(a.shape, DTYPES[a.dtype.type]) for a in arrays]
    module = b.finish(build(b, *inputs))
    reference = reference_for(op_name)(graph_op(module, op_name), *arrays)
    assert reference.shape == expected.shape and reference.dtype == arrays[0].dtype
    np.testing.assert_allclose(reference, expected, rtol=rtol, atol=atol)
    got = strata.compile(module)(*arrays)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


def torch_pad(x: torch.Tensor, padding, value: float) -> torch.Tensor:
    top, left, bottom, right = padding
    return F.pad(x, (left, right, top, bottom), value=value)


MAX_POOL_CASES = [
    # shape, kernel, strides, padding (top, left, bottom, right), dilation
    ((1, 64, 112, 112), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),  # ResNet-18 stem
    ((1, 4, 9, 9), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),
    ((2, 3, 8, 7), (2, 3), (1, 2), (1, 1, 1, 1), (2, 1)),
    ((3, 2, 7, 5), (2, 2), (2, 2), (0, 0, 0, 0), (1, 1)),  # trailing row/column dropped
    ((1, 2, 5, 6), (5, 6), (1, 1), (0, 0, 0, 0), (1, 1)),  # one window
    ((1, 1, 1, 1), (1, 1), (1, 1), (0, 0, 0, 0), (1, 1)),
    ((2, 5, 6, 1), (3, 1), (1, 1), (1, 0, 1, 0), (1, 1)),  # columns not pooled
    ((2, 3, 4, 9), (1, 3), (1, 2), (0, 0, 0, 0), (1, 2)),  # rows not pooled
    ((1, 3, 10, 9), (3, 4), (3, 2), (1, 2, 0, 1), (2, 2)),  # asymmetric padding
]


@pytest.mark.parametrize("shape,kernel,strides,padding,dilation", MAX_POOL_CASES)
def test_max_pool2d(shape, kernel, strides, padding, dilation, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    xt = torch_pad(torch.from_numpy(x), padding, -np.inf)
    expected = F.max_pool2d(xt, kernel, strides, dilation=dilation).numpy()
    check(
        lambda b, v: b.max_pool2d(v, kernel, strides, padding, dilation),
        [x],
        expected,
        "graph.max_pool2d",
        rtol=0,
        atol=0,
    )


def test_max_pool2d_symmetric_padding_matches_torch(rng):
    """PyTorch's own padding argument, and a window holding only -inf and NaN."""
    x = rng.standard_normal((2, 3, 11, 8)).astype(np.float32)
    x[0, 0, :2, :2] = -np.inf
    x[1, 2, 5, 4] = np.nan
    expected = F.max_pool2d(torch.from_numpy(x), (3, 2), (2, 1), (1, 1)).numpy()
    check(
        lambda b, v: b.max_pool2d(v, (3, 2), (2, 1), (1, 1)),
        [x],
        expected,
        "graph.max_pool2d",
        rtol=0,
        atol=0,
    )


AVG_POOL_CASES = [
    # shape, kernel, strides, padding (top, left, bottom, right)
    ((1, 4, 9, 9), (3, 3), (2, 2), (1, 1, 1, 1)),
    ((1, 64, 56, 56), (3, 3), (1, 1), (1, 1, 1, 1)),
    ((2, 3, 7, 10), (2, 4), (2, 3), (1, 2, 1, 2)),
    ((3, 2, 5, 5), (2, 2), (2, 2), (0, 0, 0, 0)),
    ((1, 1, 1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
    ((2, 2, 1, 7), (1, 3), (1, 2), (0, 1, 0, 1)),  # rows not pooled
    ((1, 3, 8, 9), (3, 3), (2, 2), (0, 1, 1, 0)),  # asymmetric padding
]


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("shape,kernel,strides,padding", AVG_POOL_CASES)
def test_avg_pool2d(shape, kernel, strides, padding, count_include_pad, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    xt = torch.from_numpy(x)
    top, left, bottom, right = padding
    if (top, left) == (bottom, right):
        expected = F.avg_pool2d(
            xt, kernel, strides, (top, left), count_include_pad=count_include_pad
        ).numpy()
    else:  # PyTorch pads symmetrically: sum over zero padding, divide by the window counts
        total = F.avg_pool2d(torch_pad(xt, padding, 0.0), kernel, strides, divisor_override=1)
        ones = torch_pad(torch.ones(1, 1, *shape[2:]), padding, 0.0)
        count = F.avg_pool2d(ones, kernel, strides, divisor_override=1)
        expected = (total / (kernel[0] * kernel[1] if count_include_pad else count)).numpy()
    check(
        lambda b, v: b.avg_pool2d(v, kernel, strides, padding, count_include_pad),
        [x],
        expected,
        "graph.avg_pool2d",
    )


@pytest.mark.parametrize(
    "shape,output_size",
    [
        ((1, 512, 7, 7), (1, 1)),  # ResNet-18 head
        ((1, 4, 7, 7), (3, 3)),
        ((2, 3, 7, 9), (5, 2)),
        ((1, 2, 6, 8), (3, 4)),  # divisible: fixed windows
        ((1, 2, 3, 5), (5, 7)),  # larger than the input: overlapping windows
        ((2, 3, 1, 1), (1, 1)),
        ((1, 3, 5, 1), (2, 1)),
        ((2, 2, 5, 7), (5, 3)),  # rows not pooled
        ((1, 256, 14, 14), (6, 6)),
    ],
)
def test_adaptive_avg_pool2d(shape, output_size, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    expected = F.adaptive_avg_pool2d(torch.from_numpy(x), output_size).numpy()
    check(
        lambda b, v: b.adaptive_avg_pool2d(v, output_size),
        [x],
        expected,
        "graph.adaptive_avg_pool2d",
    )


def test_pools_f16(rng):
    """Half-precision pools keep their element type (-inf is a half value too)."""
    x = rng.standard_normal((1, 3, 9, 8)).astype(np.float16)
    xt = torch.from_numpy(x).float()
    cases = [
        ("graph.max_pool2d", lambda b, v: b.max_pool2d(v, (3, 3), (2, 2), (1, 1))),
        ("graph.avg_pool2d", lambda b, v: b.avg_pool2d(v, (3, 3), (2, 2), (1, 1), False)),
        ("graph.adaptive_avg_pool2d", lambda b, v: b.adaptive_avg_pool2d(v, (4, 3))),
    ]
    expected = [
        F.max_pool2d(xt, 3, 2, 1),
        F.avg_pool2d(xt, 3, 2, 1, count_include_pad=False),
        F.adaptive_avg_pool2d(xt, (4, 3)),
    ]
    for (name, build), want in zip(cases, expected):
        check(build, [x], want.numpy().astype(np.float16), name, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize(
    "shape,epsilon",
    [((2, 3, 5, 4), 1e-5), ((7, 3), 1e-3), ((2, 6, 9), 1e-5), ((1, 1, 1, 1), 1e-1)],
)
def test_batch_norm(shape, epsilon, rng):
    channels = shape[1]
    x = rng.standard_normal(shape).astype(np.float32)
    weight, bias, mean = (rng.standard_normal(channels).astype(np.float32) for _ in range(3))
    var = rng.random(channels).astype(np.float32) + 0.05
    expected = F.batch_norm(
        *(torch.from_numpy(a) for a in (x, mean, var, weight, bias)), training=False, eps=epsilon
    ).numpy()
    check(
        lambda b, *v: b.batch_norm(*v, epsilon=epsilon),
        [x, weight, bias, mean, var],
        expected,
        "graph.batch_norm",
        rtol=1e-5,
        atol=1e-5,
    )


def test_resnet_stem(rng):
    """conv 7x7/2 + batch norm + relu (fused) + max pool 3x3/2, against torch.nn layers."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 8, 7, 2, 3, bias=False)
    bn = torch.nn.BatchNorm2d(8).eval()
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    params = [p.detach().numpy() for p in (bn.weight, bn.bias, bn.running_mean, bn.running_var)]
    b = strata.GraphBuilder("stem")
    x = b.input((1, 3, 32, 32))
    h = b.conv2d(x, b.constant(conv.weight.detach().numpy(), "w"), strides=(2, 2), padding=(3, 3))
    h = b.relu(b.batch_norm(h, *(b.constant(p, f"bn{i}") for i, p in enumerate(params))))
    module = b.finish(b.max_pool2d(h, (3, 3), (2, 2), (1, 1)))
    xv = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = F.max_pool2d(torch.relu(bn(conv(torch.from_numpy(xv)))), 3, 2, 1).numpy()
    np.testing.assert_allclose(strata.compile(module)(xv), expected, rtol=1e-4, atol=1e-4)


def test_batch_norm_fused_after_conv(rng):
    """A batch_norm with runtime statistics joins its conv's fused program (graph-fuse-ops
    treats it as elementwise), between the conv and the relu."""
    x = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    weight, bias, mean = (rng.standard_normal(4).astype(np.float32) for _ in range(3))
    var = rng.random(4).astype(np.float32) + 0.05
    b = strata.GraphBuilder("f")
    xs, ws = b.input(x.shape), b.input(w.shape)
    params = [b.input((4,)) for _ in range(4)]
    module = b.finish(b.relu(b.batch_norm(b.conv2d(xs, ws, padding=(1, 1)), *params)))
    t = [torch.from_numpy(a) for a in (x, w, mean, var, weight, bias)]
    expected = torch.relu(F.batch_norm(F.conv2d(t[0], t[1], padding=1), *t[2:], training=False))
    got = strata.compile(module)(x, w, weight, bias, mean, var)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-4, atol=1e-4)


CONV_CASES = [
    # input, weight, strides, padding (top, left, bottom, right), dilation, groups
    ((1, 3, 8, 8), (4, 3, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    ((2, 4, 9, 7), (6, 4, 3, 2), (2, 1), (0, 1, 0, 1), (1, 1), 1),
    ((1, 5, 12, 10), (3, 5, 3, 3), (1, 2), (2, 0, 1, 3), (2, 1), 1),
    ((1, 8, 10, 10), (8, 1, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 8),
    ((2, 4, 11, 11), (6, 2, 3, 3), (2, 2), (2, 2, 2, 2), (2, 2), 2),
    ((1, 6, 1, 1), (4, 3, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 2),
]


@pytest.mark.parametrize("x_shape,w_shape,strides,padding,dilation,groups", CONV_CASES)
def test_conv2d_reference(x_shape, w_shape, strides, padding, dilation, groups, rng):
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    expected = F.conv2d(
        torch_pad(torch.from_numpy(x), padding, 0.0),
        torch.from_numpy(w),
        stride=strides,
        dilation=dilation,
        groups=groups,
    ).numpy()
    b = strata.GraphBuilder("f")
    module = b.finish(
        b.conv2d(
            b.input(x_shape),
            b.input(w_shape),
            strides=strides,
            padding=padding,
            dilation=dilation,
            groups=groups,
        )
    )
    got = reference_for("graph.conv2d")(graph_op(module, "graph.conv2d"), x, w)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "lhs,rhs",
    [
        ((4, 5), (5, 3)),
        ((2, 1, 4, 5), (3, 5, 6)),  # batch dims broadcast
        ((7,), (2, 7, 3)),  # promoted vector lhs
        ((2, 3, 7), (7,)),  # promoted vector rhs
        ((7,), (7,)),
    ],
)
def test_matmul_reference(lhs, rhs, rng):
    a = rng.standard_normal(lhs).astype(np.float32)
    c = rng.standard_normal(rhs).astype(np.float32)
    b = strata.GraphBuilder("f")
    module = b.finish(b.matmul(b.input(lhs), b.input(rhs)))
    got = reference_for("graph.matmul")(graph_op(module, "graph.matmul"), a, c)
    expected = torch.matmul(torch.from_numpy(a), torch.from_numpy(c)).numpy()
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
