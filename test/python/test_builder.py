"""GraphBuilder: inferred types, located shape errors, and numerics through strata.compile."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import strata
from strata.dialects.shapes import broadcast_shape, matmul_shape

OPTIONS = [
    pytest.param({}, id="default"),
    pytest.param({"use_libcall": True}, id="libcall"),
    pytest.param({"tensorize": False}, id="no-tensorize"),
]


def _random(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def _binary(op: str, lhs_shape, rhs_shape):
    b = strata.GraphBuilder("f")
    x, y = b.input(lhs_shape), b.input(rhs_shape)
    return b, getattr(b, op)(x, y)


def _result_shape(value) -> tuple[int, ...]:
    return tuple(value.type.shape)


@pytest.mark.parametrize(
    "lhs,rhs",
    [
        ((3, 4), (4, 5)),
        ((4,), (4, 5)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((2, 3, 4), (4, 5)),
        ((2, 1, 3, 4), (5, 4, 6)),
        ((3, 4), (2, 4, 5)),
    ],
)
def test_matmul_result_type(lhs, rhs) -> None:
    _, out = _binary("matmul", lhs, rhs)
    assert _result_shape(out) == np.matmul(np.zeros(lhs), np.zeros(rhs)).shape
    assert _result_shape(out) == tuple(matmul_shape(lhs, rhs))
    assert str(out.type.element_type) == "f32"


@pytest.mark.parametrize(
    "lhs,rhs", [((4, 1), (3,)), ((2, 1, 4), (3, 1)), ((5,), ()), ((2, 3), (2, 3))]
)
def test_add_result_type(lhs, rhs) -> None:
    _, out = _binary("add", lhs, rhs)
    assert _result_shape(out) == np.broadcast_shapes(lhs, rhs)
    assert _result_shape(out) == tuple(broadcast_shape(lhs, rhs))


def test_relu_keeps_type() -> None:
    b = strata.GraphBuilder("f")
    x = b.input((2, 5), dtype="f16")
    assert b.relu(x).type == x.type


@pytest.mark.parametrize(
    "op,lhs,rhs,message",
    [
        ("matmul", (2, 3), (4, 5), "graph.matmul: contracting dimensions differ"),
        ("matmul", (2, 3, 4), (3, 4, 5), "graph.matmul: matmul batch dimensions"),
        ("add", (4, 3), (4,), "graph.add: shapes 4x3 and 4 do not broadcast"),
    ],
)
def test_shape_error_is_located_at_the_python_line(op, lhs, rhs, message) -> None:
    b = strata.GraphBuilder("f")
    x, y = b.input(lhs), b.input(rhs)
    line = inspect.currentframe().f_lineno + 2
    with pytest.raises(strata.CompileError) as info:
        getattr(b, op)(x, y)
    (diag,) = info.value.diagnostics
    assert diag.severity == "error"
    assert message in diag.message
    assert diag.file == __file__
    assert diag.line == line
    assert str(info.value).startswith(f"{__file__}:{line}:")


def test_input_after_op_is_rejected() -> None:
    b = strata.GraphBuilder("f")
    x = b.input((2,))
    b.relu(x)
    with pytest.raises(ValueError, match="declare every input before building ops"):
        b.input((2,))


def test_unknown_dtype_lists_choices() -> None:
    with pytest.raises(ValueError, match="unsupported dtype 'u8'; valid: f32, f16, bf16, i8"):
        strata.GraphBuilder("f").input((2,), dtype="u8")


def test_constant_rejects_float64() -> None:
    b = strata.GraphBuilder("f")
    b.input((2,))
    with pytest.raises(TypeError, match="unsupported constant dtype float64"):
        b.constant(np.zeros(3), "w")


def test_finish_sets_function_type() -> None:
    b = strata.GraphBuilder("g")
    x = b.input((2, 3))
    module = b.finish(b.relu(x), x)
    text = str(module)
    assert "func.func @g(%arg0: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>)" in text
    assert module.operation.verify()


# --- numerics -------------------------------------------------------------------------------------


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize(
    "lhs,rhs",
    [
        ((2, 3, 4), (4, 5)),
        ((4,), (4, 5)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((2, 1, 3, 4), (5, 4, 6)),
        ((3, 4), (2, 4, 5)),
        ((2, 3, 4), (2, 4, 5)),
        ((17, 33), (33, 9)),
    ],
)
def test_matmul_numerics(lhs, rhs, options, rng) -> None:
    b, out = _binary("matmul", lhs, rhs)
    cm = strata.compile(b.finish(out), **options)
    x, y = _random(rng, lhs), _random(rng, rhs)
    result = cm(x, y)
    expected = np.matmul(x.astype(np.float64), y.astype(np.float64))
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("options", OPTIONS[:2])
@pytest.mark.parametrize(
    "lhs,rhs", [((4, 1), (3,)), ((2, 3), (2, 3)), ((1,), (5,)), ((2, 1, 4), (3, 1)), ((3,), (2, 3))]
)
def test_add_broadcast_numerics(lhs, rhs, options, rng) -> None:
    b, out = _binary("add", lhs, rhs)
    cm = strata.compile(b.finish(out), **options)
    x, y = _random(rng, lhs), _random(rng, rhs)
    np.testing.assert_allclose(cm(x, y), x.astype(np.float64) + y, rtol=1e-6, atol=1e-6)


def test_relu_numerics(rng) -> None:
    b = strata.GraphBuilder("f")
    x = b.input((3, 7))
    cm = strata.compile(b.finish(b.relu(x)))
    data = _random(rng, (3, 7))
    data[0, :3] = [0.0, -0.0, -1e-30]
    np.testing.assert_array_equal(cm(data), np.maximum(data, 0))


def test_add_relu_chain(rng) -> None:
    b = strata.GraphBuilder("f")
    x, y = b.input((4, 1)), b.input((3,))
    cm = strata.compile(b.finish(b.relu(b.add(x, y))))
    a, c = _random(rng, (4, 1)), _random(rng, (3,))
    np.testing.assert_allclose(cm(a, c), np.maximum(a + c, 0), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("options", OPTIONS)
def test_linear_with_constants(options, rng) -> None:
    w, bias = _random(rng, (6, 4)), _random(rng, (4,))
    b = strata.GraphBuilder("linear")
    x = b.input((5, 6))
    out = b.relu(b.add(b.matmul(x, b.constant(w, "w")), b.constant(bias, "b")))
    cm = strata.compile(b.finish(out), **options)
    data = _random(rng, (5, 6))
    expected = np.maximum(data.astype(np.float64) @ w + bias, 0)
    np.testing.assert_allclose(cm(data), expected, rtol=1e-5, atol=1e-5)


def test_two_outputs(rng) -> None:
    b = strata.GraphBuilder("f")
    x, y = b.input((2, 3)), b.input((3,))
    s = b.add(x, y)
    cm = strata.compile(b.finish(b.relu(s), s))
    a, c = _random(rng, (2, 3)), _random(rng, (3,))
    result = cm(a, c)
    assert isinstance(result, tuple) and len(result) == 2
    np.testing.assert_allclose(result[0], np.maximum(a + c, 0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(result[1], a + c, rtol=1e-6, atol=1e-6)


def test_output_is_an_input(rng) -> None:
    b = strata.GraphBuilder("f")
    x = b.input((2, 3))
    cm = strata.compile(b.finish(x))
    a = _random(rng, (2, 3))
    np.testing.assert_array_equal(cm(a), a)


def test_same_value_returned_twice_does_not_crash(tmp_path) -> None:
    # Run in a child: this used to crash the process (upstream buffer-results-to-out-params
    # segfaults on a repeated result buffer; convert-graph-to-tprog now copies the repeat).
    import subprocess
    import sys

    script = tmp_path / "same.py"
    script.write_text(
        "import numpy as np, strata\n"
        "b = strata.GraphBuilder('f')\n"
        "x = b.input((2, 3))\n"
        "r = b.relu(x)\n"
        "cm = strata.compile(b.finish(r, r))\n"
        "a, c = cm(np.full((2, 3), -1, np.float32))\n"
        "assert (a == 0).all() and (c == 0).all()\n"
        "print('OK')\n"
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), f"crashed with {proc.returncode}: {proc.stderr[-500:]}"
    assert "Traceback" not in proc.stderr


def test_f16_signature() -> None:
    # f16 inputs are typed f16 in the signature read by the runtime.
    from strata.irutil import functions
    from strata.runtime.compiled import Signature

    b = strata.GraphBuilder("h")
    x = b.input((2, 2), dtype="f16")
    module = b.finish(b.relu(x))
    (sig,) = [Signature.from_func(fn) for fn in functions(module)]
    assert sig.name == "h"
    assert sig.inputs[0].dtype == np.float16 and sig.inputs[0].shape == (2, 2)


def test_scalar_constant_compiles():
    """Regression: a 0-d weight became tensor<1xf32> (np.ascontiguousarray is at least 1-D), and
    a rank-0 resource constant aborted the process in upstream finalize-memref-to-llvm."""
    b = strata.GraphBuilder("f")
    x = b.input(())
    c = b.constant(np.array(2.5, np.float32), "scale")
    module = b.finish(b.mul(x, c))
    assert "tensor<f32>" in str(module) and "tensor<1xf32>" not in str(module)
    assert float(strata.compile(module)(np.array(3.0, np.float32))) == 7.5


def test_bare_functions_with_resources_parse():
    """Regression: top-level ops followed by a dialect_resources section did not parse (the
    implicit module was closed after the resources)."""
    text = """func.func @f() -> tensor<2xf32> {
  %0 = "graph.constant"() {value = dense_resource<w> : tensor<2xf32>} : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
{-#
  dialect_resources: { builtin: { w: "0x040000000000803F00000040" } }
#-}
"""
    cm = strata.compile(strata.parse_module(text))
    np.testing.assert_array_equal(cm(), np.array([1.0, 2.0], np.float32))
