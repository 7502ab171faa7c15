"""The CUDA runtime's manifest validation (`strata.runtime.cuda.parse_manifest`, no GPU): every
bad field is named, launches are checked against their kernels' PTX signatures."""

from __future__ import annotations

import pytest
from cuda_artifacts import DELETE, edit, full_manifest, write_artifact
from strata.runtime import cuda


def test_valid_manifest_is_read(tmp_path) -> None:
    manifest = cuda.read_manifest(write_artifact(tmp_path / "a"))
    assert manifest.chip == "sm_80" and manifest.entry == "main"
    assert [t.name for t in manifest.inputs] == ["x", "a16", "b16", "x32", "a3", "b3"]
    kinds = [type(s).__name__ for s in manifest.steps]
    assert kinds == ["Launch", "Copy", "Memset", "Gemm", "Launch", "Gemm", "Gemm"]
    launch = manifest.steps[0]
    assert isinstance(launch, cuda.Launch)
    assert launch.args[0] == ("ptr", cuda.BufferRef(0, 0)) and launch.args[3] == ("f32", 2.0)
    assert manifest.constants[0] == cuda.Constant(6, "weights.bin", 4, 48 * 16 * 4, 0)


BAD_MANIFESTS = [
    (("format",), "tvm", "format", "expected 'strata-cuda'"),
    (("version",), 2, "version", "expected 1"),
    (("chip",), "gfx90a", "chip", "expected a chip like"),
    (("entry",), DELETE, "manifest", "missing field 'entry'"),
    (("extra",), 1, "manifest", "unknown field 'extra'"),
    (("modules", 0, "ptx"), "missing.ptx", "modules[0].ptx", "not in the artifact folder"),
    (("modules", 0, "ptx"), "../kernels.ptx", "modules[0].ptx", "inside the artifact folder"),
    (("modules", 0, "cubin"), "k.cubin", "modules[0].cubin", "not in the artifact folder"),
    (("buffers", 1, "id"), 0, "buffers[1].id", "declared twice"),
    (("buffers", 0, "bytes"), 0, "buffers[0].bytes", "integer >= 1"),
    (("constants", 0, "offset"), 10**6, "constants[0]", "past the end of 'weights.bin'"),
    (("constants", 0, "buffer"), 99, "constants[0].buffer", "no buffer 99"),
    (("inputs", 0, "dtype"), "float8", "inputs[0].dtype", "unknown value 'float8'"),
    (("inputs", 0, "shape"), [10**6], "inputs[0]", "outside buffer 0"),
    (("inputs", 0, "shape"), [-1], "inputs[0].shape[0]", "integer >= 0"),
    (("inputs", 0, "offset"), 2, "inputs[0].offset", "not aligned"),
    (("inputs", 1, "name"), "x", "inputs[1].name", "used twice"),
    (("outputs", 0, "buffer"), "2", "outputs[0].buffer", "expected an integer"),
    (("steps", 0, "op"), "call", "steps[0].op", "unknown value 'call'"),
    (("steps", 0, "module"), "nope", "steps[0].module", "no module 'nope'"),
    (("steps", 0, "grid"), [4, 1], "steps[0].grid", "expected 3 integers"),
    (("steps", 0, "grid"), [0, 1, 1], "steps[0].grid[0]", "from 1 to"),
    (("steps", 0, "block"), [64, 32, 1], "steps[0].block", "2048 threads"),
    (("steps", 0, "shared_bytes"), -1, "steps[0].shared_bytes", "from 0 to"),
    (("steps", 0, "stream"), 1, "steps[0]", "unknown field 'stream'"),
    (("steps", 0, "args", 2), {"u8": 1}, "steps[0].args[2]", "unknown argument kind 'u8'"),
    (("steps", 0, "args", 2), {"i32": 1, "f32": 1}, "steps[0].args[2]", "expected one of"),
    (("steps", 0, "args", 0, "ptr", "buffer"), 42, "steps[0].args[0].ptr.buffer", "no buffer 42"),
    (("steps", 0, "args", 2, "i32"), 2**32, "steps[0].args[2].i32", "integer from"),
    (("steps", 0, "args", 3, "f32"), "x", "steps[0].args[3].f32", "finite number"),
    (("steps", 0, "kernel"), "nope", "steps[0].kernel", "no kernel 'nope' in kernels.ptx"),
    (("steps", 0, "args", 4), DELETE, "steps[0].args", "takes 5 parameters, found 4"),
    (
        ("steps", 0, "args", 2),
        {"i64": 9},
        "steps[0].args[2]",
        "parameter 2 of kernel 'scale_add' is 4 bytes, i64 is 8",
    ),
    (("steps", 0, "block"), [512, 1, 1], "steps[0].block", "allows at most 256 (.maxntid)"),
    (("steps", 1, "bytes"), 5000, "steps[1].src", "outside buffer 1"),
    (("steps", 1, "dst", "buffer"), 1, "steps[1]", "overlap"),
    (("steps", 2, "value"), 256, "steps[2].value", "from 0 to 255"),
    (("steps", 3, "library"), "rocblas", "steps[3].library", "unknown value 'rocblas'"),
    (("steps", 3, "dtype"), "float64", "steps[3].dtype", "unknown value 'float64'"),
    (("steps", 3, "compute"), "tf32", "steps[3].compute", "tf32 is for float32"),
    (("steps", 3, "m"), 65, "steps[3].a", "outside buffer 3"),
    (("steps", 3, "a", "col_stride"), 2, "steps[3].a", "unit-stride rows"),
    (("steps", 3, "c", "row_stride"), 10, "steps[3].c", "row_stride >= 48"),
    (("steps", 3, "a", "offset"), 1, "steps[3].a.offset", "not aligned"),
]


@pytest.mark.parametrize("path, value, field, message", BAD_MANIFESTS)
def test_bad_manifest_names_the_field(tmp_path, path, value, field, message) -> None:
    folder = write_artifact(tmp_path / "a")
    data = edit(full_manifest(), path, value)
    with pytest.raises(cuda.ArtifactError) as info:
        cuda.parse_manifest(data, folder)
    assert info.value.field == field
    assert message in str(info.value)
    assert str(info.value).startswith(f"manifest.json: {field}: ")


def test_overlapping_output_batches_are_refused() -> None:
    data = full_manifest()
    step = data["steps"][6]
    step["c"]["batch_stride"] = 32  # each 8x8 output spans 64 elements
    with pytest.raises(cuda.ArtifactError, match="32 makes the 3 output matrices overlap"):
        cuda.parse_manifest(data)


def test_ptx_signatures() -> None:
    """Kernel signatures as LLVM's NVPTX back end and hand-written PTX spell them."""
    text = """
    // .globl k0(unused
    .visible .entry k0(
        .param .u64 .ptr .align 1 k0_param_0,
        .param .u32 k0_param_1, /* a comment (with a parenthesis */
        .param .align 8 .b8 k0_param_2[24]
    )
    .maxntid 128, 2, 1
    { ret; }
    .entry k1 .reqntid 32 { ret; }
    """
    kernels = cuda.parse_ptx(text)
    assert kernels["k0"] == cuda.PTXEntry((8, 4, 24), (128, 2, 1), None)
    assert kernels["k1"] == cuda.PTXEntry((), None, (32, 1, 1))


def test_manifest_that_is_no_object() -> None:
    with pytest.raises(cuda.ArtifactError, match="manifest: expected an object, found list"):
        cuda.parse_manifest([])


def test_unreadable_artifacts(tmp_path) -> None:
    with pytest.raises(cuda.ArtifactError, match="no artifact folder"):
        cuda.read_manifest(tmp_path / "missing")
    with pytest.raises(cuda.ArtifactError, match="cannot read the manifest"):
        cuda.read_manifest(tmp_path)
    (tmp_path / cuda.MANIFEST).write_text('{"format": ')
    with pytest.raises(cuda.ArtifactError, match="not JSON: .* at line 1 column 12"):
        cuda.read_manifest(tmp_path)
