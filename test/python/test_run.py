"""`strata run` / `strata compile` on model files (the main job on a user's model)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from strata.run import load_model_file, run_model
from strata.tools.cli import main

torch = pytest.importorskip("torch")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def mlp_onnx(tmp_path_factory) -> Path:
    import runpy

    namespace = runpy.run_path(str(EXAMPLES / "mlp.py"))
    path = tmp_path_factory.mktemp("onnx") / "mlp.onnx"
    torch.onnx.export(
        namespace["model"], namespace["example_inputs"], str(path), opset_version=17, dynamo=False
    )
    return path


def test_run_python_model_compares_with_pytorch():
    lines: list[str] = []
    assert run_model(EXAMPLES / "mlp.py", repeat=2, out=lines.append)
    text = "\n".join(lines)
    for level in ("imported", "graph", "tprog", "libcall/hwprim", "llvm"):
        assert f"  {level} " in text
    assert "PyTorch" in text and "OK" in text


def test_run_onnx_model_compares_with_a_runtime(mlp_onnx, capsys):
    assert main(["run", str(mlp_onnx), "--repeat", "2"]) == 0
    out = capsys.readouterr().out
    assert "imported through ONNX" in out
    assert ("ONNX Runtime" in out or "onnx.reference" in out) and "OK" in out


def test_run_with_library_calls_counts_them():
    lines: list[str] = []
    assert run_model(EXAMPLES / "mlp.py", use_libcall=True, repeat=1, out=lines.append)
    assert any("library calls: 2 openblas.sgemm" in line for line in lines)


def test_compile_with_dispatch_always_calls_the_libraries(tmp_path, capsys):
    """--dispatch always: the MLP's matmuls become OpenBLAS calls (summary and IR)."""
    out = tmp_path / "mlp.libcall.mlir"
    args = ["compile", str(EXAMPLES / "mlp.py"), "--dispatch", "always"]
    assert main([*args, "--compile-to", "libcall/hwprim", "-o", str(out)]) == 0
    assert 'callee = "openblas.sgemm"' in out.read_text()
    assert "library calls: 2 openblas.sgemm" in capsys.readouterr().err


def test_dispatch_flag_rejects_unknown_modes(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["compile", str(EXAMPLES / "mlp.py"), "--dispatch", "sometimes"])
    assert exit.value.code != 0
    assert "invalid choice: 'sometimes'" in capsys.readouterr().err


def test_compile_onnx_to_tprog(mlp_onnx, tmp_path, capsys):
    out = tmp_path / "mlp.tprog.mlir"
    assert main(["compile", str(mlp_onnx), "--compile-to", "tprog", "-o", str(out)]) == 0
    text = out.read_text()
    assert "tprog.block" in text and "graph." not in text
    assert "tensor programs" in capsys.readouterr().err


def test_mismatch_is_reported(monkeypatch):
    """A result that differs from the framework's makes the run fail (exit 1)."""
    loaded = load_model_file(EXAMPLES / "mlp.py")
    wrong = [a * 2 for a in loaded.reference()]
    monkeypatch.setattr(
        "strata.run.load_model_file",
        lambda *a, **k: type(loaded)(**{**vars(loaded), "reference": lambda: wrong}),
    )
    buffer = io.StringIO()
    assert not run_model(EXAMPLES / "mlp.py", repeat=1, out=lambda s: buffer.write(s + "\n"))
    assert "MISMATCH" in buffer.getvalue()


def test_compile_to_an_unwritable_output_is_a_clear_error(tmp_path, capsys):
    """Found by the driver fuzzer (there in strata-opt): -o naming a directory."""
    assert main(["compile", str(EXAMPLES / "mlp.py"), "-o", str(tmp_path)]) == 1
    assert f"cannot write output file '{tmp_path}': Is a directory" in capsys.readouterr().err
