"""The CUDA runtime's command line (`python -m strata.runtime.cuda`, an artifact's runtime.py),
its independence from MLIR and Strata, the copy an artifact carries, and `bench.gpu`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from cuda_artifacts import (
    PTX,
    REPO,
    WEIGHT,
    artifact_inputs,
    edit,
    full_manifest,
    gemm_step,
    place,
    run_python,
    write_artifact,
)
from strata.runtime import cuda

pytest_plugins = ["cuda_standin"]  # the fixtures stand_in_libraries and stand_in


def test_command_line_on_a_bad_artifact(tmp_path) -> None:
    folder = write_artifact(tmp_path / "a", edit(full_manifest(), ("steps", 0, "grid"), [4, 1]))
    result = run_python("-m", "strata.runtime.cuda", str(folder))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "strata.runtime.cuda: error: manifest.json: steps[0].grid: expected 3 integers, "
        "found [4, 1]"
    )
    result = run_python("-m", "strata.runtime.cuda", str(tmp_path / "missing"))
    assert result.returncode == 1 and "no artifact folder" in result.stderr
    result = run_python("-m", "strata.runtime.cuda", str(folder), "--repeat", "many")
    assert result.returncode == 1 and "invalid int value" in result.stderr


def test_command_line_check_needs_no_gpu(tmp_path) -> None:
    folder = write_artifact(tmp_path / "a")
    result = run_python("-m", "strata.runtime.cuda", str(folder), "--check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{folder}: valid (7 steps, chip sm_80)"


@pytest.mark.skipif(cuda.cuda_available(), reason="a GPU is present")
def test_command_line_without_a_gpu(tmp_path) -> None:
    folder = write_artifact(tmp_path / "a")
    result = run_python("-m", "strata.runtime.cuda", str(folder))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("strata.runtime.cuda: error: ")
    assert "CUDA_" in result.stderr


def _numpy_only() -> tuple[str, dict[str, str]]:
    """numpy's site folder, and an environment where it is the only one (with `python -S`)."""
    numpy_site = str(Path(np.__file__).resolve().parents[1])
    return numpy_site, {**os.environ, "PYTHONPATH": numpy_site}


def test_runtime_runs_without_mlir_or_strata(tmp_path) -> None:
    """The runtime copied into an artifact (`strata_cuda/` and the `runtime.py` launcher) runs
    with only the standard library and numpy: imported, as a script, as a package."""
    folder = write_artifact(tmp_path / "a")
    launcher = cuda.copy_runtime(folder)
    assert launcher == folder / "runtime.py"
    numpy_site, env = _numpy_only()
    code = (
        f"import sys; sys.path[:] = [{str(folder)!r}] + sys.path + [{numpy_site!r}]; "
        "import strata_cuda, runtime; "
        f"strata_cuda.read_manifest({str(folder)!r}); runtime.cuda_available(); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('mlir', 'strata')]; "
        "assert not bad, bad; print('ok')"
    )
    result = run_python("-S", "-c", code, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    result = run_python("-S", str(launcher), str(folder), "--check", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{folder}: valid (7 steps, chip sm_80)"
    result = run_python("-S", str(launcher), str(tmp_path / "missing"), cwd=tmp_path, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("runtime.py: error: ") and "no artifact folder" in result.stderr
    result = run_python("-S", "-m", "strata_cuda", ".", "--check", cwd=folder, env=env)
    assert result.returncode == 0 and result.stdout.strip() == ".: valid (7 steps, chip sm_80)"


def test_saved_artifact_carries_the_runtime(tmp_path) -> None:
    """`CudaArtifact.save` writes the runtime package and its launcher beside the manifest."""
    from strata.targets.cuda_artifact import CudaArtifact

    weights = b"pad!" + np.ascontiguousarray(WEIGHT.T).tobytes()
    artifact = CudaArtifact(full_manifest(), {"kernels": PTX}, {}, weights)
    saved = artifact.save(tmp_path / "model")
    package = Path(cuda.__file__).parent
    assert sorted(p.name for p in (saved / "strata_cuda").iterdir()) == sorted(
        p.name for p in package.glob("*.py")
    )
    _, env = _numpy_only()
    result = run_python("-S", str(saved / "runtime.py"), str(saved), "--check", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{saved}: valid (7 steps, chip sm_80)"


@pytest.mark.parametrize("module", ["strata.runtime.cuda", "bench.gpu"])
def test_imports_leave_mlir_out(module) -> None:
    code = f"import sys, {module}; assert 'mlir' not in sys.modules, 'mlir imported'"
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr


def test_bench_lists_artifacts_without_a_gpu(tmp_path) -> None:
    write_artifact(tmp_path / "model")
    np.savez(tmp_path / "model" / "expected.npz", *artifact_inputs()[1])
    square = place(64, 64, 1, False, 0) | {"row_stride": 64}
    step = gemm_step("float16", 64, 64, 64, 1, square, square, square)
    matmul = {
        **{"format": "strata-cuda", "version": 1, "chip": "sm_90a", "entry": "main"},
        "modules": [],
        "buffers": [{"id": i, "bytes": 64 * 64 * 2 + 64} for i in range(3)],
        "inputs": [
            {"name": n, "buffer": i, "offset": 0, "shape": [64, 64], "dtype": "float16"}
            for i, n in enumerate("ab")
        ],
        "outputs": [{"name": "c", "buffer": 2, "offset": 0, "shape": [64, 64], "dtype": "float16"}],
        "steps": [step],
    }
    (tmp_path / "mm" / "f16").mkdir(parents=True)
    (tmp_path / "mm" / "f16" / cuda.MANIFEST).write_text(json.dumps(matmul))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / cuda.MANIFEST).write_text("[]")
    result = run_python("-m", "bench.gpu", str(tmp_path), "--list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "mm/f16: matmul cuBLAS float16 64x64x64",
        "model: model cuBLAS float32",
    ]
    assert "junk: manifest.json: manifest: expected an object" in result.stderr


def test_stand_in_command_line_and_bench(tmp_path, stand_in, capsys, monkeypatch) -> None:
    folder = write_artifact(tmp_path / "artifacts" / "model")
    inputs, expected = artifact_inputs()
    np.savez(folder / "inputs.npz", *inputs)
    np.savez(folder / "expected.npz", *expected)
    assert cuda.main([str(folder), "--compare", str(folder / "expected.npz"), "--repeat", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stand-in (sm_90); modules: k: ptx\ny: 1000 float32\n")
    assert "e32: max abs error" in out and "time: 0.2500 ms per call (median of 3" in out
    wrong = [e + 1 if e.dtype != np.uint16 else e for e in expected]
    np.savez(folder / "wrong.npz", *wrong)
    assert cuda.main([str(folder), "--compare", str(folder / "wrong.npz"), "--tolerance", "1e-3"])
    assert "FAIL" in capsys.readouterr().out

    monkeypatch.syspath_prepend(str(REPO))
    import bench.gpu

    assert bench.gpu.main([str(tmp_path / "artifacts"), "--repeat", "2"]) == 0
    table = capsys.readouterr().out
    assert "GPU: Stand-in (sm_90, 132 SMs)" in table
    assert "| model | 7 | ptx |" in table
