"""strata.simulate: programs run by the simulator equal the JIT's results (and numpy's), at the
tensor-program, hardware-primitive / library-call and vector levels; clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import strata
from mlir import ir
from strata.compiler import parse_module
from strata.diagnostics import CompileError
from strata.interpreter import SimulationError, UnsupportedOp, semantics
from strata.interpreter import core as interpreter_core
from strata.libraries import registry
from strata.pipelines import Pipeline


def compile_keeping_levels(module, **options):
    """strata.compile(module), and a copy of the IR it compiled at each level."""
    levels: dict[str, ir.Module] = {}

    def keep(level: str, op: ir.Operation) -> None:
        levels[level] = ir.Module.parse(op.get_asm(enable_debug_info=True), context=op.context)

    return strata.compile(module, on_level=keep, **options), levels


def check(module, inputs, expected, *, levels=("tprog", "libcall/hwprim"), **options):
    """Simulate the JIT's own IR at `levels`: equal to the JIT's results, close to `expected`."""
    compiled, ir_levels = compile_keeping_levels(module, **options)
    jit = compiled(*inputs)
    jit = jit if isinstance(jit, tuple) else (jit,)
    for level in levels:
        simulated = strata.simulate(ir_levels[level], *inputs)
        assert len(simulated) == len(jit)
        for got, want, reference in zip(simulated, jit, expected):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-5, err_msg=level)
            np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-4, err_msg=level)
    return ir_levels


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def mlp(rng):
    """Two layers with bias and relu; 24 output columns leave remainder micro-kernel tiles."""
    w1, b1, w2 = f32(rng, 48, 64), f32(rng, 64), f32(rng, 64, 24)
    b = strata.GraphBuilder("mlp")
    x = b.input((8, 48))
    h = b.relu(b.add(b.matmul(x, b.constant(w1, "w1")), b.constant(b1, "b1")))
    module = b.finish(b.matmul(h, b.constant(w2, "w2")))
    return module, lambda xv: np.maximum(xv @ w1 + b1, 0) @ w2


# --- programs: simulator == JIT ~ numpy ---------------------------------------------------------


@pytest.mark.parametrize("vector_width", [16, 8])
def test_mlp_tensorized(vector_width, rng):
    module, reference = mlp(rng)
    xv = f32(rng, 8, 48)
    levels = check(module, [xv], [reference(xv)], vector_width=vector_width)
    text = str(levels["libcall/hwprim"])
    assert '"hwprim.fma_microkernel"' in text
    assert f"vector_width = {vector_width}" in text


@pytest.mark.parametrize("level", ["libcall/hwprim", "registers", "vector"])
def test_int8_vnni_program(level, rng):
    """The int8 matmul tensorized onto dot_i8_microkernel (AVX-512 VNNI), simulated at the
    micro-kernel level and after its lowering to vector ops and vpdpbusd calls: equal to numpy
    (and to the JIT where the host has VNNI). Extremes stress the +128 shift's correction."""
    from strata.targets.cpu import host_cpu_flags

    b = strata.GraphBuilder("qmm")
    module = b.finish(b.matmul(b.input((13, 70), "i8"), b.input((70, 37), "i8")))
    a = rng.integers(-128, 128, (13, 70)).astype(np.int8)
    w = rng.integers(-128, 128, (70, 37)).astype(np.int8)
    a[0], w[:, 0] = -128, -128
    expected = a.astype(np.int32) @ w.astype(np.int32)
    passes = "convert-graph-to-tprog,convert-tprog-to-hwprim{vector-width=16 vnni=true}"
    if level == "registers":
        passes += ",hwprim-expand-microkernels"
    if level == "vector":
        passes += ",convert-hwprim-to-vector"
    lowered = parse_module(str(module))
    Pipeline.parse(passes).run(lowered)
    text = str(lowered)
    expected_op = {
        "libcall/hwprim": "hwprim.dot_i8_microkernel",
        "registers": "hwprim.dot_i8",
        "vector": "llvm.x86.avx512.vpdpbusd.512",
    }[level]
    assert expected_op in text
    (simulated,) = strata.simulate(lowered, a, w)
    np.testing.assert_array_equal(simulated, expected)
    if "avx512_vnni" in host_cpu_flags():
        np.testing.assert_array_equal(strata.compile(module, cpu="avx512-vnni")(a, w), expected)


@pytest.mark.parametrize("vector_width", [16, 8])
def test_expanded_fma_kernels_are_bit_exact(vector_width, rng):
    """The f32 kernel expanded into hwprim.vload / vbroadcast / vfma / vstore simulates to the
    JIT's bits (24 columns: a partial register at width 16, three at width 8)."""
    module, _ = mlp(rng)
    compiled = strata.compile(module, vector_width=vector_width)
    lowered = parse_module(str(module))
    tensorize = f"convert-tprog-to-hwprim{{vector-width={vector_width}}}"
    passes = f"graph-fuse-ops,convert-graph-to-tprog,{tensorize},hwprim-expand-microkernels"
    Pipeline.parse(passes).run(lowered)
    assert '"hwprim.vfma"' in str(lowered) and "fma_microkernel" not in str(lowered)
    xv = f32(rng, 8, 48)
    (simulated,) = strata.simulate(lowered, xv)
    np.testing.assert_allclose(simulated, compiled(xv), rtol=1e-6, atol=1e-6)


def test_tensorized_matmul_is_bit_exact(rng):
    """fma_microkernel rounds once per multiply-add, as the vector FMAs it lowers to."""
    w = f32(rng, 64, 64)
    b = strata.GraphBuilder("mm")
    module = b.finish(b.relu(b.matmul(b.input((64, 64)), b.constant(w))))
    compiled, levels = compile_keeping_levels(module)
    xv = f32(rng, 64, 64)
    (simulated,) = strata.simulate(levels["libcall/hwprim"], xv)
    np.testing.assert_array_equal(simulated, compiled(xv))


def test_batch_matmul(rng):
    b = strata.GraphBuilder("bmm")
    x, y = b.input((3, 5, 16)), b.input((3, 16, 40))
    module = b.finish(b.matmul(x, y))
    xv, yv = f32(rng, 3, 5, 16), f32(rng, 3, 16, 40)
    levels = check(module, [xv, yv], [xv @ yv])
    assert '"hwprim.fma_microkernel"' in str(levels["libcall/hwprim"])


def test_conv2d_im2col(rng):
    w, bias = f32(rng, 8, 3, 3, 3), f32(rng, 1, 8, 1, 1)
    b = strata.GraphBuilder("conv")
    x = b.input((1, 3, 10, 10))
    y = b.conv2d(x, b.constant(w, "w"), strides=(2, 1), padding=(1, 1))
    module = b.finish(b.relu(b.add(y, b.constant(bias, "bias"))))
    xv = f32(rng, 1, 3, 10, 10)
    xp = np.pad(xv, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.zeros((1, 8, 5, 10), np.float32)
    for i in range(3):
        for j in range(3):
            patch = xp[:, :, i : i + 9 : 2, j : j + 10]
            expected += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    levels = check(module, [xv], [np.maximum(expected + bias, 0)])
    assert '"hwprim.fma_microkernel"' in str(levels["libcall/hwprim"])  # im2col, then a matmul


def test_fused_softmax_layer_norm(rng):
    w, gamma, beta = f32(rng, 32, 40), f32(rng, 40), f32(rng, 40)
    b = strata.GraphBuilder("norm")
    x = b.input((6, 32))
    s = b.softmax(b.gelu(b.matmul(x, b.constant(w, "w"))))
    module = b.finish(b.layer_norm(s, b.constant(gamma, "gamma"), b.constant(beta, "beta")))
    xv = f32(rng, 6, 32)
    h = xv.astype(np.float64) @ w
    h = 0.5 * h * (1 + np.vectorize(math.erf)(h / math.sqrt(2)))
    e = np.exp(h - h.max(-1, keepdims=True))
    s_ref = e / e.sum(-1, keepdims=True)
    mean, var = s_ref.mean(-1, keepdims=True), s_ref.var(-1, keepdims=True)
    check(module, [xv], [(s_ref - mean) / np.sqrt(var + 1e-5) * gamma + beta])


def test_libcall_path(rng):
    module, reference = mlp(rng)
    xv = f32(rng, 8, 48)
    if not registry.lookup("openblas.sgemm").library.available():
        pytest.skip("the JIT needs scipy-openblas32 for library calls")
    levels = check(module, [xv], [reference(xv)], dispatch="always")
    assert '"libcall.matmul"' in str(levels["libcall/hwprim"])


def test_vector_level(rng):
    """After convert-tprog-to-scf and convert-hwprim-to-vector: scf loops, vector FMAs."""
    module, reference = mlp(rng)
    compiled, levels = compile_keeping_levels(module, vector_width=8)
    lowered = levels["libcall/hwprim"]
    Pipeline.parse("convert-tprog-to-scf,convert-hwprim-to-vector").run(lowered.operation)
    text = str(lowered)
    assert "vector.fma" in text and "hwprim." not in text and "tprog.block" not in text
    xv = f32(rng, 8, 48)
    (simulated,) = strata.simulate(lowered, xv)
    np.testing.assert_array_equal(simulated, compiled(xv))
    np.testing.assert_allclose(simulated, reference(xv), rtol=1e-4, atol=1e-4)


def test_scheduled_program_with_guards(rng):
    """A schedule's split leaves a tail that the block's domain guards (affine.apply bindings)."""
    from strata.transforms.tprog.schedule import Schedule

    b = strata.GraphBuilder("mm")
    x, w = b.input((20, 12)), b.input((12, 10))
    module = b.finish(b.relu(b.matmul(x, w)))
    Pipeline.parse("graph-fuse-ops,convert-graph-to-tprog").run(module)
    sch = Schedule(module)
    i, j, k = sch.get_loops("matmul")
    sch.split(i, [None, 8])
    sch.split(k, [None, 5])
    sch.decompose_reduction("matmul", sch.get_loops("matmul")[2])
    assert "affine.apply" in str(module)
    xv, wv = f32(rng, 20, 12), f32(rng, 12, 10)
    (simulated,) = strata.simulate(module, xv, wv)
    np.testing.assert_array_equal(simulated, strata.compile(module)(xv, wv))
    np.testing.assert_allclose(simulated, np.maximum(xv @ wv, 0), rtol=1e-5, atol=1e-5)


def test_prim_func_writes_its_output_buffer(rng):
    """A tensor program called by name takes memrefs and writes the output in place."""
    module, _ = mlp(rng)
    Pipeline.parse("graph-fuse-ops,convert-graph-to-tprog").run(module)
    w2 = f32(rng, 64, 24)
    h = np.abs(f32(rng, 8, 64))
    out = np.zeros((8, 24), np.float32)
    assert strata.simulate(module, h, w2, out, function="matmul") == []
    np.testing.assert_allclose(out, h @ w2, rtol=1e-5, atol=1e-5)


# --- upstream ops -------------------------------------------------------------------------------

UPSTREAM = """
func.func @upstream(%x: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4xi32>, tensor<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %in = bufferization.to_buffer %x read_only : tensor<2x4xf32> to memref<2x4xf32>
  %out = memref.alloc() : memref<2x4xf32>
  memref.copy %in, %out : memref<2x4xf32> to memref<2x4xf32>
  %row = memref.subview %out[1, 0] [1, 4] [1, 1]
      : memref<2x4xf32> to memref<4xf32, strided<[1], offset: 4>>
  scf.for %i = %c0 to %c4 step %c1 {
    %v = memref.load %row[%i] : memref<4xf32, strided<[1], offset: 4>>
    %d = arith.addf %v, %v : f32
    memref.store %d, %row[%i] : memref<4xf32, strided<[1], offset: 4>>
  }
  %flat = memref.collapse_shape %out [[0, 1]] : memref<2x4xf32> into memref<8xf32>
  %n = affine.min affine_map<(d0) -> (d0 * 2, 9)>(%c4)
  %zero = arith.constant 0.0 : f32
  %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {
    %v = memref.load %flat[%i] : memref<8xf32>
    %positive = arith.cmpf ogt, %v, %zero : f32
    %next = scf.if %positive -> (f32) {
      %s = arith.addf %acc, %v : f32
      scf.yield %s : f32
    } else {
      scf.yield %acc : f32
    }
    scf.yield %next : f32
  }
  %total = memref.alloc() : memref<f32>
  memref.store %sum, %total[] : memref<f32>
  %max = arith.constant 2147483647 : i32
  %one = arith.constant 1 : i32
  %m7 = arith.constant -7 : i32
  %two = arith.constant 2 : i32
  %c28 = arith.constant 28 : i32
  %f = arith.constant -2.7 : f32
  %wrapped = arith.addi %max, %one : i32
  %quotient = arith.divsi %m7, %two : i32
  %shifted = arith.shrui %m7, %c28 : i32
  %truncated = arith.fptosi %f : f32 to i32
  %ints = memref.alloc() : memref<4xi32>
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  memref.store %wrapped, %ints[%c0] : memref<4xi32>
  memref.store %quotient, %ints[%c1] : memref<4xi32>
  memref.store %shifted, %ints[%c2] : memref<4xi32>
  memref.store %truncated, %ints[%c3] : memref<4xi32>
  %r0 = bufferization.to_tensor %out restrict writable : memref<2x4xf32> to tensor<2x4xf32>
  %r1 = bufferization.to_tensor %ints restrict writable : memref<4xi32> to tensor<4xi32>
  %r2 = bufferization.to_tensor %total restrict writable : memref<f32> to tensor<f32>
  return %r0, %r1, %r2 : tensor<2x4xf32>, tensor<4xi32>, tensor<f32>
}
"""


def test_upstream_ops(rng):
    """Subviews alias their buffer, loops carry values, i32 wraps and divides toward zero."""
    xv = f32(rng, 2, 4)
    original = xv.copy()
    out, ints, total = strata.simulate(UPSTREAM, xv)
    expected = xv * np.array([[1], [2]], np.float32)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(ints, np.array([-(2**31), -3, 15, -2], np.int32))
    assert total.shape == () and total.dtype == np.float32
    np.testing.assert_allclose(total, expected[expected > 0].sum(), rtol=1e-6)
    np.testing.assert_array_equal(xv, original)  # the caller's array is never written


# --- libraries ----------------------------------------------------------------------------------


def _libcall_module(rng, callee: str):
    b = strata.GraphBuilder("mm")
    module = b.finish(b.matmul(b.input((4, 16)), b.input((16, 8))))
    Pipeline.parse("graph-dispatch-libcall,convert-graph-to-tprog").run(module)
    text = str(module)
    assert 'callee = "openblas.sgemm"' in text
    return text.replace('"openblas.sgemm"', f'"{callee}"')


@pytest.mark.parametrize("with_reference", [True, False])
def test_libcall_without_native_library(with_reference, rng):
    """A library that is not installed: the registry's numpy reference runs (or, without one,
    the op's own semantics); nothing native is loaded."""
    calls = []

    def reference(lhs, rhs, out, **attributes):
        calls.append(attributes)
        out[...] = lhs @ rhs

    def emit(op, function):
        raise AssertionError("the simulator must not emit the native call")

    function = registry.LibraryFunction(
        name="absent.sgemm",
        op="libcall.matmul",
        library=registry.Library("absent", lambda: None),
        symbol="absent_sgemm",
        accepts=lambda op: None,
        emit=emit,
        reference=reference if with_reference else None,
    )
    registry.register(function)
    try:
        text = _libcall_module(rng, "absent.sgemm")
        xv, wv = f32(rng, 4, 16), f32(rng, 16, 8)
        (simulated,) = strata.simulate(text, xv, wv)
    finally:
        registry.unregister("absent.sgemm")
    np.testing.assert_allclose(simulated, xv @ wv, rtol=1e-5, atol=1e-5)
    assert calls == ([{}] if with_reference else [])


def test_libcall_unknown_callee(rng):
    text = _libcall_module(rng, "nowhere.sgemm")
    with pytest.raises(SimulationError, match="unknown library function 'nowhere.sgemm'"):
        strata.simulate(text, f32(rng, 4, 16), f32(rng, 16, 8))


# --- errors -------------------------------------------------------------------------------------

UNKNOWN_OPS = """func.func @f(%x: tensor<4xi32>) -> tensor<4xi32> {
  %m = bufferization.to_buffer %x read_only : tensor<4xi32> to memref<4xi32>
  %o = memref.alloc() : memref<4xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %v = memref.load %m[%i] : memref<4xi32>
    %p = math.ctpop %v : i32
    %z = math.ctlz %p : i32
    memref.store %z, %o[%i] : memref<4xi32>
  }
  %t = bufferization.to_tensor %o restrict writable : memref<4xi32> to tensor<4xi32>
  return %t : tensor<4xi32>
}
"""


def test_unknown_ops_are_listed_with_locations():
    module = parse_module(UNKNOWN_OPS, source_name="kernel.mlir")
    with pytest.raises(UnsupportedOp) as info:
        strata.simulate(module, np.arange(4))
    assert isinstance(info.value, CompileError)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("kernel.mlir:9:10: error: no simulator semantics for 'math.ctpop'")
    assert lines[1].startswith("kernel.mlir:10:10: error: no simulator semantics for 'math.ctlz'")


def test_registered_semantics(monkeypatch):
    """`@semantics` gives an op its meaning: the kernel gets operand values, returns results."""
    monkeypatch.setattr(interpreter_core, "_SEMANTICS", dict(interpreter_core._SEMANTICS))
    semantics("math.ctpop")(lambda op: lambda v: bin(v & 0xFFFFFFFF).count("1"))
    semantics("math.ctlz")(lambda op: lambda v: 32 - int(v).bit_length())
    (result,) = strata.simulate(UNKNOWN_OPS, np.array([0, 1, 7, -1], np.int32))
    np.testing.assert_array_equal(result, [32, 31, 30, 26])


OUT_OF_BOUNDS = """func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %m = bufferization.to_buffer %x read_only : tensor<4xf32> to memref<4xf32>
  %o = memref.alloc() : memref<4xf32>
  call @copy(%m, %o) : (memref<4xf32>, memref<4xf32>) -> ()
  %t = bufferization.to_tensor %o restrict writable : memref<4xf32> to tensor<4xf32>
  return %t : tensor<4xf32>
}
func.func private @copy(%m: memref<4xf32>, %o: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  scf.for %i = %c0 to %c5 step %c1 {
    %v = memref.load %m[%i] : memref<4xf32>
    memref.store %v, %o[%i] : memref<4xf32>
  }
  return
}
"""


def test_out_of_bounds_access():
    module = parse_module(OUT_OF_BOUNDS, source_name="copy.mlir")
    with pytest.raises(SimulationError) as info:
        strata.simulate(module, np.ones(4, np.float32))
    assert str(info.value).splitlines() == [
        "copy.mlir:13:10: error: memref.load: index [4] is out of bounds for shape [4]",
        "copy.mlir:4:3: note: in '@copy' called from here",
    ]


def test_store_to_read_only_buffer():
    text = OUT_OF_BOUNDS.replace("%c5 = arith.constant 5", "%c5 = arith.constant 4")
    text = text.replace("memref.store %v, %o[%i]", "memref.store %v, %m[%i]")
    with pytest.raises(SimulationError, match="memref.store: writes a read-only buffer"):
        strata.simulate(text, np.ones(4, np.float32))


def test_wrong_arguments(rng):
    module, _ = mlp(rng)
    with pytest.raises(TypeError, match=r"mlp\(\) takes 1 arrays but 2 were given"):
        strata.simulate(module, f32(rng, 8, 48), f32(rng, 8, 48))
    with pytest.raises(ValueError, match=r"argument 0 has shape \(8, 47\), expected \(8, 48\)"):
        strata.simulate(module, f32(rng, 8, 47))
    with pytest.raises(SimulationError, match="no function '@nope' in the module; have: mlp"):
        strata.simulate(module, f32(rng, 8, 48), function="nope")
    Pipeline.parse("graph-fuse-ops,convert-graph-to-tprog").run(module)
    out = np.zeros((8, 24), np.float64)
    with pytest.raises(TypeError, match="pass a writable numpy array of dtype float32"):
        strata.simulate(module, f32(rng, 8, 64), f32(rng, 64, 24), out, function="matmul")


def test_module_with_two_public_functions():
    text = """
    func.func @a(%x: tensor<2xf32>) -> tensor<2xf32> { return %x : tensor<2xf32> }
    func.func @b(%x: tensor<2xf32>) -> tensor<2xf32> { return %x : tensor<2xf32> }
    """
    with pytest.raises(SimulationError, match=r"2 public functions \(a, b\); pick one"):
        strata.simulate(text, np.ones(2))
    (result,) = strata.simulate(text, np.ones(2), function="b")
    np.testing.assert_array_equal(result, np.ones(2, np.float32))


# --- the graph level: each op's numpy reference -----------------------------------------------


@pytest.mark.parametrize("example", ["mlp", "gpt2_block"])
def test_graph_level_models_match_pytorch(example):
    """A model imported from PyTorch runs at the graph level (each op through the numpy
    reference next to its lowering), before and after fusion, and after library dispatch (a mix
    of graph ops and libcall tensor programs)."""
    import runpy
    from pathlib import Path

    torch = pytest.importorskip("torch")
    from strata.compiler import import_model

    path = Path(__file__).resolve().parents[2] / "examples" / f"{example}.py"
    namespace = runpy.run_path(str(path))
    model, inputs = namespace["model"], namespace["example_inputs"]
    with torch.no_grad():
        expected = model(*inputs).numpy()
    arrays = [x.numpy() for x in inputs]
    module = import_model(model, inputs)
    for passes in (None, "graph-fuse-ops", "graph-dispatch-libcall,graph-fuse-ops"):
        if passes:
            module = import_model(model, inputs)
            Pipeline.parse(passes).run(module)
        (got,) = strata.simulate(module, *arrays)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=str(passes))


def test_graph_op_without_reference_is_a_located_error(monkeypatch):
    from strata.conversions import graph_ops

    b = strata.GraphBuilder("f")
    module = b.finish(b.relu(b.input((2, 2))))
    monkeypatch.setattr(graph_ops, "reference_for", lambda name: None)
    with pytest.raises(CompileError, match="no numpy reference for 'graph.relu'"):
        strata.simulate(module, np.ones((2, 2), np.float32))
