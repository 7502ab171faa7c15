"""The command line: run an artifact, compare its outputs with expected values, time it.

python -m strata.runtime.cuda ARTIFACT [--inputs in.npz] [--compare expected.npz] [--repeat N]
python ARTIFACT/runtime.py ARTIFACT --check      # the copy carried inside an artifact
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import ArtifactError, CudaError, InputError
from .manifest import read_manifest
from .model import Model
from .schema import Tensor, bf16_bits, bf16_values


def _as_float(array: np.ndarray, dtype: str) -> np.ndarray:
    return bf16_values(array) if dtype == "bfloat16" else np.asarray(array, dtype=np.float64)


def compare(
    outputs: Sequence[np.ndarray], expected: Sequence[np.ndarray], specs: Sequence[Tensor]
) -> list[tuple[str, float, float]]:
    """(name, max abs error, max rel error) per output; the relative error is the absolute one
    over the largest expected magnitude (elementwise ratios blow up near zero)."""
    rows = []
    for out, want, spec in zip(outputs, expected, specs):
        if tuple(np.shape(want)) != spec.shape:
            raise InputError(
                f"expected value of {spec.name} has shape {np.shape(want)}, the output {spec.shape}"
            )
        got, ref = _as_float(out, spec.dtype), _as_float(np.asarray(want), spec.dtype)
        error = float(np.max(np.abs(got - ref))) if got.size else 0.0
        scale = float(np.max(np.abs(ref))) if ref.size else 0.0
        rows.append((spec.name, error, error / scale if scale else error))
    return rows


def read_arrays(path: str | Path, specs: Sequence[Tensor], what: str) -> list[np.ndarray]:
    """Arrays for `specs` from an .npz file: by name, else in order (arr_0, arr_1, ...)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read {what} {path}: {e}") from e
    if all(spec.name in arrays for spec in specs):
        return [arrays[spec.name] for spec in specs]
    ordered = [f"arr_{i}" for i in range(len(specs))]
    if all(key in arrays for key in ordered):
        return [arrays[key] for key in ordered]
    names = ", ".join(spec.name for spec in specs)
    raise InputError(f"{what} {path} has arrays {sorted(arrays)}; expected {names} (or arr_0...)")


def random_inputs(specs: Sequence[Tensor], seed: int = 0) -> list[np.ndarray]:
    """Normal random values (small integers for integer inputs) of each input's shape."""
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in specs:
        if spec.dtype == "bfloat16":
            arrays.append(bf16_bits(rng.standard_normal(spec.shape, dtype=np.float32)))
        elif spec.storage.kind == "f":
            arrays.append(rng.standard_normal(spec.shape).astype(spec.storage))
        else:
            arrays.append(
                rng.integers(0, 2 if spec.dtype == "bool" else 8, spec.shape).astype(spec.storage)
            )
    return arrays


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(1)


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run the command line on `argv` (default: sys.argv); `prog` names it in messages
    (default: this package, as `python -m strata.runtime.cuda`; an artifact's runtime.py gives
    its own file name). Returns the exit status."""
    prog = prog or __package__ or Path(sys.argv[0]).name
    parser = _ArgumentParser(
        prog=prog,
        description="Run a Strata CUDA artifact: outputs, errors against expected values, time.",
    )
    parser.add_argument("artifact", help="the artifact folder (with manifest.json)")
    parser.add_argument(
        "--inputs", help=".npz of the inputs (default: ARTIFACT/inputs.npz, else random values)"
    )
    parser.add_argument(
        "--compare", help=".npz of the expected outputs (default: ARTIFACT/expected.npz if any)"
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed calls (0: no timing)")
    parser.add_argument("--device", type=int, default=0, help="GPU ordinal")
    parser.add_argument("--tolerance", type=float, help="fail when a relative error exceeds it")
    parser.add_argument("--check", action="store_true", help="validate the manifest only (no GPU)")
    args = parser.parse_args(argv)
    try:
        manifest = read_manifest(args.artifact)
        if args.check:
            print(f"{args.artifact}: valid ({len(manifest.steps)} steps, chip {manifest.chip})")
            return 0
        inputs_path = args.inputs or Path(args.artifact) / "inputs.npz"
        if args.inputs or Path(inputs_path).is_file():
            arrays = read_arrays(inputs_path, manifest.inputs, "inputs")
        else:
            arrays = random_inputs(manifest.inputs)
        expected_path = args.compare or Path(args.artifact) / "expected.npz"
        expected = []
        if args.compare or Path(expected_path).is_file():
            expected = read_arrays(expected_path, manifest.outputs, "expected")
        with Model(manifest, args.artifact, ordinal=args.device) as model:
            images = ", ".join(f"{m}: {how}" for m, how in model.loaded_from.items())
            print(f"{model.device.name} ({model.device.chip}); modules: {images or 'none'}")
            outputs = model.run(*arrays)
            for spec, out in zip(manifest.outputs, outputs):
                finite = bool(np.all(np.isfinite(_as_float(out, spec.dtype))))
                print(f"{spec}{'' if finite else ' (not all finite)'}")
            failed = False
            for name, abs_error, rel_error in compare(outputs, expected, manifest.outputs):
                bad = args.tolerance is not None and not rel_error <= args.tolerance
                failed |= bad
                mark = "  FAIL" if bad else ""
                print(f"{name}: max abs error {abs_error:.3e}, max rel error {rel_error:.3e}{mark}")
            if args.repeat > 0:
                print(f"time: {model.time(*arrays, repeat=args.repeat)}")
        return 1 if failed else 0
    except (ArtifactError, CudaError, InputError, OSError) as e:
        if os.environ.get("STRATA_DEBUG"):
            raise
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
