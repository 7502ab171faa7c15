"""graph.reshape and graph.transpose against numpy."""

from __future__ import annotations

import numpy as np
import pytest
import strata


@pytest.mark.parametrize(
    "shape,new_shape",
    [
        ((2, 3, 4), (6, 4)),
        ((6, 4), (2, 3, 4)),
        ((128, 256), (128, 4, 64)),
        ((5,), (1, 5, 1)),
        ((2, 6), (3, -1)),
    ],
)
def test_reshape(shape, new_shape, rng):
    b = strata.GraphBuilder("f")
    module = b.finish(b.reshape(b.input(shape), new_shape))
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(strata.compile(module)(x), x.reshape(new_shape))


@pytest.mark.parametrize(
    "shape,permutation",
    [
        ((3, 5), (1, 0)),
        ((2, 3, 4), (1, 0, 2)),
        ((128, 4, 64), (1, 0, 2)),
        ((4, 128, 64), (0, 2, 1)),
        ((2, 3, 4, 5), (3, 1, 0, 2)),
    ],
)
def test_transpose(shape, permutation, rng):
    b = strata.GraphBuilder("f")
    module = b.finish(b.transpose(b.input(shape), permutation))
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(strata.compile(module)(x), np.transpose(x, permutation))


def test_multi_head_attention_layout(rng):
    """The reshapes and transposes of multi-head attention, around batched matmuls."""
    seq, heads, dim = 16, 4, 8
    b = strata.GraphBuilder("f")
    q, k = b.input((seq, heads * dim)), b.input((seq, heads * dim))
    qh = b.transpose(b.reshape(q, (seq, heads, dim)), (1, 0, 2))
    kt = b.transpose(b.reshape(k, (seq, heads, dim)), (1, 2, 0))
    scores = b.softmax(b.matmul(qh, kt))
    module = b.finish(b.reshape(b.transpose(scores, (1, 0, 2)), (seq, heads * seq)))
    qv = rng.standard_normal((seq, heads * dim)).astype(np.float32)
    kv = rng.standard_normal((seq, heads * dim)).astype(np.float32)
    s = qv.reshape(seq, heads, dim).transpose(1, 0, 2) @ kv.reshape(seq, heads, dim).transpose(
        1, 2, 0
    )
    e = np.exp(s - s.max(-1, keepdims=True))
    expected = (e / e.sum(-1, keepdims=True)).transpose(1, 0, 2).reshape(seq, heads * seq)
    np.testing.assert_allclose(strata.compile(module)(qv, kv), expected, rtol=1e-5, atol=1e-6)


def test_layout_errors():
    b = strata.GraphBuilder("f")
    x = b.input((2, 3))
    with pytest.raises(strata.CompileError, match="changes the number of elements"):
        b.reshape(x, (4, 2))
    with pytest.raises(strata.CompileError, match=r"permutation \[0, 0\] is not a permutation"):
        b.transpose(x, (0, 0))


@pytest.mark.parametrize(
    "shape, new_shape",
    [
        ((2, 3, 4), (6, 4)),
        ((6, 4), (2, 3, 4)),
        ((24,), (2, 12)),
        ((2, 12), (24,)),
        ((1, 1), ()),
        ((), (1, 1, 1)),
        ((4, 6), (3, 8)),
    ],
)
def test_reshape_views(shape, new_shape, rng):
    """A graph-level reshape is a view (collapse + expand): correct next to programs that write
    the same buffer, when returned twice, and when the view of an input is returned."""
    b = strata.GraphBuilder("f")
    x = b.input(shape)
    y = b.reshape(b.relu(x), new_shape)
    cm = strata.compile(b.finish(b.relu(y), y, b.reshape(x, new_shape)))
    a = np.asarray(rng.standard_normal(shape), dtype=np.float32)
    relu, view, input_view = cm(a)
    expected = np.maximum(a, 0).reshape(new_shape)
    np.testing.assert_array_equal(relu, expected)
    np.testing.assert_array_equal(view, expected)
    np.testing.assert_array_equal(input_view, a.reshape(new_shape))


def test_canonicalized_layout_chain_matches_numpy(rng):
    """graph-canonicalize (unit-dimension transposes, merged chains, relu moved before a view)
    keeps the numbers: the attention-style chain matches numpy."""
    b = strata.GraphBuilder("f")
    x = b.input((1, 8, 12))
    w = rng.standard_normal((12, 12)).astype(np.float32)
    t = b.reshape(b.transpose(x, (1, 0, 2)), (8, 12))  # unit transpose + reshape: one view
    h = b.reshape(b.matmul(t, b.constant(w)), (1, 8, 12))
    h = b.transpose(b.transpose(b.relu(h), (0, 2, 1)), (2, 1, 0))  # composed: (1, 2, 0)
    module = b.finish(h)
    cm = strata.compile(module)
    a = rng.standard_normal((1, 8, 12)).astype(np.float32)
    expected = np.maximum(a.transpose(1, 0, 2).reshape(8, 12) @ w, 0).reshape(1, 8, 12)
    expected = expected.transpose(0, 2, 1).transpose(2, 1, 0)
    np.testing.assert_allclose(cm(a), expected, rtol=1e-5, atol=1e-5)
