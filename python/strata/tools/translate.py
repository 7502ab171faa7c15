"""strata-translate: the LLVM dialect to LLVM IR (`--mlir-to-llvmir`), like mlir-translate; a
CUDA-lowered module to its PTX (`--to-ptx`) or cubin (`--to-cubin`, with ptxas)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from strata.tools.common import ArgumentParser, fail, read_input, write_output


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="strata-translate", description="Translate MLIR to other formats.")
    p.add_argument("input", nargs="?", default="-", help="input file, or - for stdin (default)")
    p.add_argument("-o", dest="output", default="-", help="output file (default: stdout)")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--mlir-to-llvmir", action="store_true", help="LLVM dialect -> LLVM IR text")
    mode.add_argument(
        "--to-ptx",
        action="store_true",
        help="the PTX of a module lowered with strata-lower-to-llvm{target=cuda}",
    )
    mode.add_argument(
        "--to-cubin",
        action="store_true",
        help="the same PTX assembled by ptxas for its chip (binary: needs -o FILE)",
    )
    p.add_argument(
        "--debug", action="store_true", help="show Python tracebacks (also STRATA_DEBUG=1)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except Exception as e:  # noqa: BLE001 - the one place that turns crashes into messages
        if args.debug or os.environ.get("STRATA_DEBUG") == "1":
            traceback.print_exc()
        return fail(
            "strata-translate", f"internal error: {type(e).__name__}: {e} (rerun with --debug)"
        )


def run(args: argparse.Namespace) -> int:
    from mlir import ir

    from strata.diagnostics import CompileError, collect_diagnostics
    from strata.dialects import make_context
    from strata.parsing import parse_source

    if args.to_cubin and args.output == "-":
        return fail("strata-translate", "--to-cubin writes a binary file: give -o FILE")
    try:
        text, name = read_input(args.input)
    except OSError as e:
        return fail("strata-translate", f"cannot open input file '{args.input}': {e.strerror}")
    context = make_context()
    translate = _to_llvmir if args.mlir_to_llvmir else _to_ptx if args.to_ptx else _to_cubin
    output: str | bytes = ""
    with collect_diagnostics(context) as diagnostics:
        try:
            output = translate(parse_source(text, name, context))
        except CompileError as e:
            diagnostics.extend(e.diagnostics)
        except ir.MLIRError as e:
            diagnostics.extend(CompileError.from_mlir_error(e).diagnostics)
    if diagnostics:
        for diag in diagnostics:
            print(diag.format(), file=sys.stderr)
        return 1
    try:
        write_output(args.output, output)
    except OSError as e:
        return fail("strata-translate", f"cannot write output file '{args.output}': {e.strerror}")
    return 0


def _to_llvmir(module) -> str:
    from mlir.dialects import llvm

    from strata.diagnostics import CompileError
    from strata.irutil import walk

    # Translation aborts on ops it cannot translate; check first.
    for op in walk(module):
        dialect = op.name.split(".")[0]
        if op.name != "builtin.module" and dialect not in ("llvm",):
            raise CompileError(
                f"'{op.name}' is not in the LLVM dialect; lower the module first "
                "(strata-opt --strata-lower-to-llvm)",
                op.location,
            )
    return str(llvm.translate_module_to_llvmir(module))


def _to_ptx(module) -> str:
    from strata.targets.cuda_artifact import gpu_binaries

    return "".join(ptx for _, ptx in gpu_binaries(module))


def _to_cubin(module) -> bytes:
    from strata.diagnostics import CompileError
    from strata.targets.cuda_artifact import assemble, gpu_binaries

    binaries = gpu_binaries(module)
    if len(binaries) != 1:
        raise CompileError(f"--to-cubin assembles one gpu.binary; the module holds {len(binaries)}")
    chip, ptx = binaries[0]
    return assemble(ptx, chip)


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
