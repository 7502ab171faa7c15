"""The MLC MLP end to end: compiled output vs a float64 numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
import strata
from strata.models.mlp import SIZES, MLPWeights, build_mlp
from strata.runtime.compiled import CompiledModule

WEIGHTS = MLPWeights.default()


def _input(batch: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, SIZES[0])).astype(np.float32)


def _reference(x: np.ndarray) -> np.ndarray:
    w = WEIGHTS
    x = x.astype(np.float64)
    hidden = np.maximum(x @ w.w0.astype(np.float64) + w.b0.astype(np.float64), 0)
    return hidden @ w.w1.astype(np.float64) + w.b1.astype(np.float64)


@pytest.fixture(scope="module")
def mlp7() -> CompiledModule:
    return strata.compile(build_mlp(7, WEIGHTS))


@pytest.mark.parametrize("batch", [1, 7, 64])
@pytest.mark.parametrize("tensorize", [False, True])
@pytest.mark.parametrize("use_libcall", [False, True])
def test_mlp_matches_numpy(batch: int, tensorize: bool, use_libcall: bool) -> None:
    cm = strata.compile(build_mlp(batch, WEIGHTS), use_libcall=use_libcall, tensorize=tensorize)
    x = _input(batch)
    y = cm(x)
    assert y.shape == (batch, SIZES[-1])
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, _reference(x), rtol=1e-5, atol=1e-5)


def test_reference_agrees_with_float64_reference() -> None:
    x = _input(3)
    np.testing.assert_allclose(WEIGHTS.reference(x), _reference(x), rtol=1e-5, atol=1e-5)


def test_default_weights_are_deterministic() -> None:
    a, b = MLPWeights.default(), MLPWeights.default()
    for name in ("w0", "b0", "w1", "b1"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.w0.shape == (784, 128) and a.w1.shape == (128, 10)


def test_mlp_without_fusion() -> None:
    cm = strata.compile(build_mlp(5, WEIGHTS), fuse=False)
    x = _input(5, seed=3)
    np.testing.assert_allclose(cm(x), _reference(x), rtol=1e-5, atol=1e-5)


def test_named_access(mlp7) -> None:
    x = _input(7, seed=1)
    np.testing.assert_allclose(mlp7["mlp"](x), _reference(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(mlp7["mlp"](x), mlp7(x))
    assert list(mlp7.functions) == ["mlp"]


def test_unknown_function_name(mlp7) -> None:
    with pytest.raises(KeyError, match="no public function 'nope'"):
        mlp7["nope"]


def test_repeated_calls_are_stable(mlp7) -> None:
    x = _input(7, seed=2)
    first = mlp7(x)
    for _ in range(3):
        np.testing.assert_array_equal(mlp7(x), first)
    # A different input in between does not leak into the next call.
    other = mlp7(_input(7, seed=5))
    assert not np.array_equal(other, first)
    np.testing.assert_array_equal(mlp7(x), first)


def test_results_are_fresh_arrays(mlp7) -> None:
    x = _input(7, seed=2)
    a = mlp7(x)
    b = mlp7(x)
    assert a is not b
    assert not np.shares_memory(a, b)


def test_input_is_not_modified(mlp7) -> None:
    x = _input(7, seed=4)
    copy = x.copy()
    mlp7(x)
    np.testing.assert_array_equal(x, copy)


def test_non_contiguous_input(mlp7) -> None:
    wide = np.random.default_rng(6).standard_normal((7, 2 * SIZES[0])).astype(np.float32)
    x = wide[:, ::2]
    assert not x.flags.c_contiguous
    np.testing.assert_allclose(mlp7(x), _reference(np.ascontiguousarray(x)), rtol=1e-5, atol=1e-5)


def test_fortran_order_input(mlp7) -> None:
    x = np.asfortranarray(_input(7, seed=7))
    np.testing.assert_allclose(mlp7(x), _reference(x), rtol=1e-5, atol=1e-5)


def test_float64_input_is_converted(mlp7) -> None:
    x64 = np.random.default_rng(8).standard_normal((7, SIZES[0]))
    y = mlp7(x64)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, _reference(x64.astype(np.float32)), rtol=1e-5, atol=1e-5)


def test_nested_list_input(mlp7) -> None:
    x = _input(7, seed=9)
    np.testing.assert_allclose(mlp7(x.tolist()), _reference(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(6, 784), (7, 783), (784,), (1, 7, 784)])
def test_wrong_shape(mlp7, shape) -> None:
    with pytest.raises(ValueError, match=r"argument 0 has shape"):
        mlp7(np.zeros(shape, np.float32))


@pytest.mark.parametrize("count", [0, 2])
def test_wrong_argument_count(mlp7, count) -> None:
    with pytest.raises(TypeError, match=rf"takes 1 arrays but {count} were given"):
        mlp7(*[_input(7)] * count)


def test_compile_keeps_the_callers_module() -> None:
    module = build_mlp(2, WEIGHTS)
    before = str(module)
    strata.compile(module)
    assert str(module) == before
    assert "graph.matmul" in before
