"""softmax, layer_norm, sub and mul end to end: compiled output vs a numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
import strata
from strata import CompileError
from strata.runtime.compiled import CompiledModule


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, epsilon: float) -> np.ndarray:
    x64 = x.astype(np.float64)
    axes = tuple(range(x.ndim - w.ndim, x.ndim))
    mean = x64.mean(axis=axes, keepdims=True)
    var = x64.var(axis=axes, keepdims=True)
    return (x64 - mean) / np.sqrt(var + epsilon) * w.astype(np.float64) + b.astype(np.float64)


def _compile_softmax(shape: tuple[int, ...], axis: int) -> CompiledModule:
    b = strata.GraphBuilder("softmax")
    x = b.input(shape)
    return strata.compile(b.finish(b.softmax(x, axis=axis)))


@pytest.mark.parametrize(
    ("shape", "axis"),
    [((4, 10), -1), ((2, 3, 5), 1), ((2, 3, 5), 0), ((2, 3, 5), -3), ((1, 1000), -1), ((7,), 0)],
)
def test_softmax_matches_numpy(shape: tuple[int, ...], axis: int, rng: np.random.Generator) -> None:
    cm = _compile_softmax(shape, axis)
    x = rng.standard_normal(shape).astype(np.float32)
    y = cm(x)
    assert y.shape == shape and y.dtype == np.float32
    np.testing.assert_allclose(y, _softmax(x, axis), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("shape", "axis"), [((4, 10), -1), ((2, 3, 5), 1), ((1, 1000), -1)])
def test_softmax_is_stable_on_large_values(
    shape: tuple[int, ...], axis: int, rng: np.random.Generator
) -> None:
    # exp(100 * x) overflows f32 without the max subtraction.
    x = (rng.standard_normal(shape) * 100).astype(np.float32)
    y = _compile_softmax(shape, axis)(x)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, _softmax(x, axis), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("shape", "normalized"), [((4, 16), (16,)), ((2, 3, 8), (3, 8)), ((5, 6), (5, 6))]
)
@pytest.mark.parametrize("epsilon", [1e-5, 1e-3])
def test_layer_norm_matches_numpy(
    shape: tuple[int, ...],
    normalized: tuple[int, ...],
    epsilon: float,
    rng: np.random.Generator,
) -> None:
    b = strata.GraphBuilder("layer_norm")
    x = b.input(shape)
    w = b.input(normalized)
    bias = b.input(normalized)
    cm = strata.compile(b.finish(b.layer_norm(x, w, bias, epsilon=epsilon)))
    xv = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    wv = rng.standard_normal(normalized).astype(np.float32)
    bv = rng.standard_normal(normalized).astype(np.float32)
    y = cm(xv, wv, bv)
    assert y.shape == shape and y.dtype == np.float32
    np.testing.assert_allclose(y, _layer_norm(xv, wv, bv, epsilon), rtol=1e-4, atol=1e-5)


def test_layer_norm_with_constant_weights(rng: np.random.Generator) -> None:
    w = rng.standard_normal(16).astype(np.float32)
    bias = rng.standard_normal(16).astype(np.float32)
    b = strata.GraphBuilder("ln")
    x = b.input((4, 16))
    out = b.layer_norm(x, b.constant(w, "gamma"), b.constant(bias, "beta"), epsilon=1e-5)
    cm = strata.compile(b.finish(out))
    xv = rng.standard_normal((4, 16)).astype(np.float32)
    np.testing.assert_allclose(cm(xv), _layer_norm(xv, w, bias, 1e-5), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", ["sub", "mul"])
@pytest.mark.parametrize(
    ("lhs", "rhs"), [((4, 8), (4, 8)), ((4, 8), (8,)), ((4, 8), (4, 1)), ((2, 1, 5), (3, 1))]
)
def test_sub_mul_broadcast(
    op: str, lhs: tuple[int, ...], rhs: tuple[int, ...], rng: np.random.Generator
) -> None:
    b = strata.GraphBuilder(op)
    x = b.input(lhs)
    y = b.input(rhs)
    cm = strata.compile(b.finish(getattr(b, op)(x, y)))
    xv = rng.standard_normal(lhs).astype(np.float32)
    yv = rng.standard_normal(rhs).astype(np.float32)
    expected = xv - yv if op == "sub" else xv * yv
    result = cm(xv, yv)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-6)


def test_scaled_scores_softmax(rng: np.random.Generator) -> None:
    # Attention scores: softmax(q @ k^T * scale - mask) over the keys.
    q = rng.standard_normal((4, 16)).astype(np.float32)
    k = rng.standard_normal((16, 6)).astype(np.float32)
    mask = np.where(rng.random((4, 6)) < 0.3, 30.0, 0.0).astype(np.float32)
    scale = np.full((1,), 1 / np.sqrt(16), dtype=np.float32)
    b = strata.GraphBuilder("attention")
    xq = b.input((4, 16))
    scores = b.mul(b.matmul(xq, b.constant(k, "k")), b.constant(scale, "scale"))
    out = b.softmax(b.sub(scores, b.constant(mask, "mask")), axis=-1)
    cm = strata.compile(b.finish(out))
    ref = _softmax(q.astype(np.float64) @ k * scale.astype(np.float64) - mask, -1)
    np.testing.assert_allclose(cm(q), ref, rtol=1e-5, atol=1e-6)


def test_softmax_of_mul_chain(rng: np.random.Generator) -> None:
    b = strata.GraphBuilder("scaled_softmax")
    x = b.input((3, 12))
    s = b.input((1,))
    cm = strata.compile(b.finish(b.softmax(b.mul(x, s), axis=1)))
    xv = rng.standard_normal((3, 12)).astype(np.float32)
    sv = np.array([0.125], dtype=np.float32)
    np.testing.assert_allclose(cm(xv, sv), _softmax(xv * sv, 1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axis", [2, -3])
def test_softmax_axis_out_of_range(axis: int) -> None:
    b = strata.GraphBuilder()
    x = b.input((4, 10))
    message = f"graph.softmax: axis {axis} is out of range for rank 2"
    with pytest.raises(CompileError, match=message):
        b.softmax(x, axis=axis)


@pytest.mark.parametrize(("weight", "bias"), [((8,), (8,)), ((16,), (8,)), ((4, 16), (4, 16))])
def test_layer_norm_shape_mismatch(weight: tuple[int, ...], bias: tuple[int, ...]) -> None:
    b = strata.GraphBuilder()
    x = b.input((2, 16))
    w = b.input(weight)
    bb = b.input(bias)
    with pytest.raises(CompileError, match="must equal the trailing dimensions of the input 2x16"):
        b.layer_norm(x, w, bb)


@pytest.mark.parametrize("op", ["sub", "mul"])
def test_sub_mul_broadcast_mismatch(op: str) -> None:
    b = strata.GraphBuilder()
    x = b.input((2, 3))
    y = b.input((4,))
    with pytest.raises(
        CompileError, match=f"graph.{op}: shapes 2x3 and 4 do not broadcast: dimension 1 is 3 vs 4"
    ):
        getattr(b, op)(x, y)
