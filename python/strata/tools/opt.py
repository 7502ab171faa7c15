"""strata-opt: mlir-opt for Strata. Reads IR, runs Strata and upstream passes, prints IR."""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback

from strata.tools.common import ArgumentParser, fail, read_input, split_chunks, write_output

DESCRIPTION = """Run Strata and upstream MLIR passes on an IR file, like mlir-opt.

Passes are given as flags (--graph-verify --canonicalize --cse, options as --pass=opts or
--pass{opts}) or as one --pass-pipeline='builtin.module(...)' that mixes Strata and upstream
passes. Any upstream MLIR pass is accepted as well (see mlir-opt --help)."""


def strata_pass_help() -> str:
    from strata import passes
    from strata.passes import describe_option, option_fields, option_help

    lines = ["Strata passes and pipelines:"]
    for argument in [*passes.PASSES, *passes.PIPELINES]:
        cls = passes.get_pass(argument) or passes.get_pipeline(argument)
        lines.append(f"  --{argument:<34} {cls.summary()}")
        for field in option_fields(cls.Options):
            lines.append(f"      {describe_option(cls.Options, field):<32} {option_help(field)}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="strata-opt",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    p.add_argument("input", nargs="?", default="-", help="input file, or - for stdin (default)")
    p.add_argument("-o", dest="output", default="-", help="output file (default: stdout)")
    p.add_argument(
        "-h", "--help", action="store_true", help="show this help with every Strata pass"
    )
    p.add_argument(
        "--pass-pipeline", help="textual pipeline, e.g. 'builtin.module(graph-verify,cse)'"
    )
    p.add_argument(
        "--split-input-file", action="store_true", help="process chunks separated by '// -----'"
    )
    p.add_argument(
        "--verify-diagnostics",
        action="store_true",
        help="check expected-error/warning/note comments",
    )
    p.add_argument("--mlir-print-ir-after-all", action="store_true")
    p.add_argument("--mlir-print-ir-before-all", action="store_true")
    p.add_argument("--mlir-print-ir-after", action="append", default=[], metavar="PASS")
    p.add_argument("--mlir-print-ir-before", action="append", default=[], metavar="PASS")
    p.add_argument("--mlir-timing", action="store_true", help="print the pass timing report")
    p.add_argument("--mlir-print-op-generic", action="store_true")
    p.add_argument("--mlir-print-debuginfo", action="store_true")
    p.add_argument("--mlir-elide-elementsattrs-if-larger", type=int, metavar="N")
    p.add_argument("--mlir-elide-resource-strings-if-larger", type=int, metavar="N")
    p.add_argument(
        "--no-verify", action="store_true", help="skip the Strata op verifiers after parsing"
    )
    p.add_argument(
        "--debug", action="store_true", help="show Python tracebacks (also STRATA_DEBUG=1)"
    )
    return p


_PASS_FLAG = re.compile(r"^--(?P<name>[A-Za-z0-9_.\-]+)(?:=(?P<eq>.*)|\{(?P<brace>.*)\})?$", re.S)


def pipeline_from_flags(flags: list[str]):
    from strata.passes import PipelineError
    from strata.pipelines import Pipeline, make_element

    elements = []
    for flag in flags:
        m = _PASS_FLAG.match(flag)
        if m is None:
            raise PipelineError(f"unknown argument '{flag}'")
        options = m.group("eq") if m.group("eq") is not None else (m.group("brace") or "")
        elements += make_element(m.group("name"), options)
    return Pipeline(elements, implicit_nesting=True)


def main(argv: list[str] | None = None) -> int:
    args, extra = build_parser().parse_known_args(argv)
    debug = args.debug or os.environ.get("STRATA_DEBUG") == "1"
    if args.help:
        build_parser().print_help()
        print("\n" + strata_pass_help())
        return 0
    try:
        return run(args, extra)
    except Exception as e:  # noqa: BLE001 - the one place that turns crashes into messages
        if debug:
            traceback.print_exc()
        return fail("strata-opt", f"internal error: {type(e).__name__}: {e} (rerun with --debug)")


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from strata.diagnostics import CompileError, collect_diagnostics
    from strata.dialects import make_context
    from strata.dialects.verifiers import verify_module
    from strata.parsing import parse_source
    from strata.passes import PipelineError
    from strata.pipelines import Instrumentation, Pipeline
    from strata.verify_diagnostics import check, parse_expectations

    unknown = [a for a in extra if not a.startswith("--")]
    if unknown:
        return fail("strata-opt", f"unexpected argument '{unknown[0]}'")
    try:
        text, name = read_input(args.input)
    except OSError as e:
        return fail("strata-opt", f"cannot open input file '{args.input}': {e.strerror}")
    context = make_context()
    try:
        if args.pass_pipeline and extra:
            raise PipelineError("give passes either as flags or as --pass-pipeline, not both")
        pipeline = (
            Pipeline.parse(args.pass_pipeline) if args.pass_pipeline else pipeline_from_flags(extra)
        )
        pipeline.validate(context)
    except PipelineError as e:
        return fail("strata-opt", str(e))
    instr = Instrumentation(
        print_before_all=args.mlir_print_ir_before_all,
        print_after_all=args.mlir_print_ir_after_all,
        print_before=args.mlir_print_ir_before,
        print_after=args.mlir_print_ir_after,
        print_generic=args.mlir_print_op_generic,
        print_debuginfo=args.mlir_print_debuginfo,
        timing=args.mlir_timing,
    )
    outputs, failed = [], False
    for chunk, first_line in split_chunks(text, args.split_input_file):
        with collect_diagnostics(context) as diagnostics:
            try:
                module = parse_source("\n" * (first_line - 1) + chunk, name, context)
                if not args.no_verify:
                    verify_module(module)
                pipeline.run(module, instr)
                outputs.append(
                    module.get_asm(
                        enable_debug_info=args.mlir_print_debuginfo,
                        print_generic_op_form=args.mlir_print_op_generic,
                        large_elements_limit=args.mlir_elide_elementsattrs_if_larger,
                        large_resource_limit=args.mlir_elide_resource_strings_if_larger,
                    )
                )
            except CompileError as e:
                diagnostics.extend(e.diagnostics)
        if args.verify_diagnostics:
            problems = check(
                list(diagnostics), parse_expectations(chunk.split("\n"), first_line), name
            )
            for problem in problems:
                print(problem, file=sys.stderr)
            failed |= bool(problems)
        elif diagnostics:
            for diag in diagnostics:
                print(diag.format(), file=sys.stderr)
            failed |= any(d.severity == "error" for d in diagnostics)
    if failed:
        return 1
    try:
        write_output(args.output, "// -----\n".join(outputs))
    except OSError as e:
        return fail("strata-opt", f"cannot write output file '{args.output}': {e.strerror}")
    return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
