"""Differential testing of the compiler with random `graph` programs (`graph_programs.py`).

Each program's expected result is `strata.simulate` at the graph level (the ops' numpy
references); every pipeline variant must agree within `rtol` 1e-4 and `atol` 1e-4 times the
magnitude of the result: the default compile, `dispatch="always"`, `fuse=False`,
`simplify=False`, `tensorize=False`, `vector_width=8`, a sampled schedule of the tensor
programs' matmul blocks (seeded; when there is one), and the simulator on the default
pipeline's tprog- and hwprim-level IR.

    python -m strata.fuzz.graphs --graphs 300 --seed 1 --out /tmp/graph-fuzz

The same generator is a hypothesis strategy, `programs()`, for the tests. Program `i` of a run
depends only on the seed and `i`.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from strata.fuzz.graph_programs import Program, program_for

# --- the checker ----------------------------------------------------------------------------

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "dispatch=always": {"dispatch": "always"},
    "fuse=False": {"fuse": False},
    "simplify=False": {"simplify": False},
    "tensorize=False": {"tensorize": False},
    "vector_width=8": {"vector_width": 8},
    "schedule": {},  # a sampled schedule of the tensor programs (programs with a matmul)
}
SIMULATED_LEVELS = {"sim-tprog": "tprog", "sim-hwprim": "libcall/hwprim"}
# The CUDA target: compiled to PTX (sm_90a), its GPU-scheduled tensor programs run in the simulator.
GPU_VARIANT = "cuda"
ALL_VARIANTS = (*VARIANTS, *SIMULATED_LEVELS, GPU_VARIANT)
RTOL = 1e-4
ATOL = 1e-4


@dataclass
class Mismatch:
    variant: str
    message: str
    max_error: float = math.inf  # inf: the variant raised


def applicable(program: Program, variants: Sequence[str] = ALL_VARIANTS) -> list[str]:
    return [v for v in variants if v != "schedule" or program.has_matmul]


def compare(got: Sequence[np.ndarray], want: Sequence[np.ndarray]) -> tuple[float, str] | None:
    """None when `got` matches `want` (rtol 1e-4, atol 1e-4 x the magnitude of the result),
    else (the largest error, a description)."""
    if len(got) != len(want):
        return math.inf, f"{len(got)} results, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        g = np.asarray(g)
        if g.shape != w.shape or g.dtype != w.dtype:
            return (
                math.inf,
                f"result {i} is {g.dtype}{list(g.shape)}, expected {w.dtype}{list(w.shape)}",
            )
        scale = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
        if not np.allclose(g, w, rtol=RTOL, atol=ATOL * scale, equal_nan=True):
            with np.errstate(invalid="ignore"):
                err = np.abs(g.astype(np.float64) - w.astype(np.float64))
            err = np.where(np.isnan(err), np.inf, err)
            at = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
            worst = float(err[at])
            return worst, (
                f"result {i}: max error {worst:.3g} at {list(map(int, at))} "
                f"(got {g[at]!r}, expected {w[at]!r}; scale {scale:.3g})"
            )
    return None


def _schedule_hook(seed: int) -> Callable[[str, Any], None]:
    """An `on_level` callback that applies a sampled schedule (`tuning.space.sketch`) to every
    tensor program with a matmul block once the module reaches the tprog level."""

    def hook(level: str, op) -> None:
        if level != "tprog":
            return
        from strata.irutil import functions, symbol_name
        from strata.targets import get_target
        from strata.transforms.tprog.schedule import Schedule
        from strata.tuning.space import sketch, tunable_blocks

        width = get_target("cpu").vector_width
        names = [symbol_name(f) for f in functions(op) if "tprog.prim_func" in f.attributes]
        for k, name in enumerate(names):
            sch = Schedule(op, name, seed=seed + k)
            if tunable_blocks(sch):
                sketch(sch, width)

    return hook


def check(program: Program, variants: Sequence[str] = ALL_VARIANTS, module=None) -> list[Mismatch]:
    """Run `program` under each of `variants`; the mismatches (and crashes) found."""
    from mlir import ir

    import strata

    module = module if module is not None else program.build()
    arrays = program.arrays()
    expected = [np.asarray(e) for e in strata.simulate(module, *arrays)]
    failures: list[Mismatch] = []

    def run(variant: str, fn: Callable[[], Sequence[np.ndarray]]) -> None:
        try:
            got = fn()
        except Exception as e:  # a crash is a failure of the variant
            text = "".join(traceback.format_exception_only(type(e), e)).strip()
            failures.append(Mismatch(variant, f"raised {text}"))
            return
        bad = compare(got, expected)
        if bad is not None:
            failures.append(Mismatch(variant, bad[1], bad[0]))

    def results(out) -> list[np.ndarray]:
        return list(out) if isinstance(out, tuple) else [out]

    def compiled(options: dict[str, Any]) -> list[np.ndarray]:
        return results(strata.compile(module, **options)(*arrays))

    levels: dict[str, Any] = {}

    def keep(level: str, op) -> None:
        levels[level] = ir.Module.parse(op.get_asm(enable_debug_info=True), context=op.context)

    wanted = set(applicable(program, variants))
    for variant, options in VARIANTS.items():
        if variant not in wanted:
            continue
        if variant == "default" and wanted & set(SIMULATED_LEVELS):
            options = {"on_level": keep}
        elif variant == "schedule":
            options = {"on_level": _schedule_hook(program.data_seed % 1000)}
        run(variant, functools.partial(compiled, options))
    if GPU_VARIANT in wanted:
        run(GPU_VARIANT, functools.partial(_gpu_scheduled, module, arrays))
    for variant, level in SIMULATED_LEVELS.items():
        if variant not in wanted:
            continue
        if level not in levels:
            if "default" not in wanted:  # the default pipeline's IR, kept while lowering
                try:
                    strata.compile(module, on_level=keep)
                except Exception:
                    pass
            if level not in levels:
                failures.append(Mismatch(variant, "the default pipeline did not reach it"))
                continue
        run(variant, functools.partial(strata.simulate, levels[level], *arrays))
    return failures


def _gpu_scheduled(module, arrays: Sequence[np.ndarray]) -> Sequence[np.ndarray]:
    """`module` compiled for the CUDA target (PTX, no cubin), and its tensor programs as
    scheduled for the GPU (bindings, shared memory, registers) run in the simulator."""
    from mlir import ir

    import strata

    kept: list[ir.Module] = []

    def keep(level: str, op) -> None:
        if level == "libcall/hwprim":
            kept.append(ir.Module.parse(op.get_asm(enable_debug_info=True), context=op.context))

    strata.compile(module, target="cuda", chip="sm_90a", cubin=False, on_level=keep)
    return strata.simulate(kept[0], *arrays)


# --- the command line -----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m strata.fuzz.graphs",
        description="Differential testing of the compiler's pipeline variants with random "
        "graph programs (expected results: the graph-level simulator).",
    )
    parser.add_argument("--graphs", type=int, default=100, help="programs to run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="index of the first program")
    parser.add_argument("--out", default="graph-fuzz", help="directory for failing programs")
    parser.add_argument(
        "--variants",
        default=",".join(ALL_VARIANTS),
        help=f"comma-separated subset of {','.join(ALL_VARIANTS)}",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="one line per program")
    args = parser.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in ALL_VARIANTS]
    if unknown:
        parser.error(f"unknown variants {', '.join(unknown)}; valid: {', '.join(ALL_VARIANTS)}")
    out = Path(args.out)
    failed = 0
    runs = 0
    start = time.perf_counter()
    for index in range(args.start, args.start + args.graphs):
        program = program_for(args.seed, index)
        module = program.build()
        mismatches = check(program, variants, module)
        runs += len(applicable(program, variants))
        if args.verbose:
            status = "ok" if not mismatches else ", ".join(m.variant for m in mismatches)
            print(f"graph {index}: {len(program.steps)} steps: {status}", flush=True)
        if not mismatches:
            continue
        failed += 1
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"graph-{args.seed}-{index}.mlir"
        header = [f"// graph fuzz seed {args.seed} index {index}"]
        header += [f"// {line}" for line in program.describe().splitlines()]
        for m in mismatches:
            header.append(f"// {m.variant}: {m.message}")
            print(f"graph {index}: {m.variant}: {m.message}", file=sys.stderr)
        path.write_text(
            "\n".join(header) + "\n" + module.operation.get_asm(large_elements_limit=64) + "\n"
        )
        np.savez(out / f"graph-{args.seed}-{index}-inputs.npz", *program.arrays())
        print(f"graph {index}: wrote {path}", file=sys.stderr)
    per = runs / args.graphs if args.graphs else 0
    seconds = time.perf_counter() - start
    print(
        f"graph fuzz: {args.graphs} graphs, {per:.1f} variants each, {failed} mismatches "
        f"({seconds:.0f} s)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
