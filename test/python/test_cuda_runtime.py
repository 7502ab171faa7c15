"""The CUDA runtime (`strata.runtime.cuda`) running whole artifacts: on a host-memory stand-in
for libcuda and libcublas (built with cc; `cuda_standin.py`), and on a GPU when there is one
(skipped otherwise). Manifest validation, gemm steps and the command line are tested in the
sibling `test_cuda_runtime_*.py` files."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import numpy as np
import pytest
from cuda_artifacts import (
    PTX,
    artifact_inputs,
    assert_outputs,
    edit,
    full_manifest,
    requires_gpu,
    write_artifact,
)
from strata.runtime import cuda

pytest_plugins = ["cuda_standin"]  # the fixtures stand_in_libraries and stand_in


def test_stand_in_runs_every_step_kind(tmp_path, stand_in) -> None:
    folder = write_artifact(tmp_path / "a")
    inputs, expected = artifact_inputs()
    before = stand_in.count("batched")
    with cuda.load(folder) as model:
        assert model.loaded_from == {"k": "ptx"}  # sm_80 PTX on a 9.0 device: JIT
        assert stand_in.live() == {
            **{"live_memory": 13, "live_modules": 1, "live_streams": 1, "live_events": 0},
            **{"contexts": 1, "handles": 1},
        }
        outputs = model(*inputs)
        assert_outputs(outputs, expected)
        assert_outputs(model(*inputs), expected)  # buffers are reused
        assert stand_in.count("batched") == before + 2
        timing = model.time(*inputs, repeat=4)
        assert len(timing.samples_s) == 4 and timing.median_s == pytest.approx(0.25e-3)
        assert "ms per call" in str(timing)
        model.time(*inputs, repeat=2, copies=True)
    assert set(stand_in.live().values()) == {0}  # everything given back


def test_stand_in_device_arrays_as_inputs(tmp_path, stand_in) -> None:
    """__cuda_array_interface__ and __dlpack__ inputs are copied device to device (the stand-in's
    device memory is host memory, so host arrays can pose as device arrays)."""

    class Interface:
        def __init__(self, array: np.ndarray):
            self.array = array
            self.__cuda_array_interface__ = {
                **{"shape": array.shape, "typestr": array.dtype.str, "strides": None},
                **{"data": (array.ctypes.data, False), "version": 3, "stream": 1},
            }

    class DLPack:
        def __init__(self, array: np.ndarray):
            self.array = array

        def __dlpack__(self, stream=None):
            return self.array.__dlpack__()

        def __dlpack_device__(self):
            return (cuda.KDL_CUDA, 0)

    class NoInterface(DLPack):  # as torch's bf16 tensors: the interface raises, DLPack works
        @property
        def __cuda_array_interface__(self):
            raise TypeError("dtype bfloat16 is not supported by __cuda_array_interface__")

    torch = pytest.importorskip("torch")
    inputs, expected = artifact_inputs()
    with cuda.load(write_artifact(tmp_path / "a")) as model:
        assert_outputs(model(Interface(inputs[0]), DLPack(inputs[1]), *inputs[2:]), expected)
        on_host = [torch.from_numpy(inputs[0]), *inputs[1:4]]  # CPU tensors are host arrays
        assert_outputs(model(*on_host, NoInterface(inputs[4]), inputs[5]), expected)
        strided = DLPack(np.asfortranarray(inputs[1]))
        with pytest.raises(cuda.InputError, match=r"argument 1 \(a16\) is not contiguous"):
            model(inputs[0], strided, *inputs[2:])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a[:1], r"main\(\) takes 6 arrays \(x: 1000 float32, .*\) but 1 were given"),
        (lambda a: [a[0].astype(np.float64), *a[1:]], r"argument 0 \(x\) has dtype float64"),
        (lambda a: [a[0][:10], *a[1:]], r"argument 0 \(x\) has shape \(10,\), expected \(1000,\)"),
        (
            lambda a: [*a[:4], cuda.bf16_values(a[4]), a[5]],
            r"argument 4 \(a3\) has dtype float32, expected bfloat16 \(bfloat16 is passed as",
        ),
    ],
)
def test_stand_in_input_errors(tmp_path, stand_in, change, message) -> None:
    inputs, _ = artifact_inputs()
    with cuda.load(write_artifact(tmp_path / "a")) as model:
        with pytest.raises(cuda.InputError, match=message):
            model(*change(inputs))


def test_stand_in_load_errors(tmp_path, stand_in, monkeypatch) -> None:
    with pytest.raises(cuda.ArtifactError, match="runs only on compute capability 10.0"):
        cuda.load(write_artifact(tmp_path / "new", full_manifest("sm_100a")))
    folder = write_artifact(tmp_path / "garbled")  # kernels declared, but no PTX version
    (folder / "kernels.ptx").write_text(PTX.replace(".version 8.0", ""))
    with pytest.raises(cuda.CudaError) as info:
        cuda.load(folder)
    assert info.value.name == "CUDA_ERROR_INVALID_PTX"
    assert "PTX of module 'k'" in str(info.value) and "ptxas fatal: not PTX" in str(info.value)
    too_much = edit(full_manifest(), ("steps", 0, "shared_bytes"), 300_000)
    with pytest.raises(cuda.ArtifactError, match="Stand-in allows 232448 per block"):
        cuda.load(write_artifact(tmp_path / "shared", too_much))
    monkeypatch.setenv("STRATA_CUBLAS", str(tmp_path / "missing.so"))
    with pytest.raises(cuda.CudaError, match="CUBLAS_NOT_FOUND"):
        cuda.load(write_artifact(tmp_path / "a"))
    assert set(stand_in.live().values()) == {0}  # failed loads give everything back


def test_stand_in_cubin_and_opt_in_shared_memory(tmp_path, stand_in) -> None:
    manifest = edit(
        full_manifest("sm_90a", "k.sm_90a.cubin"), ("steps", 0, "shared_bytes"), 100_000
    )
    folder = write_artifact(tmp_path / "a", manifest)
    (folder / "k.sm_90a.cubin").write_bytes(b"\x7fELF stand-in cubin")
    inputs, expected = artifact_inputs()
    with cuda.load(folder) as model:
        assert model.loaded_from == {"k": "cubin"} and stand_in.loaded() == "cubin"
        assert_outputs(model(*inputs), expected)


def test_dlpack_view_of_a_host_array() -> None:
    array = np.arange(12, dtype=np.float16).reshape(3, 4)
    view = cuda.from_dlpack(array)
    assert (view.device_type, view.pointer) == (cuda.KDL_CPU, array.ctypes.data)
    assert view.shape == (3, 4) and view.dtype == "float16" and view.contiguous
    view.release()
    transposed = cuda.from_dlpack(np.arange(12, dtype=np.int64).reshape(3, 4).T)
    assert transposed.shape == (4, 3) and transposed.dtype == "int64"
    assert not transposed.contiguous
    transposed.release()


# ---- on a GPU -----------------------------------------------------------------------------------


@requires_gpu
def test_gpu_runs_every_step_kind(tmp_path) -> None:
    dev = cuda.device()
    folder = write_artifact(tmp_path / "a")
    inputs, expected = artifact_inputs()
    with cuda.load(folder) as model:
        assert model.loaded_from == {"k": "ptx"}
        assert_outputs(model(*inputs), expected)
        assert model.time(*inputs, repeat=5).median_s > 0
    ptxas = shutil.which("ptxas")
    if ptxas is not None:  # the same kernels as a cubin for this GPU
        chip = dev.chip + ("a" if dev.capability[0] >= 9 else "")
        manifest = full_manifest(chip, f"k.{chip}.cubin")
        folder = write_artifact(tmp_path / "cubin", manifest)
        command = [ptxas, f"-arch={chip}", str(folder / "kernels.ptx")]
        subprocess.run([*command, "-o", str(folder / f"k.{chip}.cubin")], check=True)
        with cuda.load(folder) as model:
            assert model.loaded_from == {"k": "cubin"}
            assert_outputs(model(*inputs), expected)


@requires_gpu
def test_gpu_torch_tensors_as_inputs(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    inputs, expected = artifact_inputs()
    on_gpu = [torch.from_numpy(a).cuda() for a in inputs[:4]]  # bf16 stays numpy bits
    with cuda.load(write_artifact(tmp_path / "a")) as model:
        assert_outputs(model(*on_gpu, *inputs[4:]), expected)
        dlpack_only = [DLPackOnly(t) for t in on_gpu]
        assert_outputs(model(*dlpack_only, *inputs[4:]), expected)


class DLPackOnly:
    """A tensor seen only through DLPack (torch also offers __cuda_array_interface__)."""

    def __init__(self, tensor: Any):
        self.tensor = tensor

    def __dlpack__(self, stream=None):
        return self.tensor.__dlpack__(stream=stream)

    def __dlpack_device__(self):
        return self.tensor.__dlpack_device__()
