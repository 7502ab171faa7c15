"""python -m bench.gpu_artifacts OUT [--chip sm_90a]: compile the GPU benchmark artifacts here
(MLIR is needed), for `python -m bench.gpu OUT` on the GPU machine (MLIR is not there).

- matmul 4096^3 in f16 and f32, each through Strata's own kernels (TensorCore mma.sync/wgmma for
  f16, the tiled shared-memory SIMT kernel for f32) and through cuBLAS (`dispatch=always`); and f32
  with `tf32=True` (TensorCores with TF32 operands, both Strata's kernel and cuBLAS), the
  `*_tf32` artifacts;
- the example models (MLP, CNN, 2-layer transformer) with inputs.npz and expected.npz (PyTorch on
  this machine's CPU), checked end to end on the GPU.

The artifacts hold no 4096^2 inputs (bench.gpu makes random ones), so OUT stays small enough to
carry to the device machine (about 10 MB).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

MATMUL = 4096
MODELS = ("mlp", "cnn", "transformer")


def _matmul(n: int, dtype: str):
    from strata.frontends.builder import GraphBuilder

    b = GraphBuilder()
    return b.finish(b.matmul(b.input([n, n], dtype), b.input([n, n], dtype)))


def build(out: Path, chip: str, size: int = MATMUL, models: tuple[str, ...] = MODELS) -> None:
    from strata.run import compile_cuda_artifact, load_model_file
    from strata.targets.cuda_artifact import compile_cuda

    out.mkdir(parents=True, exist_ok=True)
    for dtype, tf32 in (("f16", False), ("f32", False), ("f32", True)):
        for path, dispatch in (("strata", "never"), ("cublas", "always")):
            start = time.perf_counter()
            module = _matmul(size, dtype).operation
            artifact = compile_cuda(module, chip=chip, dispatch=dispatch, tf32=tf32)
            name = f"matmul{size}_{dtype}_{path}" + ("_tf32" if tf32 else "")
            artifact.save(out / name)
            print(f"{name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    examples = Path(__file__).resolve().parents[1] / "examples"
    for model in models:
        loaded = load_model_file(examples / f"{model}.py")
        compile_cuda_artifact(loaded.module, loaded, str(out / model), chip=chip)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gpu_artifacts", description=__doc__)
    p.add_argument("out", type=Path, help="directory for the artifact folders")
    p.add_argument("--chip", default="sm_90a", help="sm_80 ... sm_90a (default: sm_90a, H100)")
    p.add_argument("--size", type=int, default=MATMUL, help="matmul size (default 4096)")
    args = p.parse_args(argv)
    build(args.out, args.chip, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
