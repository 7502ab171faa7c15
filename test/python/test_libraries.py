"""The library registry: OpenBLAS sgemm with transposes and batches, user-registered functions
called from compiled models, and each entry's numpy reference."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import strata
from strata.frontends.builder import GraphBuilder
from strata.libraries import register_function, registry, unregister
from strata.libraries.dispatch import add_rule, remove_rule
from strata.models.mlp import SIZES, MLPWeights, build_mlp

RNG = np.random.default_rng(7)


def _random(shape) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _matmul_module(lhs, rhs, transpose=None):
    b = GraphBuilder("f")
    x, y = b.input(lhs), b.input(rhs)
    if transpose is not None:
        y = b.transpose(y, transpose)
    return b.finish(b.matmul(x, y))


def _library_calls(module) -> list[str]:
    """The symbols the lowered module calls (declarations of native functions)."""
    from strata.compiler import lower_to_llvm

    with module.context:
        copy = module.operation.clone()
    lower_to_llvm(copy, use_libcall=True)
    return [
        op.attributes["sym_name"].value
        for op in copy.regions[0].blocks[0].operations
        if op.operation.name == "llvm.func" and not op.regions[0].blocks
    ]


@pytest.mark.parametrize(
    "lhs, rhs, transpose",
    [
        ([8, 16], [16, 32], None),
        ([8, 16], [32, 16], [1, 0]),  # Trans rhs (a linear layer's weight)
        ([3, 8, 16], [3, 16, 32], None),
        ([2, 3, 8, 16], [2, 3, 32, 16], [0, 1, 3, 2]),  # attention scores: q @ k^T
        ([2, 3, 8, 16], [3, 16, 32], None),  # broadcast batch
        ([1, 8, 16], [5, 16, 32], None),  # broadcast lhs
        ([4, 8, 16], [16, 32], None),  # one call on the collapsed rows
        ([4, 8, 16], [32, 16], [1, 0]),
    ],
)
def test_sgemm_transposes_and_batches(lhs, rhs, transpose) -> None:
    module = _matmul_module(lhs, rhs, transpose)
    symbols = _library_calls(module)
    assert any(s.startswith("scipy_cblas_sgemm") for s in symbols), symbols
    a, b = _random(lhs), _random(rhs)
    expected = a @ (np.transpose(b, transpose) if transpose else b)
    got = strata.compile(module, use_libcall=True)(a, b)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_every_entry_has_a_reference_and_convention() -> None:
    for function in registry.functions():
        assert callable(function.reference) and function.convention
        assert function.symbol in function.symbols


def test_sgemm_reference_is_the_op_semantics() -> None:
    a, b = _random([2, 4, 8]), _random([8, 3])
    out = np.empty((2, 4, 3), np.float32)
    registry.lookup("openblas.sgemm").reference(a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-6)


def _numpy_ilp64_openblas() -> Path | None:
    libs = Path(np.__file__).parent.parent / "numpy.libs"
    found = sorted(libs.glob("libscipy_openblas64_*.so"))
    return found[0] if found else None


@pytest.mark.skipif(_numpy_ilp64_openblas() is None, reason="numpy without a bundled OpenBLAS")
def test_user_registered_cblas_function_runs_in_a_compiled_model() -> None:
    """numpy's own OpenBLAS (an ILP64 build: 64-bit integers, symbol suffix 64_) as a user's
    library: registered from Python, chosen by a dispatch rule, called by the compiled MLP."""
    path = _numpy_ilp64_openblas()
    register_function(
        "numpy_blas.sgemm",
        "libcall.matmul",
        library=path,
        symbol="scipy_cblas_sgemm64_",
        convention="cblas_sgemm64",
    )
    rule = add_rule("graph.matmul", "numpy_blas.sgemm")
    try:
        weights = MLPWeights.default()
        module = build_mlp(16, weights)
        assert "scipy_cblas_sgemm64_" in _library_calls(module)
        x = _random([16, SIZES[0]])
        got = strata.compile(module, use_libcall=True)(x)
        np.testing.assert_allclose(got, weights.reference(x), rtol=1e-4, atol=1e-4)
    finally:
        remove_rule(rule)
        unregister("numpy_blas.sgemm")


C_MATMUL = r"""
#include <stdint.h>
/* out = lhs @ rhs on 2-D strided f32 matrices (Strata's `memref` convention). */
void my_matmul(const float *a, int64_t m, int64_t k, int64_t sa0, int64_t sa1,
               const float *b, int64_t k2, int64_t n, int64_t sb0, int64_t sb1,
               float *c, int64_t m2, int64_t n2, int64_t sc0, int64_t sc1) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0;
      for (int64_t p = 0; p < k; ++p) acc += a[i * sa0 + p * sa1] * b[p * sb0 + j * sb1];
      c[i * sc0 + j * sc1] = acc;
    }
}
"""


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_user_registered_memref_function_runs_in_a_compiled_model(tmp_path) -> None:
    source = tmp_path / "my_matmul.c"
    source.write_text(C_MATMUL)
    library = tmp_path / "libmine.so"
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", source, "-o", library], check=True)
    register_function("mine.matmul", "libcall.matmul", library=library, symbol="my_matmul")
    rule = add_rule("graph.matmul", "mine.matmul", when=lambda op: op.operands[0].type.rank == 2)
    try:
        module = _matmul_module([5, 12], [7, 12], [1, 0])  # rhs read through a transposed view
        assert "my_matmul" in _library_calls(module)
        a, b = _random([5, 12]), _random([7, 12])
        got = strata.compile(module, use_libcall=True)(a, b)
        np.testing.assert_allclose(got, a @ b.T, rtol=1e-5, atol=1e-5)
    finally:
        remove_rule(rule)
        unregister("mine.matmul")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "plain"}, "must look like '<library>.<function>'"),
        ({"convention": "fortran"}, "unknown convention 'fortran'"),
        ({"op": "libcall.nothing"}, "'libcall.nothing' is not a libcall op"),
        ({"op": "graph.matmul"}, "'graph.matmul' is not a libcall op"),
    ],
)
def test_register_function_errors(kwargs, message) -> None:
    args = {"name": "mine.f", "op": "libcall.matmul", "library": "/nonexistent.so", "symbol": "f"}
    args.update(kwargs)
    name, op = args.pop("name"), args.pop("op")
    with pytest.raises(ValueError, match=message):
        register_function(name, op, **args)


def test_unregister_unknown() -> None:
    with pytest.raises(ValueError, match="'nobody.f' is not registered"):
        unregister("nobody.f")
