"""strata: the user-facing command (`strata demo`, `run`, `compile`, `tune`, `bisect`, `fuzz`)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

import numpy as np

from strata.tools.common import ArgumentParser, fail


def _add_dispatch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--use-libcall", action="store_true", help="same as --dispatch always")
    parser.add_argument(
        "--dispatch",
        choices=("never", "always", "auto"),
        default=None,
        help="library calls: never, always (where a library takes the op), auto (measured)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="strata", description="Strata, a Python-first ML compiler on MLIR.")
    p.add_argument(
        "--debug", action="store_true", help="show Python tracebacks (also STRATA_DEBUG=1)"
    )
    sub = p.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="lower the MLC MLP level by level and run it on CPU")
    demo.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    demo.add_argument("--lines", type=int, default=14, help="IR lines shown per level")
    tune = sub.add_parser("tune", help="tune the tensor programs of a graph-level .mlir file")
    tune.add_argument("input", help="a .mlir file at the graph level")
    tune.add_argument("--db", required=True, help="tuning database to append to (JSON lines)")
    tune.add_argument("--trials", type=int, default=32, help="schedules measured per program")
    tune.add_argument("--seed", type=int, default=0)
    tune.add_argument("--time-budget", type=float, default=None, metavar="SECONDS")
    comp = sub.add_parser(
        "compile", help="lower a model (.py, .onnx or graph-level .mlir) and print its IR"
    )
    comp.add_argument("input", help="a .py model file, an .onnx file or a graph-level .mlir file")
    comp.add_argument("-o", dest="output", default="-", help="output file (default: stdout)")
    _add_dispatch_arguments(comp)
    comp.add_argument(
        "--compile-to",
        choices=LEVELS,
        default="llvm",
        help="the level to stop at and print (default: llvm)",
    )
    comp.add_argument(
        "--target",
        choices=("cpu", "cuda"),
        default="cpu",
        help="cpu (default): print the LLVM dialect; cuda: write an artifact directory (-o DIR: "
        "PTX, cubin, launch manifest, weights, runtime.py)",
    )
    comp.add_argument("--chip", default="", help="with --target cuda: sm_80 ... sm_90a (default)")
    run = sub.add_parser(
        "run", help="compile and run a model, with a per-level summary, compared with its framework"
    )
    run.add_argument("input", help="a .py model file, an .onnx file or a graph-level .mlir file")
    _add_dispatch_arguments(run)
    run.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    run.add_argument("--repeat", type=int, default=10, help="timed calls (default 10)")
    run.add_argument("--seed", type=int, default=0, help="seed of random inputs")
    run.add_argument("--no-compare", action="store_true", help="skip the framework comparison")
    fuzz = sub.add_parser(
        "fuzz",
        help="the robustness targets: fuzzed driver inputs (0 signals, tracebacks, hangs), "
        "random graphs (0 mismatches), RSS growth over calls (< 1 MB)",
    )
    fuzz.add_argument("--driver", type=int, default=10_000, help="fuzzed strata-opt inputs")
    fuzz.add_argument("--frontends", type=int, default=500, help="mutated ONNX files")
    fuzz.add_argument("--graphs", type=int, default=1000, help="random graph programs")
    fuzz.add_argument("--calls", type=int, default=10_000, help="calls of the compiled MLP")
    fuzz.add_argument("--seed", type=int, default=0)
    fuzz.add_argument("--jobs", type=int, default=2, help="parallel strata-opt processes")
    fuzz.add_argument("--out", default="fuzz-out", help="directory for failing inputs")
    bis = sub.add_parser(
        "bisect",
        help="run the pipeline pass by pass, execute the IR after each, report the first pass "
        "whose results diverge from the graph-level reference",
    )
    bis.add_argument("input", help="a .py model file, an .onnx file or a graph-level .mlir file")
    bis.add_argument(
        "--pipeline", default="strata-lower-to-llvm", help="the pipeline (default: %(default)s)"
    )
    bis.add_argument("--seed", type=int, default=0, help="seed of random inputs")
    bis.add_argument("--rtol", type=float, default=1e-4)
    bis.add_argument("--atol", type=float, default=1e-5)
    bis.add_argument("--out", default="bisect-repro", help="reproducer directory (%(default)s)")
    bis.add_argument(
        "--keep-going", action="store_true", help="execute every pass, past the first divergence"
    )
    return p


LEVELS = ("graph", "tprog", "libcall/hwprim", "llvm")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from strata.demo import run_demo

            if args.batch < 1:
                return fail("strata", f"--batch must be at least 1, got {args.batch}")
            return 0 if run_demo(batch=args.batch, lines=args.lines) else 1
        if args.command == "tune":
            return tune_file(args)
        if args.command == "run":
            return run_file(args)
        if args.command == "bisect":
            return bisect_file(args)
        if args.command == "fuzz":
            return fuzz_targets(args)
        return compile_file(args)
    except Exception as e:  # noqa: BLE001 - the one place that turns crashes into messages
        from strata.diagnostics import CompileError
        from strata.passes import PipelineError

        if isinstance(e, CompileError):
            print(str(e), file=sys.stderr)
            return 1
        if isinstance(e, PipelineError):  # a bad option value given on the command line
            return fail("strata", str(e))
        if args.debug or os.environ.get("STRATA_DEBUG") == "1":
            traceback.print_exc()
        return fail("strata", f"internal error: {type(e).__name__}: {e} (rerun with --debug)")


def fuzz_targets(args: argparse.Namespace) -> int:
    """Run each part (0 skips it), then print the targets and whether each is met."""
    from pathlib import Path

    from strata.fuzz import driver, frontends, graphs
    from strata.fuzz.resources import measure_resources

    out = Path(args.out)
    targets = []
    if args.driver:
        code = driver.main(
            [f"--inputs={args.driver}", f"--seed={args.seed}", f"--jobs={args.jobs}"]
            + [f"--out={out / 'driver'}"]
        )
        targets.append(
            (f"{args.driver} fuzzed driver inputs: 0 signals, 0 tracebacks, 0 hangs", code)
        )
    if args.frontends:
        code = frontends.main(
            [f"--inputs={args.frontends}", f"--seed={args.seed}", f"--jobs={args.jobs}"]
            + [f"--out={out / 'frontends'}"]
        )
        targets.append((f"{args.frontends} mutated ONNX files: 0 signals, tracebacks, hangs", code))
    if args.graphs:
        code = graphs.main(
            [f"--graphs={args.graphs}", f"--seed={args.seed}", f"--out={out / 'graphs'}"]
        )
        targets.append((f"{args.graphs} random graphs: 0 mismatches", code))
    if args.calls:
        report = measure_resources(calls=args.calls)
        print(report.summary())
        targets.append((f"RSS growth over {args.calls} calls < 1 MB", 0 if report.ok else 1))
    print("targets:")
    for text, code in targets:
        print(f"  {'met   ' if code == 0 else 'MISSED'}  {text}")
    return 0 if all(code == 0 for _, code in targets) else 1


def bisect_file(args: argparse.Namespace) -> int:
    from strata.bisection import bisect
    from strata.run import load_model_file

    loaded = load_model_file(args.input, seed=args.seed)
    report = bisect(
        loaded.module,
        inputs=[np.asarray(x) for x in loaded.inputs],
        pipeline=args.pipeline,
        rtol=args.rtol,
        atol=args.atol,
        out_dir=args.out,
        keep_going=args.keep_going,
    )
    print(report.table())
    return 0 if report.first_divergence is None and report.failure is None else 1


def tune_file(args: argparse.Namespace) -> int:
    from strata.compiler import parse_module
    from strata.tools.common import read_input
    from strata.tuning.tuner import tune

    if args.trials < 1:
        return fail("strata", f"--trials must be at least 1, got {args.trials}")
    try:
        text, name = read_input(args.input)
    except OSError as e:
        return fail("strata", f"cannot open input file '{args.input}': {e.strerror}")
    module = parse_module(text, source_name=name)
    results = tune(
        module, database=args.db, trials=args.trials, seed=args.seed, time_budget_s=args.time_budget
    )
    if not results:
        print("nothing to tune: no matmul tensor program in the module")
    for func, (default, best) in results.items():
        print(
            f"{func:<32} default {default:9.1f} us   tuned {best:9.1f} us   ({default / best:.2f}x)"
        )
    print(f"database: {args.db}")
    return 0


def compile_file(args: argparse.Namespace) -> int:
    from strata.compiler import lower_to_llvm, parse_module
    from strata.run import level_summary, load_model_file
    from strata.tools.common import read_input, write_output

    if args.chip and args.target != "cuda":
        return fail("strata", "--chip needs --target cuda")
    if args.target == "cuda" and args.compile_to == "llvm" and args.output == "-":
        return fail("strata", "--target cuda writes an artifact directory: give -o DIR")
    loaded = None
    if args.input == "-" or args.input.endswith(".mlir"):
        try:
            text, name = read_input(args.input)
        except OSError as e:
            return fail("strata", f"cannot open input file '{args.input}': {e.strerror}")
        module = parse_module(text, source_name=name)
    else:
        loaded = load_model_file(args.input)
        module = loaded.module
    if args.target == "cuda" and args.compile_to == "llvm":
        from strata.run import compile_cuda_artifact

        compile_cuda_artifact(module, loaded, args.output, chip=args.chip, dispatch=args.dispatch)
        return 0
    stop = LEVELS.index(args.compile_to)

    class Reached(Exception):
        pass

    def on_level(level: str, op) -> None:
        print(level_summary(level, op), file=sys.stderr)
        if LEVELS.index(level) >= stop:
            raise Reached

    try:
        extra = {"chip": args.chip} if args.target == "cuda" else {}
        lower_to_llvm(
            module,
            target=args.target,
            use_libcall=args.use_libcall,
            dispatch=args.dispatch or "never",
            on_level=on_level,
            **extra,
        )
    except Reached:
        pass
    try:
        write_output(args.output, module.get_asm(large_elements_limit=16))
    except OSError as e:
        return fail("strata", f"cannot write output file '{args.output}': {e.strerror}")
    return 0


def run_file(args: argparse.Namespace) -> int:
    from strata.run import run_model

    if args.repeat < 1:
        return fail("strata", f"--repeat must be at least 1, got {args.repeat}")
    if args.threads is not None and args.threads < 1:
        return fail("strata", f"--threads must be at least 1, got {args.threads}")
    ok = run_model(
        args.input,
        use_libcall=args.use_libcall,
        dispatch=args.dispatch or "never",
        threads=args.threads,
        repeat=args.repeat,
        seed=args.seed,
        compare=not args.no_compare,
    )
    return 0 if ok else 1


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
