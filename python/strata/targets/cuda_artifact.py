"""CUDA artifacts: what `strata.compile(..., target="cuda")` and `strata compile --target cuda`
produce, and what `strata.runtime.cuda` runs on a machine with a GPU and no MLIR.

An artifact is a directory:
- `manifest.json`: buffers, constants, inputs, outputs and the launch sequence (`cuda_host.py`);
- `kernels.ptx` (PTX for the chip) and `kernels.<chip>.cubin` (when `ptxas` is found);
- `weights.bin`: the constants, one after the other (offsets in the manifest);
- `strata_cuda/` (a copy of the `strata/runtime/cuda/` package) and `runtime.py`, its launcher
  (needs only numpy and the CUDA driver), so
  `python runtime.py .` runs the artifact where Strata is not installed;
- optionally `inputs.npz` and `expected.npz` (reference outputs computed here), for checking on
  the GPU machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mlir import ir

from strata.diagnostics import CompileError
from strata.irutil import functions, is_declaration, is_public, module_body, symbol_name
from strata.targets.cuda import ptxas_path
from strata.targets.cuda_host import MANIFEST_FORMAT, MANIFEST_VERSION, HostTranslator


def gpu_binaries(module: ir.Operation) -> list[tuple[str, str]]:
    """(chip, PTX) of every object of every `gpu.binary` in `module` (lowered with
    `gpu-module-to-binary{format=isa}`); a CompileError when there is none or one holds no PTX."""
    from mlir.dialects import gpu

    found: list[tuple[str, str]] = []
    for op in module_body(module).operations:
        if op.operation.name != "gpu.binary":
            continue
        for attr in ir.ArrayAttr(op.operation.attributes["objects"]):
            obj = gpu.ObjectAttr(attr)
            text = str(attr)
            chip = text.split('chip = "', 1)[1].split('"', 1)[0] if 'chip = "' in text else ""
            if "assembly =" not in text:
                raise CompileError(
                    f"gpu.binary @{symbol_name(op)} holds no PTX (lower it with "
                    "gpu-module-to-binary{format=isa}, as strata-lower-to-llvm{target=cuda} does)",
                    op.operation.location,
                )
            found.append((chip, bytes(obj.object).decode()))
    if not found:
        raise CompileError(
            "no gpu.binary in the module: lower it with strata-lower-to-llvm{target=cuda} first"
        )
    return found


def ptx_of(module: ir.Operation) -> dict[str, str]:
    """The PTX of every `gpu.binary` in `module`, by binary name."""
    from mlir.dialects import gpu

    return {
        symbol_name(op): bytes(gpu.ObjectAttr(attr).object).decode()
        for op in module_body(module).operations
        if op.operation.name == "gpu.binary"
        for attr in ir.ArrayAttr(op.operation.attributes["objects"])
    }


def assemble(ptx: str, chip: str, *, ptxas: str | None = None) -> bytes:
    """PTX -> cubin with ptxas (`-arch=<chip>`, -O3); a ptxas error is a CompileError."""
    tool = ptxas or ptxas_path()
    if tool is None:
        raise CompileError("ptxas not found (install the CUDA toolkit or put ptxas on PATH)")
    with tempfile.TemporaryDirectory(prefix="strata-ptxas-") as tmp:
        src, out = Path(tmp, "kernels.ptx"), Path(tmp, "kernels.cubin")
        src.write_text(ptx)
        proc = subprocess.run(
            [tool, f"-arch={chip}", "-O3", str(src), "-o", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            message = (proc.stderr or proc.stdout).strip().replace(str(src), "kernels.ptx")
            raise CompileError(f"ptxas -arch={chip} rejected the PTX:\n{message}")
        return out.read_bytes()


@dataclass
class CudaArtifact:
    """A compiled model for one NVIDIA chip: kernels, launch manifest and weights."""

    manifest: dict[str, Any]
    ptx: dict[str, str]
    cubins: dict[str, bytes]
    weights: bytes
    extras: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    model: Any = field(default=None, repr=False, compare=False)  # loaded by the first call

    @property
    def chip(self) -> str:
        return str(self.manifest["chip"])

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the artifact directory (all or nothing: into a temporary sibling, then
        renamed over `path`)."""
        path = Path(path)
        parent = path.resolve().parent
        if not parent.is_dir():
            raise CompileError(f"cannot write '{path}': directory '{parent}' does not exist")
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
        try:
            (tmp / "manifest.json").write_text(json.dumps(self.manifest, indent=1) + "\n")
            for name, text in self.ptx.items():
                (tmp / f"{name}.ptx").write_text(text)
            for name, blob in self.cubins.items():
                (tmp / f"{name}.{self.chip}.cubin").write_bytes(blob)
            (tmp / "weights.bin").write_bytes(self.weights)
            from strata.runtime.cuda import copy_runtime  # strata_cuda/ and runtime.py

            copy_runtime(tmp)
            for name, arrays in self.extras.items():
                np.savez(tmp / f"{name}.npz", **arrays)  # type: ignore[arg-type]
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                raise CompileError(f"cannot write '{path}': it exists and is not a directory")
            tmp.chmod(0o755)
            tmp.rename(path)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise CompileError(f"cannot write '{path}': {e.strerror or e}") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path

    def load(self, path: str | os.PathLike[str] | None = None) -> Any:
        """Load on this machine's GPU through `strata.runtime.cuda` (saving first to `path`, or
        to a temporary directory)."""
        from strata.runtime import cuda

        if not cuda.cuda_available():
            raise RuntimeError(
                "no CUDA GPU here (libcuda.so.1 not loadable or no device): save() the artifact "
                "and run it on a machine with one (python runtime.py ARTIFACT_DIR)"
            )
        where = Path(path) if path else Path(tempfile.mkdtemp(prefix="strata-cuda-")) / "model"
        return cuda.load(self.save(where))

    def __call__(self, *arrays: np.ndarray) -> Any:
        """Run on this machine's GPU (loaded once, then kept)."""
        if self.model is None:
            self.model = self.load()
        return self.model(*arrays)


def build_artifact(
    lowered: ir.Operation,
    *,
    entry: str,
    chip: str,
    n_inputs: int,
    cubin: bool | None = None,
    tf32: bool = False,
) -> CudaArtifact:
    """The artifact of a module lowered by `strata-lower-to-llvm{target=cuda}`. `cubin`: True
    requires ptxas, None uses it when found, False skips it (PTX only; the driver JITs it)."""
    host = HostTranslator(lowered, entry, chip, n_inputs, tf32=tf32).manifest
    ptx = ptx_of(lowered)
    cubins: dict[str, bytes] = {}
    if cubin or (cubin is None and ptxas_path() is not None):
        cubins = {name: assemble(text, chip) for name, text in ptx.items()}
    weights = bytearray()
    constants = []
    for buffer, data in host.constants:
        weights += b"\0" * (-len(weights) % 256)  # aligned, for mmap-style readers
        constants.append(
            {"buffer": buffer, "file": "weights.bin", "offset": len(weights), "bytes": len(data)}
        )
        weights += data
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "chip": chip,
        "entry": entry,
        "modules": [
            {
                "name": name,
                "ptx": f"{name}.ptx",
                "cubin": f"{name}.{chip}.cubin" if name in cubins else None,
            }
            for name in ptx
        ],
        "buffers": [{"id": i, "bytes": n} for i, n in enumerate(host.buffers)],
        "constants": constants,
        "inputs": host.inputs,
        "outputs": host.outputs,
        "steps": host.steps,
    }
    return CudaArtifact(manifest, ptx, cubins, bytes(weights))


def entry_function(module: ir.Operation) -> tuple[str, int]:
    """The one public function with a body, and its number of inputs."""
    entries = [fn for fn in functions(module) if is_public(fn) and not is_declaration(fn)]
    if len(entries) != 1:
        names = ", ".join(symbol_name(fn) for fn in entries) or "none"
        raise CompileError(
            f"the cuda target compiles a module with one public function; found {names}"
        )
    fn = entries[0]
    return symbol_name(fn), len(fn.regions[0].blocks[0].arguments)


def compile_cuda(
    module: ir.Operation,
    *,
    chip: str = "",
    cubin: bool | None = None,
    reference: Sequence[np.ndarray] | None = None,
    inputs: Sequence[np.ndarray] | None = None,
    **pipeline_options: Any,
) -> CudaArtifact:
    """Lower a `graph` module for an NVIDIA GPU and build its artifact (see module doc).
    `inputs`/`reference`: arrays saved as inputs.npz / expected.npz for checking on the GPU."""
    from strata.compiler import lower_to_llvm
    from strata.targets.cuda import DEFAULT_CHIP

    entry, n_inputs = entry_function(module)
    lowered = ir.Module.parse(module.get_asm(enable_debug_info=True), context=module.context)
    lower_to_llvm(lowered, target="cuda", chip=chip, **pipeline_options)
    artifact = build_artifact(
        lowered.operation,
        entry=entry,
        chip=chip or DEFAULT_CHIP,
        n_inputs=n_inputs,
        cubin=cubin,
        tf32=bool(pipeline_options.get("tf32")),
    )
    if inputs is not None:
        artifact.extras["inputs"] = {f"arg{i}": np.asarray(a) for i, a in enumerate(inputs)}
    if reference is not None:
        artifact.extras["expected"] = {f"result{i}": np.asarray(a) for i, a in enumerate(reference)}
    return artifact
