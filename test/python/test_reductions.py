"""reduce_sum / reduce_mean / reduce_max and log_softmax end to end against PyTorch, and the
numpy references of the reductions and normalizations.

Tolerances: rtol 1e-5 with atol 1e-5 for sums and means of up to a few thousand standard
normals (the summation order differs from PyTorch's: the absolute error grows like sqrt(n) ulp
of the partial sums), exact equality for max; f16 one half-precision ulp.
"""

from __future__ import annotations

import numpy as np
import pytest
import strata
import torch
import torch.nn.functional as F
from mlir import ir
from strata import CompileError
from strata.conversions.graph_ops import reference_for
from strata.pipelines import Pipeline

TORCH = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}

CASES = [
    # shape, axes, keepdim
    ((4, 10), [1], False),
    ((4, 10), [0], True),
    ((4, 10), [-1], True),
    ((2, 3, 5), [0, 2], False),
    ((2, 3, 5), [-1, -2], True),
    ((2, 3, 5), [1], False),
    ((2, 1, 5, 7), [1, 2], False),
    ((3, 4, 5, 6), [2, 3], True),  # a global pool over H, W
    ((3, 4, 5, 6), [0, 2], False),  # alternating kept and reduced dimensions
    ((3, 4, 5, 6), [1, 3], True),
    ((3, 4, 5, 6), [0, 1, 2, 3], False),  # everything: a rank-0 result
    ((3, 4, 5, 6), [3, 0, 1, 2], True),
    ((6, 1, 4), [1], False),  # only a size-1 dimension: a copy
    ((6, 1, 4), [0, 2], True),
    ((1, 1), [0, 1], False),
    ((7, 5, 3), [-2], False),
    ((1, 37), [1], False),
    ((33, 17), [0], False),
]


def _compile(kind: str, shape: tuple[int, ...], axes: list[int], keepdim: bool, dtype: str = "f32"):
    b = strata.GraphBuilder(f"reduce_{kind}")
    x = b.input(shape, dtype)
    return strata.compile(b.finish(b.reduce(kind, x, axes, keepdim=keepdim)))


def _expected(kind: str, x: np.ndarray, axes: list[int], keepdim: bool) -> np.ndarray:
    return TORCH[kind](torch.from_numpy(x), dim=axes, keepdim=keepdim).numpy()


@pytest.mark.parametrize(("shape", "axes", "keepdim"), CASES)
@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
def test_reduction_matches_torch(
    kind: str,
    shape: tuple[int, ...],
    axes: list[int],
    keepdim: bool,
    rng: np.random.Generator,
) -> None:
    x = rng.standard_normal(shape).astype(np.float32)
    result = _compile(kind, shape, axes, keepdim)(x)
    expected = _expected(kind, x, axes, keepdim)
    assert result.shape == expected.shape and result.dtype == np.float32
    if kind == "max":
        np.testing.assert_array_equal(result, expected)
    else:
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape", [(3, 4), ()])
def test_reduction_without_axes_is_a_copy(
    kind: str, keepdim: bool, shape: tuple[int, ...], rng: np.random.Generator
) -> None:
    """An empty axis list reduces nothing (numpy's axis=(); PyTorch's dim=[] would reduce
    everything, which graph ops express by listing every axis); a rank-0 input included."""
    x = np.asarray(rng.standard_normal(shape), dtype=np.float32)
    np.testing.assert_array_equal(_compile(kind, shape, [], keepdim)(x), x)


@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
@pytest.mark.parametrize(
    ("shape", "axes"), [((64, 4096), [1]), ((4096, 64), [0]), ((8, 512, 9), [1])]
)
def test_long_reductions(
    kind: str, shape: tuple[int, ...], axes: list[int], rng: np.random.Generator
) -> None:
    x = (rng.standard_normal(shape) + 0.5).astype(np.float32)
    result = _compile(kind, shape, axes, False)(x)
    expected = np.asarray(
        {"sum": np.sum, "mean": np.mean, "max": np.max}[kind](x.astype(np.float64), axis=axes[0])
    )
    # A reduction over a non-innermost axis adds its 4096 terms in order (one accumulator per
    # output lane): about sqrt(n) ulp of error, 2e-6 here; the innermost one uses vector lanes.
    np.testing.assert_allclose(result, expected, rtol=1e-5)


def test_reduce_max_propagates_nan_and_handles_inf() -> None:
    x = np.array(
        [
            [1.0, np.nan, 3.0],
            [-np.inf, -np.inf, -np.inf],
            [np.inf, 2.0, np.nan],
            [-1.0, -2.0, -0.5],
        ],
        dtype=np.float32,
    )
    for axes in ([1], [0]):
        result = _compile("max", x.shape, axes, False)(x)
        np.testing.assert_array_equal(result, _expected("max", x, axes, False))


@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
def test_half_precision_reductions_accumulate_in_f32(kind: str, rng: np.random.Generator) -> None:
    """f16 sums accumulate in f32 (as PyTorch's CPU kernels), so 4096 terms stay accurate."""
    x = (rng.random((3, 4096)) + 0.5).astype(np.float16)
    result = _compile(kind, x.shape, [1], False, "f16")(x)
    assert result.dtype == np.float16
    expected = _expected(kind, x, [1], False)
    np.testing.assert_allclose(result.astype(np.float32), expected, rtol=1e-3)


def test_mean_of_a_fused_elementwise_chain(rng: np.random.Generator) -> None:
    """A reduction with an elementwise chain before and after it compiles as one group."""
    b = strata.GraphBuilder("pooled")
    x = b.input((2, 8, 5, 5))
    h = b.reduce("mean", b.silu(b.mul(x, x)), [2, 3], keepdim=True)
    module = b.finish(b.sigmoid(b.add(h, h)))
    xv = rng.standard_normal((2, 8, 5, 5)).astype(np.float32)
    t = torch.from_numpy(xv)
    h_ref = F.silu(t * t).mean(dim=(2, 3), keepdim=True)
    expected = torch.sigmoid(h_ref + h_ref).numpy()
    np.testing.assert_allclose(strata.compile(module)(xv), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("axes", "message"),
    [([2], "axis 2 is out of range for rank 2"), ([0, -2], r"reduction axes \[0, -2\] repeat")],
)
def test_reduction_axes_errors(axes: list[int], message: str) -> None:
    b = strata.GraphBuilder()
    x = b.input((3, 4))
    with pytest.raises(CompileError, match=message):
        b.reduce("sum", x, axes)


# ---- log_softmax ----


@pytest.mark.parametrize(
    ("shape", "axis"),
    [((4, 10), -1), ((2, 3, 5), 1), ((2, 3, 5), 0), ((2, 3, 5), -3), ((1, 1000), -1), ((7,), 0)],
)
def test_log_softmax_matches_torch(
    shape: tuple[int, ...], axis: int, rng: np.random.Generator
) -> None:
    b = strata.GraphBuilder("log_softmax")
    x = b.input(shape)
    cm = strata.compile(b.finish(b.log_softmax(x, axis=axis)))
    for scale in (1.0, 100.0):  # exp(100 x) overflows f32 without the max subtraction
        xv = (rng.standard_normal(shape) * scale).astype(np.float32)
        expected = F.log_softmax(torch.from_numpy(xv).double(), dim=axis).numpy()
        result = cm(xv)
        assert np.isfinite(result).all()
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=2e-6 * scale)


def test_log_softmax_half_precision(rng: np.random.Generator) -> None:
    b = strata.GraphBuilder("log_softmax")
    x = b.input((5, 300), "f16")
    cm = strata.compile(b.finish(b.log_softmax(x)))
    xv = (rng.standard_normal((5, 300)) * 4).astype(np.float16)
    expected = F.log_softmax(torch.from_numpy(xv).float(), dim=-1).numpy()
    np.testing.assert_allclose(cm(xv).astype(np.float32), expected, rtol=2e-3, atol=2e-3)


def test_log_softmax_of_a_chain_with_a_reduction_is_fused(rng: np.random.Generator) -> None:
    """log_softmax(gelu(x) * s) as in a classifier head: compiles through graph-fuse-ops."""
    b = strata.GraphBuilder("head")
    x, s = b.input((6, 40)), b.input((1,))
    module = b.finish(b.log_softmax(b.mul(b.gelu(x), s), axis=1))
    fused = ir.Module.parse(str(module), context=module.context)
    Pipeline.parse("graph-fuse-ops").run(fused.operation)
    assert "graph.fused" in str(fused)
    xv = rng.standard_normal((6, 40)).astype(np.float32)
    sv = np.array([1.7], np.float32)
    expected = F.log_softmax(F.gelu(torch.from_numpy(xv)) * 1.7, dim=1).numpy()
    np.testing.assert_allclose(strata.compile(module)(xv, sv), expected, rtol=1e-5, atol=2e-6)


# ---- numpy references ----


def _op(module: ir.Module) -> ir.Operation:
    fn = module.body.operations[0]
    return next(op.operation for op in fn.regions[0].blocks[0].operations)


@pytest.mark.parametrize(("shape", "axes", "keepdim"), CASES[:12])
@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_reduction_reference_matches_torch(
    kind: str,
    shape: tuple[int, ...],
    axes: list[int],
    keepdim: bool,
    dtype: str,
    rng: np.random.Generator,
) -> None:
    b = strata.GraphBuilder()
    x = b.input(shape, dtype)
    module = b.finish(b.reduce(kind, x, axes, keepdim=keepdim))
    reference = reference_for(f"graph.reduce_{kind}")
    assert reference is not None
    xv = rng.standard_normal(shape).astype(np.float16 if dtype == "f16" else np.float32)
    result = reference(_op(module), xv)
    assert result.dtype == xv.dtype
    expected = TORCH[kind](torch.from_numpy(xv).double(), dim=axes, keepdim=keepdim).numpy()
    tol = 1e-3 if dtype == "f16" else 1e-6
    np.testing.assert_allclose(result.astype(np.float64), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize(("shape", "axis"), [((4, 10), -1), ((2, 3, 5), 0), ((2, 3, 5), 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_references_match_torch(
    name: str, shape: tuple[int, ...], axis: int, rng: np.random.Generator
) -> None:
    b = strata.GraphBuilder()
    x = b.input(shape)
    module = b.finish(getattr(b, name)(x, axis=axis))
    reference = reference_for(f"graph.{name}")
    assert reference is not None
    xv = (rng.standard_normal(shape) * 10).astype(np.float32)
    expected = getattr(F, name)(torch.from_numpy(xv).double(), dim=axis).numpy()
    np.testing.assert_allclose(reference(_op(module), xv), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("shape", "normalized"), [((4, 16), (16,)), ((2, 3, 8), (3, 8))])
def test_layer_norm_reference_matches_torch(
    shape: tuple[int, ...], normalized: tuple[int, ...], rng: np.random.Generator
) -> None:
    b = strata.GraphBuilder()
    x, w, bias = b.input(shape), b.input(normalized), b.input(normalized)
    module = b.finish(b.layer_norm(x, w, bias, epsilon=1e-3))
    reference = reference_for("graph.layer_norm")
    assert reference is not None
    xv = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    wv = rng.standard_normal(normalized).astype(np.float32)
    bv = rng.standard_normal(normalized).astype(np.float32)
    result = reference(_op(module), xv, wv, bv)
    t = [torch.from_numpy(a).double() for a in (xv, wv, bv)]
    expected = F.layer_norm(t[0], normalized, t[1], t[2], eps=1e-3).numpy()
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)
