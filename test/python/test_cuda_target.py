"""The CUDA target's tail without a GPU: bound tensor programs -> gpu.launch -> PTX (accepted by
ptxas for sm_80 and sm_90a) and the launch manifest of the host side."""

from __future__ import annotations

import json

import numpy as np
import pytest
import strata
from mlir import ir
from strata.diagnostics import CompileError
from strata.dialects.tprog import PRIM_FUNC
from strata.irutil import functions, walk
from strata.pipelines import Pipeline
from strata.targets.cuda import CUDATarget, ptxas_path
from strata.targets.cuda_artifact import assemble, build_artifact, gpu_binaries
from strata.transforms.tprog import nest

needs_ptxas = pytest.mark.skipif(ptxas_path() is None, reason="ptxas (CUDA toolkit) not installed")

GRAPH = """
func.func @main(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %b = "graph.constant"() {value = dense<0.5> : tensor<16xf32>} : () -> tensor<16xf32>
  %0 = "graph.matmul"(%x, %w) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = "graph.add"(%0, %b) : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %2 = "graph.softmax"(%1) {axis = 1 : i64} : (tensor<4x16xf32>) -> tensor<4x16xf32>
  return %2 : tensor<4x16xf32>
}
"""


def _bind_by_hand(module: ir.Operation) -> None:
    """Outer loop of each nest -> blockIdx.x; its one inner loop -> threadIdx.x when the nest's
    block is spatial in both (the schedule pass does better; this tests the lowering alone)."""
    for fn in functions(module):
        if PRIM_FUNC not in fn.attributes:
            continue
        for op in fn.regions[0].blocks[0].operations:
            op = op.operation
            if op.name != "scf.for":
                continue
            op.attributes[nest.LOOP_KIND] = ir.StringAttr.get("blockIdx.x")
            inner = [o for o in nest.body_ops(op) if o.name == "scf.for"]
            (block,) = [o for o in walk(op) if o.name == "tprog.block"][:1]
            kinds = [ir.StringAttr(k).value for k in ir.ArrayAttr(block.attributes["iter_types"])]
            if len(inner) == 1 and kinds[:2] == ["spatial", "spatial"]:
                inner[0].attributes[nest.LOOP_KIND] = ir.StringAttr.get("threadIdx.x")


def lowered(chip: str = "sm_80") -> ir.Module:
    context = strata.make_context()
    with context, ir.Location.unknown():
        module = ir.Module.parse(GRAPH)
        Pipeline.parse("builtin.module(graph-fuse-ops,convert-graph-to-tprog)").run(module)
        _bind_by_hand(module.operation)
        Pipeline.parse("builtin.module(convert-tprog-to-scf,convert-tprog-to-gpu)").run(module)
        Pipeline(CUDATarget(chip).lower_to_llvm()).run(module)
    return module


def test_host_becomes_manifest() -> None:
    module = lowered()
    artifact = build_artifact(module.operation, entry="main", chip="sm_80", n_inputs=2, cubin=False)
    m = artifact.manifest
    assert m["format"] == "strata-cuda" and m["version"] == 1 and m["chip"] == "sm_80"
    assert [i["shape"] for i in m["inputs"]] == [[4, 8], [8, 16]]
    assert [(o["shape"], o["dtype"]) for o in m["outputs"]] == [([4, 16], "float32")]
    assert m["modules"] == [{"name": "kernels", "ptx": "kernels.ptx", "cubin": None}]
    launches = [s for s in m["steps"] if s["op"] == "launch"]
    assert len(launches) == len(m["steps"]) >= 3
    kernels = {s["kernel"] for s in launches}
    assert len(kernels) == len(launches)  # names made unique when merged into one module
    ptx = artifact.ptx["kernels"]
    for kernel in kernels:
        assert f".entry {kernel}(" in ptx
    # Every buffer argument names an existing buffer; the output buffer is written by a launch.
    for step in launches:
        assert step["grid"][0] == 4
        for arg in step["args"]:
            assert "ptr" in arg and 0 <= arg["ptr"]["buffer"] < len(m["buffers"])
    out = m["outputs"][0]["buffer"]
    assert any(a["ptr"]["buffer"] == out for a in launches[-1]["args"])
    # The bias constant (0.5 x 16) is a device buffer uploaded from weights.bin.
    (const,) = m["constants"]
    data = artifact.weights[const["offset"] : const["offset"] + const["bytes"]]
    np.testing.assert_array_equal(np.frombuffer(data, np.float32), np.full(16, 0.5, np.float32))


@needs_ptxas
@pytest.mark.parametrize("chip", ["sm_80", "sm_90a"])
def test_ptx_assembles(chip: str) -> None:
    module = lowered(chip)
    ((found_chip, ptx),) = gpu_binaries(module.operation)
    assert found_chip == chip and f".target {chip}" in ptx
    cubin = assemble(ptx, chip)
    assert cubin[:4] == b"\x7fELF"


@needs_ptxas
def test_ptxas_error_is_reported() -> None:
    with pytest.raises(CompileError, match="ptxas -arch=sm_80 rejected the PTX"):
        assemble(".version 8.0\n.target sm_80\n.address_size 64\nthis is not ptx\n", "sm_80")


def test_save_writes_artifact(tmp_path) -> None:
    module = lowered()
    artifact = build_artifact(module.operation, entry="main", chip="sm_80", n_inputs=2)
    artifact.extras["inputs"] = {"arg0": np.zeros((4, 8), np.float32)}
    path = artifact.save(tmp_path / "model.strata")
    names = sorted(p.name for p in path.iterdir())
    assert "manifest.json" in names and "kernels.ptx" in names and "weights.bin" in names
    assert "inputs.npz" in names
    assert json.loads((path / "manifest.json").read_text()) == artifact.manifest
    # Saving again replaces the directory; nothing is left beside it.
    artifact.save(tmp_path / "model.strata")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.strata"]


def test_save_into_missing_directory(tmp_path) -> None:
    module = lowered()
    artifact = build_artifact(module.operation, entry="main", chip="sm_80", n_inputs=2, cubin=False)
    with pytest.raises(CompileError, match="does not exist"):
        artifact.save(tmp_path / "missing" / "model.strata")


# --- whole models: graph -> PTX -> cubin, and the scheduled programs in the simulator ---------


def _small_cnn() -> ir.Module:
    """conv3x3 + bias + relu -> maxpool -> flatten -> linear + softmax (CNN ops, small enough to
    simulate quickly)."""
    from strata.frontends.builder import GraphBuilder

    rng = np.random.default_rng(0)
    b = GraphBuilder()
    x = b.input([2, 3, 8, 8])
    w = b.constant(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    bias = b.constant(rng.standard_normal((1, 4, 1, 1)).astype(np.float32))
    y = b.relu(b.add(b.conv2d(x, w, padding=[1, 1, 1, 1]), bias))
    y = b.reshape(b.max_pool2d(y, [2, 2], strides=[2, 2]), [2, 64])
    fc = b.constant(rng.standard_normal((64, 10)).astype(np.float32) * 0.1)
    return b.finish(b.softmax(b.matmul(y, fc), axis=1))


def _matmul(m: int, k: int, n: int, dtype: str) -> ir.Module:
    from strata.frontends.builder import GraphBuilder

    b = GraphBuilder()
    return b.finish(b.matmul(b.input([m, k], dtype), b.input([k, n], dtype)))


def _scheduled(module: ir.Module, chip: str, **options) -> ir.Module:
    """`module` lowered for the GPU down to the scheduled tensor programs (bindings, shared
    memory, TensorCore primitives), before they become gpu.launch kernels."""
    from strata.compiler import lower_to_llvm

    class Reached(Exception):
        pass

    def stop(level: str, _op: ir.Operation) -> None:
        if level == "libcall/hwprim":
            raise Reached

    copy = ir.Module.parse(module.operation.get_asm(enable_debug_info=True), module.context)
    with pytest.raises(Reached):
        lower_to_llvm(copy, target="cuda", chip=chip, on_level=stop, **options)
    return copy


@pytest.mark.parametrize("chip", ["sm_80", "sm_90a"])
def test_cnn_scheduled_for_gpu_matches_reference(chip: str) -> None:
    module = _small_cnn()
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    expected = strata.simulate(module, x)  # graph level: the ops' numpy references
    scheduled = _scheduled(module, chip)
    kinds = {
        ir.StringAttr(op.attributes[nest.LOOP_KIND]).value
        for op in walk(scheduled.operation)
        if op.name == "scf.for" and nest.LOOP_KIND in op.attributes
    }
    assert {"blockIdx.x", "threadIdx.x"} <= kinds
    np.testing.assert_allclose(strata.simulate(scheduled, x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("chip", "primitive"), [("sm_80", "mma.sync"), ("sm_90a", "wgmma")])
def test_f16_matmul_tensorcore_end_to_end(chip: str, primitive: str) -> None:
    module = _matmul(64, 32, 48, "f16")
    rng = np.random.default_rng(2)
    a = rng.standard_normal((64, 32)).astype(np.float16)
    b = rng.standard_normal((32, 48)).astype(np.float16)
    scheduled = _scheduled(module, chip)
    assert any(primitive.replace(".", "_") in op.name for op in walk(scheduled.operation))
    (got,) = strata.simulate(scheduled, a, b)
    expected = a.astype(np.float32) @ b.astype(np.float32)
    np.testing.assert_allclose(got.astype(np.float32), expected, rtol=2e-3, atol=2e-2)
    artifact = strata.compile(module, target="cuda", chip=chip, cubin=False)
    assert primitive in artifact.ptx["kernels"]


@pytest.mark.parametrize(("chip", "primitive"), [("sm_80", "mma.sync"), ("sm_90a", "wgmma")])
def test_f32_matmul_tf32_end_to_end(chip: str, primitive: str) -> None:
    """tf32=True: f32 matmuls on TensorCores, operands rounded to TF32 (10 mantissa bits)."""
    module = _matmul(40, 24, 72, "f32")
    rng = np.random.default_rng(3)
    a = rng.standard_normal((40, 24)).astype(np.float32)
    b = rng.standard_normal((24, 72)).astype(np.float32)
    scheduled = _scheduled(module, chip, tf32=True)
    assert any(op.name == "hwprim.round_tf32" for op in walk(scheduled.operation))
    (got,) = strata.simulate(scheduled, a, b)
    np.testing.assert_allclose(got, a @ b, rtol=1e-2, atol=1e-2)
    ptx = strata.compile(module, target="cuda", chip=chip, tf32=True, cubin=False).ptx["kernels"]
    assert primitive in ptx and "tf32" in ptx and "cvt.rna.tf32.f32" in ptx


@needs_ptxas
@pytest.mark.parametrize("chip", ["sm_80", "sm_90a"])
def test_models_compile_to_cubin(chip: str) -> None:
    artifact = strata.compile(_small_cnn(), target="cuda", chip=chip)
    assert artifact.chip == chip and artifact.cubins["kernels"][:4] == b"\x7fELF"
    launches = [s for s in artifact.manifest["steps"] if s["op"] == "launch"]
    assert len(launches) >= 4
    from strata.runtime import cuda

    cuda.parse_manifest(artifact.manifest)  # the runtime accepts the manifest


def test_cublas_dispatch_gives_gemm_steps() -> None:
    artifact = strata.compile(_matmul(8, 16, 4, "f32"), target="cuda", dispatch="always")
    (step,) = artifact.manifest["steps"]
    assert step["op"] == "gemm" and (step["m"], step["n"], step["k"]) == (8, 4, 16)
    assert "kernels" not in artifact.ptx or not artifact.ptx


def _gpu_available() -> bool:
    from strata.runtime import cuda

    return cuda.cuda_available()


@pytest.mark.skipif(not _gpu_available(), reason="no CUDA GPU (libcuda.so.1 or a device missing)")
def test_runs_on_gpu() -> None:
    from strata.runtime import cuda

    chip = cuda.device().chip
    chip = chip if chip in ("sm_80", "sm_86", "sm_89") else "sm_90a"
    module = _small_cnn()
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    (expected,) = strata.simulate(module, x)
    got = strata.compile(module, target="cuda", chip=chip)(x)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
