"""int8 matmul (i8 x i8 into i32): the VNNI micro-kernel path and the generic one, against numpy."""

from __future__ import annotations

import numpy as np
import pytest
import strata
from strata.frontends.builder import GraphBuilder
from strata.targets.cpu import host_cpu_flags

VNNI = "avx512_vnni" in host_cpu_flags() and "avx512f" in host_cpu_flags()


def _int8_matmul(m: int, k: int, n: int):
    b = GraphBuilder("qmm")
    x, w = b.input([m, k], "i8"), b.input([k, n], "i8")
    return b.finish(b.matmul(x, w))


def _operands(m: int, k: int, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k)).astype(np.int8)
    b = rng.integers(-128, 128, (k, n)).astype(np.int8)
    return a, b, a.astype(np.int32) @ b.astype(np.int32)


def _ops(module, **options) -> set[str]:
    from strata.compiler import lower_to_llvm

    seen: set[str] = set()

    def record(level: str, ir_module) -> None:
        from strata.irutil import walk

        seen.update(op.name for op in walk(ir_module))

    with module.context:
        lower_to_llvm(module.operation.clone(), on_level=record, **options)
    return seen


@pytest.mark.parametrize("shape", [(8, 64, 48), (13, 70, 37), (1, 3, 5), (64, 256, 128)])
@pytest.mark.parametrize("cpu", ["host", "avx2"])
def test_int8_matmul_matches_numpy(shape, cpu) -> None:
    """Extremes included: -128 * -128 sums stress the +128 shift and its column-sum correction."""
    if cpu == "host" and not VNNI:
        pytest.skip("no AVX-512 VNNI here")
    a, b, expected = _operands(*shape)
    a[0, :] = -128
    b[:, 0] = -128
    expected = a.astype(np.int32) @ b.astype(np.int32)
    got = strata.compile(_int8_matmul(*shape), cpu=cpu)(a, b)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, expected)


def test_vnni_kernel_is_used_only_where_the_cpu_has_it() -> None:
    module = _int8_matmul(16, 64, 32)
    assert "hwprim.dot_i8_microkernel" in _ops(module, cpu="avx512-vnni")
    assert "hwprim.dot_i8_microkernel" not in _ops(module, cpu="avx512")
    assert "hwprim.dot_i8_microkernel" not in _ops(module, cpu="avx2")


def test_int8_result_type_is_checked() -> None:
    text = """
    func.func @f(%a: tensor<4x8xi8>, %b: tensor<8x4xi8>) -> tensor<4x4xi8> {
      %0 = "graph.matmul"(%a, %b) : (tensor<4x8xi8>, tensor<8x4xi8>) -> tensor<4x4xi8>
      return %0 : tensor<4x4xi8>
    }"""
    with pytest.raises(strata.CompileError, match="an i8 matmul accumulates in i32"):
        strata.compile(strata.parse_module(text))


def test_unknown_cpu_is_an_error() -> None:
    with pytest.raises(Exception, match="invalid value 'neon' for option 'cpu'"):
        strata.compile(_int8_matmul(4, 8, 4), cpu="neon")


def test_schedule_tensorize_dot_i8_and_refusals() -> None:
    from strata.pipelines import Pipeline
    from strata.transforms.tprog.schedule import Schedule

    module = _int8_matmul(16, 64, 20)
    Pipeline.parse("convert-graph-to-tprog").run(module)
    sch = Schedule(module, "matmul")
    with pytest.raises(ValueError, match="computes i8 x i8 into i32 but fma_f32"):
        sch.tensorize("matmul", rows=4, cols=16)
    with pytest.raises(ValueError, match="unknown intrinsic 'amx'"):
        sch.tensorize("matmul", rows=4, intrinsic="amx")
    with pytest.raises(ValueError, match="dot_i8 needs 16 i32 lanes"):
        sch.tensorize("matmul", rows=4, intrinsic="dot_i8", vector_width=8)
    sch.tensorize("matmul", rows=4, intrinsic="dot_i8", vector_width=16)
    assert 'intrinsic="dot_i8"' in str(sch.trace)
