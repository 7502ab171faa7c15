"""Library dispatch modes (never, always, auto): numerics of the MLP and a small CNN in each mode,
auto's cache (measured once, then read; a cache entry decides), the fallback to generated code
when a library is not installed, and option errors. Nothing here asserts a speed."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import strata
from strata.diagnostics import Diagnostic, collect_remarks, remarks_requested
from strata.irutil import walk
from strata.libraries import autotune, registry
from strata.libraries.openblas import SGEMM
from strata.models.mlp import MLPWeights, build_mlp
from strata.passes import PipelineError
from strata.pipelines import Dispatch, LowerToLLVMPipeline, Pipeline
from strata.transforms.graph import dispatch_libcall
from strata.transforms.graph.dispatch_libcall import Mode

MODES = ("never", "always", "auto")
WEIGHTS = MLPWeights.default()


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Every test gets an empty dispatch cache, and auto mode times briefly."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("STRATA_CACHE_DIR", str(directory))
    monkeypatch.delenv("STRATA_REMARKS", raising=False)
    monkeypatch.setattr(autotune, "BUDGET_S", 0.02)
    monkeypatch.setattr(autotune, "IDLE_GAP_S", 0.0)
    return directory


def calls_blas(compiled) -> bool:
    return "scipy_cblas_sgemm" in str(compiled.llvm_module)


def cache_entries(directory) -> dict:
    return json.loads((directory / autotune.CACHE_FILE).read_text())["entries"]


# --- numerics in every mode ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("batch", [1, 16])
def test_mlp_matches_numpy_in_every_mode(mode: str, batch: int, rng) -> None:
    cm = strata.compile(build_mlp(batch, WEIGHTS), dispatch=mode)
    x = rng.standard_normal((batch, 784), dtype=np.float32)
    np.testing.assert_allclose(cm(x), WEIGHTS.reference(x), rtol=1e-4, atol=1e-4)
    if mode == "never":
        assert not calls_blas(cm)
    if mode == "always":
        assert calls_blas(cm)
        assert [d.source for d in autotune.last_decisions()] == ["rule", "rule"]
    if mode == "auto":
        decisions = autotune.last_decisions()
        assert [d.source for d in decisions] == ["measured", "measured"]
        assert calls_blas(cm) == any(d.library for d in decisions)
        for d in decisions:
            assert d.choice == ("library" if d.library_us < d.generated_us else "generated")


def small_cnn():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 8 * 8, 10),
    ).eval()
    return torch, model, torch.randn(2, 3, 16, 16)


@pytest.mark.parametrize("mode", MODES)
def test_cnn_matches_torch_in_every_mode(mode: str) -> None:
    torch, model, x = small_cnn()
    cm = strata.compile(model, (x,), dispatch=mode)
    with torch.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(cm(x.numpy()), expected, rtol=1e-4, atol=1e-4)
    if mode == "auto":
        assert calls_blas(cm) == any(d.library for d in autotune.last_decisions())
    else:
        assert calls_blas(cm) == (mode == "always")


@pytest.fixture
def conv_rule():
    """conv2d sent to `onednn.conv2d` (skipped where the registry has no such entry)."""
    entry = registry.lookup("onednn.conv2d")
    if entry is None or entry.library.path() is None:
        pytest.skip("no installed onednn.conv2d in the library registry")
    rule = dispatch_libcall.add_rule("graph.conv2d", "onednn.conv2d")
    yield entry
    dispatch_libcall.remove_rule(rule)


@pytest.mark.parametrize("mode", ["always", "auto"])
def test_cnn_with_a_conv2d_library_matches_torch(conv_rule, mode: str) -> None:
    torch, model, x = small_cnn()
    cm = strata.compile(model, (x,), dispatch=mode)
    with torch.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(cm(x.numpy()), expected, rtol=1e-4, atol=1e-4)
    decisions = {d.function: d for d in autotune.last_decisions()}
    assert set(decisions) == {"onednn.conv2d", "openblas.sgemm"}
    conv = decisions["onednn.conv2d"]
    assert conv.op.startswith("graph.conv2d(tensor<2x3x16x16xf32>, const tensor<8x3x3x3xf32>)")
    assert conv.library == (mode == "always" or conv.library_us < conv.generated_us)
    assert (conv_rule.symbol in str(cm.llvm_module)) == conv.library


def test_batched_matmul_with_absorbed_transpose_in_auto_mode(rng) -> None:
    """Attention scores: the library reads k through a transposed view, so the measured op
    includes the transpose (and the cache key names it)."""
    b = strata.GraphBuilder("scores")
    q, k = b.input((2, 32, 16)), b.input((2, 32, 16))
    module = b.finish(b.matmul(q, b.transpose(k, (0, 2, 1))))
    a, c = (rng.standard_normal((2, 32, 16), dtype=np.float32) for _ in range(2))
    for mode in MODES:
        cm = strata.compile(module, dispatch=mode)
        np.testing.assert_allclose(cm(a, c), a @ c.transpose(0, 2, 1), rtol=1e-4, atol=1e-4)
    (decision,) = autotune.last_decisions()
    assert "graph.transpose(tensor<2x32x16xf32>)" in decision.op


# --- auto: measured once, then cached ------------------------------------------------------------


def test_auto_decisions_are_cached(cache_dir) -> None:
    strata.compile(build_mlp(1, WEIGHTS), dispatch="auto")
    first = autotune.last_decisions()
    assert [d.source for d in first] == ["measured", "measured"]
    entries = cache_entries(cache_dir)
    assert len(entries) == 2
    for key, entry in entries.items():
        assert "openblas.sgemm" in key and autotune.target_key() in key
        assert entry["choice"] in ("library", "generated") and entry["library_us"] > 0

    strata.compile(build_mlp(1, WEIGHTS), dispatch="auto")
    second = autotune.last_decisions()
    assert [d.source for d in second] == ["cached", "cached"]  # not measured again
    assert [(d.op, d.choice) for d in second] == [(d.op, d.choice) for d in first]
    assert cache_entries(cache_dir) == entries


@pytest.mark.parametrize("choice", ["library", "generated"])
def test_cached_choice_is_respected(cache_dir, choice: str, rng) -> None:
    strata.compile(build_mlp(4, WEIGHTS), dispatch="auto")
    path = cache_dir / autotune.CACHE_FILE
    data = json.loads(path.read_text())
    for entry in data["entries"].values():
        entry["choice"] = choice
    path.write_text(json.dumps(data))

    cm = strata.compile(build_mlp(4, WEIGHTS), dispatch="auto")
    decisions = autotune.last_decisions()
    assert [(d.source, d.choice) for d in decisions] == [("cached", choice)] * 2
    assert calls_blas(cm) == (choice == "library")
    x = rng.standard_normal((4, 784), dtype=np.float32)
    np.testing.assert_allclose(cm(x), WEIGHTS.reference(x), rtol=1e-4, atol=1e-4)


def test_fake_cache_entry_forces_a_choice(cache_dir, monkeypatch) -> None:
    """An entry written by hand (for the op's key) decides without any measurement."""
    b = strata.GraphBuilder("mm")
    module = b.finish(b.matmul(b.input((8, 8)), b.input((8, 8))))
    (op,) = [op for op in _ops(module) if op.name == "graph.matmul"]
    key = autotune.cache_key(op, "openblas.sgemm")
    cache_dir.mkdir()
    entry = {"choice": "library", "generated_us": 1.0, "library_us": 2.0}
    (cache_dir / autotune.CACHE_FILE).write_text(
        json.dumps({"format": autotune.CACHE_FORMAT, "entries": {key: entry}})
    )

    def no_measuring(*args, **kwargs):
        raise AssertionError("measured although the cache has the op")

    monkeypatch.setattr(autotune, "measure", no_measuring)
    with collect_remarks() as remarks:
        cm = strata.compile(module, dispatch="auto")
    assert calls_blas(cm)
    (decision,) = autotune.last_decisions()
    assert (decision.source, decision.library_us, decision.generated_us) == ("cached", 2.0, 1.0)
    (remark,) = remarks
    assert remark.severity == "remark" and remark.file.endswith("test_dispatch.py")
    assert remark.message == (
        "'graph.matmul' calls openblas.sgemm: openblas.sgemm 2.0 us, generated code 1.0 us (cached)"
    )


def _ops(module):
    from strata.irutil import walk

    return list(walk(module.operation))


@pytest.mark.parametrize("content", ["{not json", '{"format": 99, "entries": {}}', "[]"])
def test_corrupt_cache_is_measured_around(cache_dir, content: str) -> None:
    cache_dir.mkdir()
    (cache_dir / autotune.CACHE_FILE).write_text(content)
    strata.compile(build_mlp(1, WEIGHTS), dispatch="auto")
    assert [d.source for d in autotune.last_decisions()] == ["measured", "measured"]
    assert len(cache_entries(cache_dir)) == 2  # rewritten in the current format


def test_unwritable_cache_is_not_an_error(tmp_path, monkeypatch, rng) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("STRATA_CACHE_DIR", str(blocker / "cache"))  # under a file: no mkdir
    cm = strata.compile(build_mlp(2, WEIGHTS), dispatch="auto")
    decisions = autotune.last_decisions()
    assert [d.source for d in decisions] == ["measured", "measured"]
    assert all("cannot write the dispatch cache" in d.note for d in decisions)
    x = rng.standard_normal((2, 784), dtype=np.float32)
    np.testing.assert_allclose(cm(x), WEIGHTS.reference(x), rtol=1e-4, atol=1e-4)


def test_cache_key_names_op_function_target_and_threads() -> None:
    b = strata.GraphBuilder("mm")
    module = b.finish(b.matmul(b.input((3, 5)), b.input((5, 7))))
    (op,) = [op for op in _ops(module) if op.name == "graph.matmul"]
    signature, function, target, threads = autotune.cache_key(op, "openblas.sgemm").split(" | ")
    assert signature == ("graph.matmul(tensor<3x5xf32>, tensor<5x7xf32>) -> (tensor<3x7xf32>)")
    assert function == "openblas.sgemm"
    assert target == autotune.target_key() and target.startswith("cpu vector-width=")
    assert threads.startswith("threads=")


def test_remarks_on_stderr_when_requested(monkeypatch, capsys) -> None:
    strata.compile(build_mlp(1, WEIGHTS), dispatch="auto")
    assert capsys.readouterr().err == ""  # not requested
    monkeypatch.setenv("STRATA_REMARKS", "1")
    strata.compile(build_mlp(1, WEIGHTS), dispatch="auto")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert all("mlp.py:" in line and ": remark: 'graph.matmul' " in line for line in lines)
    assert all(line.endswith("(cached)") for line in lines)


# --- a library that is not installed -------------------------------------------------------------


@pytest.fixture
def missing_library():
    """A registered sgemm whose library cannot be found, sent every matmul by a rule."""
    library = registry.Library("missinglib", lambda: None)
    if hasattr(library, "install_hint"):
        library = dataclasses.replace(library, install_hint="pip install missinglib")
    function = dataclasses.replace(SGEMM, name="missing.sgemm", library=library)
    registry.register(function)
    rule = dispatch_libcall.add_rule("graph.matmul", "missing.sgemm")
    try:
        yield function
    finally:
        dispatch_libcall.remove_rule(rule)
        registry._FUNCTIONS.pop("missing.sgemm", None)


@pytest.mark.parametrize("mode", ["always", "auto"])
def test_missing_library_falls_back_with_a_remark(missing_library, mode: str, rng) -> None:
    with collect_remarks() as remarks:
        cm = strata.compile(build_mlp(2, WEIGHTS), dispatch=mode)
    assert not calls_blas(cm)
    x = rng.standard_normal((2, 784), dtype=np.float32)
    np.testing.assert_allclose(cm(x), WEIGHTS.reference(x), rtol=1e-4, atol=1e-4)
    assert len(remarks) == 2
    hint = " (pip install missinglib)" if hasattr(missing_library.library, "install_hint") else ""
    for remark in remarks:
        assert remark.message == (
            f"library 'missinglib' of 'missing.sgemm' is not installed{hint}; "
            "'graph.matmul' stays in generated code"
        )
        assert remark.file.endswith("mlp.py") and remark.line > 0
    assert [d.source for d in autotune.last_decisions()] == ["missing library"] * 2


def test_missing_library_remark_is_printed_without_a_collector(missing_library, capsys) -> None:
    strata.compile(build_mlp(1, WEIGHTS), dispatch="always")
    err = capsys.readouterr().err
    assert err.count(": remark: library 'missinglib' of 'missing.sgemm' is not installed") == 2


def test_strata_opt_prints_the_remark_located(missing_library, tmp_path, capsys) -> None:
    from strata.tools import opt

    source = tmp_path / "layer.mlir"
    source.write_text(
        "func.func @layer(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>) -> tensor<4x2xf32> {\n"
        '  %0 = "graph.matmul"(%x, %w) : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>\n'
        "  return %0 : tensor<4x2xf32>\n"
        "}\n"
    )
    assert opt.main([str(source), "--graph-dispatch-libcall"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith(f"{source}:2:8: remark: library 'missinglib' of 'missing.sgemm' is not")
    assert '"graph.matmul"' in out and "libcall" not in out


# --- options -------------------------------------------------------------------------------------


def test_mode_values() -> None:
    assert Mode("rules") is Mode.ALWAYS  # the old name
    assert dispatch_libcall.Options().mode is Mode.ALWAYS
    assert Pipeline.parse("graph-dispatch-libcall{mode=auto}").elements[0].options.mode is Mode.AUTO
    with pytest.raises(PipelineError, match=r"option 'mode' .*: expected never\|always\|auto"):
        Pipeline.parse("graph-dispatch-libcall{mode=sometimes}")


def test_pipeline_dispatch_option() -> None:
    def dispatch_pass(options):
        passes = [e for e in LowerToLLVMPipeline.build(options) if not isinstance(e, str)]
        found = [p for p in passes if p.argument == "graph-dispatch-libcall"]
        return found[0].options.mode if found else None

    assert dispatch_pass(LowerToLLVMPipeline.Options()) is None
    assert dispatch_pass(LowerToLLVMPipeline.Options(dispatch=Dispatch.AUTO)) is Mode.AUTO
    assert dispatch_pass(LowerToLLVMPipeline.Options(dispatch=Dispatch.ALWAYS)) is Mode.ALWAYS
    assert dispatch_pass(LowerToLLVMPipeline.Options(use_libcall=True)) is Mode.ALWAYS
    assert {m.value for m in Dispatch} == {m.value for m in Mode}


def test_compile_rejects_bad_dispatch_values() -> None:
    module = build_mlp(1, WEIGHTS)
    with pytest.raises(PipelineError, match="expected one of never, always, auto"):
        strata.compile(module, dispatch="fastest")
    with pytest.raises(PipelineError, match="contradict each other"):
        strata.compile(module, dispatch="auto", use_libcall=True)
    assert calls_blas(strata.compile(module, dispatch="never", use_libcall=True))


def test_auto_refuses_to_choose_for_another_cpu() -> None:
    with pytest.raises(PipelineError, match="cannot choose for cpu=avx2: use dispatch=always"):
        Pipeline.parse("strata-lower-to-llvm{dispatch=auto cpu=avx2}")


def test_remarks_collect_into_a_given_list() -> None:
    seen: list[Diagnostic] = []
    with collect_remarks(seen):
        assert remarks_requested()
        strata.compile(build_mlp(1, WEIGHTS), dispatch="auto")
    assert len(seen) == 2 and all(d.severity == "remark" for d in seen)
    assert not remarks_requested()


def test_measurement_keeps_weights_constant() -> None:
    """auto times an op with its weights as constants (a library that re-lays out constant
    weights once, like oneDNN, is timed as in the model), its activations as arguments."""
    b = strata.GraphBuilder("conv")
    x = b.input((1, 8, 16, 16))
    w = b.constant(np.ones((16, 8, 3, 3), np.float32), "w")
    module = b.finish(b.conv2d(x, w, padding=(1, 1)))
    conv = next(op for op in walk(module.operation) if op.name == "graph.conv2d")
    text = autotune.measurement_module(conv)
    assert "func.func @main(%a0: tensor<1x8x16x16xf32>)" in text
    assert '"graph.constant"() {value = dense<0.0> : tensor<16x8x3x3xf32>}' in text
    assert "const tensor<16x8x3x3xf32>" in autotune.op_signature(conv)
