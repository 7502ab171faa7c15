"""python -m bench.gpu ARTIFACTS: Strata's CUDA artifacts on a GPU, against cuBLAS and PyTorch.

ARTIFACTS is a folder of artifact folders (each with manifest.json, at any depth), compiled on a
machine with MLIR and carried to the GPU machine; this script needs only numpy, the CUDA driver
and `strata.runtime.cuda` (no MLIR; `python/` is put on sys.path when strata is not installed).

- A matmul artifact (two inputs [m, k] and [k, n], one output [m, n] of one dtype) is
  checked against numpy and timed with CUDA events; its path is "cuBLAS" when a step is a gemm, else
  "Strata" (its own kernels). `torch.matmul` on the same GPU is timed beside it when torch with
  CUDA is importable (TF32 off, as in the f32 artifacts). TFLOP/s and the ratio to the cuBLAS
  artifact of the same dtype and shape (else to torch) go into a markdown table naming the GPU.
- Any other artifact with an expected.npz (and inputs.npz, else random inputs) is a model: it
  runs end to end, with its outputs' errors against expected.npz and the time per call.

`--list` only classifies the artifacts (no GPU needed); `--output FILE` also writes the tables.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if importlib.util.find_spec("strata") is None:  # a checkout carried without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from strata.runtime import cuda  # noqa: E402 (after the path fix above)


@dataclass(frozen=True)
class Artifact:
    name: str  # the folder, relative to ARTIFACTS
    folder: Path
    manifest: cuda.Manifest
    kind: str  # "matmul" or "model"

    @property
    def path(self) -> str:
        return "cuBLAS" if any(isinstance(s, cuda.Gemm) for s in self.manifest.steps) else "Strata"

    @property
    def dtype(self) -> str:
        return self.manifest.inputs[0].dtype

    @property
    def mnk(self) -> tuple[int, int, int]:
        (m, k), (_, n) = self.manifest.inputs[0].shape, self.manifest.inputs[1].shape
        return m, n, k


def _is_matmul(manifest: cuda.Manifest) -> bool:
    ins, outs = manifest.inputs, manifest.outputs
    if len(ins) != 2 or len(outs) != 1:
        return False
    shapes = [t.shape for t in (*ins, *outs)]
    if any(len(s) != 2 for s in shapes):
        return False
    (m, k), (k2, n), out = shapes
    return k == k2 and out == (m, n) and len({t.dtype for t in (*ins, *outs)}) == 1


def discover(root: Path) -> tuple[list[Artifact], list[str]]:
    """The artifacts under `root`, and a line per folder that is not a valid artifact."""
    found: list[Artifact] = []
    problems: list[str] = []
    for manifest_path in sorted(root.rglob(cuda.MANIFEST)):
        folder = manifest_path.parent
        name = str(folder.relative_to(root)) if folder != root else folder.name
        try:
            manifest = cuda.read_manifest(folder)
        except cuda.ArtifactError as e:
            problems.append(f"{name}: {e}")
            continue
        if _is_matmul(manifest):
            kind = "matmul"
        elif (folder / "expected.npz").is_file():
            kind = "model"
        else:
            problems.append(f"{name}: neither a matmul nor a model with expected.npz; skipped")
            continue
        found.append(Artifact(name, folder, manifest, kind))
    return found, problems


# ---- matmul ---------------------------------------------------------------------------------


def _matmul_inputs(m: int, n: int, k: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    if dtype == "bfloat16":
        return cuda.bf16_bits(a), cuda.bf16_bits(b)
    return a.astype(dtype), b.astype(dtype)


def _as_f32(array: np.ndarray, dtype: str) -> np.ndarray:
    return cuda.bf16_values(array) if dtype == "bfloat16" else array.astype(np.float32)


def _torch_matmul_ms(
    a: np.ndarray, b: np.ndarray, dtype: str, repeat: int, tf32: bool = False
) -> float | None:
    """Median ms of torch.matmul on the GPU (None without torch or CUDA)."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = tf32
    if dtype == "bfloat16":
        ta = torch.from_numpy(a.view(np.int16)).view(torch.bfloat16).cuda()
        tb = torch.from_numpy(b.view(np.int16)).view(torch.bfloat16).cuda()
    else:
        ta, tb = torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()
    for _ in range(5):
        torch.matmul(ta, tb)
    samples = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.matmul(ta, tb)
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
    return statistics.median(samples)


def run_matmuls(artifacts: list[Artifact], repeat: int) -> list[dict]:
    """One row per matmul artifact (and one per shape and dtype for torch)."""
    rows: list[dict] = []
    # f32 artifacts compiled with tf32=True (named *tf32*) are compared among themselves.
    shapes = sorted({(a.dtype, a.mnk, "tf32" in a.name) for a in artifacts})
    for dtype, (m, n, k), tf32 in shapes:
        a, b = _matmul_inputs(m, n, k, dtype)
        reference = _as_f32(a, dtype) @ _as_f32(b, dtype)
        scale = float(np.max(np.abs(reference)))
        group: list[dict] = []
        for artifact in [
            x for x in artifacts if (x.dtype, x.mnk, "tf32" in x.name) == (dtype, (m, n, k), tf32)
        ]:
            with cuda.Model(artifact.manifest, artifact.folder) as model:
                out = model.run(a, b)[0]
                ms = model.time(a, b, repeat=repeat).median_s * 1e3
            error = float(np.max(np.abs(_as_f32(out, dtype) - reference))) / scale
            group.append({"name": artifact.name, "path": artifact.path, "ms": ms, "error": error})
        torch_ms = _torch_matmul_ms(a, b, dtype, repeat, tf32)
        if torch_ms is not None:
            group.append({"name": "torch.matmul", "path": "PyTorch", "ms": torch_ms, "error": None})
        base = next((r["ms"] for r in group if r["path"] == "cuBLAS"), torch_ms)
        for row in group:
            label = f"{dtype} (tf32)" if tf32 else dtype
            row.update(dtype=label, shape=(m, n, k), tflops=2.0 * m * n * k / row["ms"] / 1e9)
            row["ratio"] = base / row["ms"] if base else None
        rows += group
    return rows


def matmul_table(rows: list[dict]) -> str:
    lines = [
        "| dtype | m x n x k | implementation | artifact | ms | TFLOP/s | vs cuBLAS | rel. error |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        error = "" if r["error"] is None else f"{r['error']:.1e}"
        shape = "x".join(map(str, r["shape"]))
        lines.append(
            f"| {r['dtype']} | {shape} | {r['path']} | {r['name']} | {r['ms']:.3f} | "
            f"{r['tflops']:.1f} | {ratio} | {error} |"
        )
    return "\n".join(lines)


# ---- models ---------------------------------------------------------------------------------


def run_models(artifacts: list[Artifact], repeat: int) -> list[dict]:
    rows = []
    for artifact in artifacts:
        manifest, folder = artifact.manifest, artifact.folder
        inputs_path = folder / "inputs.npz"
        if inputs_path.is_file():
            arrays = cuda.read_arrays(inputs_path, manifest.inputs, "inputs")
        else:
            arrays = cuda.random_inputs(manifest.inputs)
        expected = cuda.read_arrays(folder / "expected.npz", manifest.outputs, "expected")
        with cuda.Model(manifest, folder) as model:
            outputs = model.run(*arrays)
            gpu = model.time(*arrays, repeat=repeat)
            with_copies = model.time(*arrays, repeat=repeat, copies=True)
            images = sorted(set(model.loaded_from.values()))
        errors = cuda.compare(outputs, expected, manifest.outputs)
        rows.append(
            {
                "name": artifact.name,
                "steps": len(manifest.steps),
                "images": "/".join(images) or "-",
                "abs": max((e[1] for e in errors), default=0.0),
                "rel": max((e[2] for e in errors), default=0.0),
                "ms": gpu.median_s * 1e3,
                "ms_copies": with_copies.median_s * 1e3,
            }
        )
    return rows


def model_table(rows: list[dict]) -> str:
    lines = [
        "| model | steps | modules | max abs error | max rel error | ms per call | with copies |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['steps']} | {r['images']} | {r['abs']:.2e} | {r['rel']:.2e} | "
            f"{r['ms']:.3f} | {r['ms_copies']:.3f} |"
        )
    return "\n".join(lines)


def gpu_line() -> str:
    dev = cuda.device()
    version = cuda.driver().get_int("cuDriverGetVersion")
    parts = [
        f"GPU: {dev.name} ({dev.chip}, {dev.multiprocessors} SMs)",
        f"CUDA driver {version // 1000}.{version % 1000 // 10}",
    ]
    try:
        import torch

        parts.append(f"torch {torch.__version__}")
    except ImportError:
        pass
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.gpu", description=__doc__.split("\n")[0])
    parser.add_argument("artifacts", type=Path, help="folder of artifact folders")
    parser.add_argument("--repeat", type=int, default=50, help="timed calls per measurement")
    parser.add_argument("--output", type=Path, help="also write the markdown tables here")
    parser.add_argument("--list", action="store_true", help="classify the artifacts only")
    args = parser.parse_args(argv)
    if not args.artifacts.is_dir():
        print(f"bench.gpu: error: no folder {args.artifacts}", file=sys.stderr)
        return 1
    artifacts, problems = discover(args.artifacts)
    for line in problems:
        print(f"bench.gpu: warning: {line}", file=sys.stderr)
    if args.list:
        for a in artifacts:
            shape = "x".join(map(str, a.mnk)) if a.kind == "matmul" else ""
            print(f"{a.name}: {a.kind} {a.path} {a.dtype} {shape}".rstrip())
        return 0
    if not artifacts:
        print(f"bench.gpu: error: no artifacts under {args.artifacts}", file=sys.stderr)
        return 1
    try:
        sections = [f"{gpu_line()}; times are medians of {args.repeat} calls (CUDA events)"]
        matmuls = [a for a in artifacts if a.kind == "matmul"]
        models = [a for a in artifacts if a.kind == "model"]
        if matmuls:
            cublas = cuda.find_cublas() or "not found"
            sections.append(
                f"Matrix products (cuBLAS: {cublas}):\n\n"
                + matmul_table(run_matmuls(matmuls, args.repeat))
            )
        if models:
            sections.append("Models end to end:\n\n" + model_table(run_models(models, args.repeat)))
    except (cuda.ArtifactError, cuda.CudaError, cuda.InputError) as e:
        print(f"bench.gpu: error: {e}", file=sys.stderr)
        return 1
    text = "\n\n".join(sections) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
