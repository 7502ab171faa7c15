"""`strata.compile`: a `graph` module (object or text) to a callable JIT-compiled module."""

from __future__ import annotations

from pathlib import Path

from mlir import ir

from strata.diagnostics import CompileError
from strata.dialects import load_dialects, make_context
from strata.irutil import functions, is_declaration, is_public
from strata.parsing import parse_source
from strata.pipelines import LowerToLLVMPipeline, Pipeline
from strata.runtime.compiled import CompiledModule, Signature
from strata.targets import get_target


def parse_module(
    text: str, *, source_name: str = "<string>", context: ir.Context | None = None
) -> ir.Operation:
    """Parse textual IR with the Strata dialects loaded; errors are located `CompileError`s."""
    context = context or make_context()
    load_dialects(context)
    return parse_source(text, source_name, context)


def lower_to_llvm(
    module: ir.Module | ir.Operation, *, target: str = "cpu", use_libcall: bool = False, **options
) -> None:
    """Run `strata-lower-to-llvm` on `module` in place."""
    opts = LowerToLLVMPipeline.Options(target=target, use_libcall=use_libcall, **options)
    Pipeline(LowerToLLVMPipeline.build(opts)).run(module)


def compile(
    module_or_text: ir.Module | str | Path,
    target: str = "cpu",
    *,
    use_libcall: bool = False,
    opt_level: int = 3,
    **options,
) -> CompiledModule:
    """Compile a `graph` module for `target` and JIT it.

    >>> cm = strata.compile(module)          # or IR text, or a path to a .mlir file
    >>> y = cm(x)                            # one public function; else cm["mlp"](x)
    >>> cm = strata.compile(module, tuning_db="tuning.jsonl")   # replay `strata tune` results
    """
    if options.get("tuning_db"):
        options["tuning_db"] = str(options["tuning_db"])
    from mlir.execution_engine import ExecutionEngine

    from strata.libraries.registry import shared_libraries

    if isinstance(module_or_text, Path):
        module = parse_module(module_or_text.read_text(), source_name=str(module_or_text))
    elif isinstance(module_or_text, str):
        module = parse_module(module_or_text)
    else:
        module = module_or_text
    module = module.operation
    signatures = [
        Signature.from_func(fn)
        for fn in functions(module)
        if is_public(fn) and not is_declaration(fn)
    ]
    if not signatures:
        raise CompileError("the module has no public function to compile")
    # Lower a copy (the caller keeps its module); printing with debug info keeps the locations.
    lowered = ir.Module.parse(module.get_asm(enable_debug_info=True), context=module.context)
    lower_to_llvm(lowered, target=target, use_libcall=use_libcall, **options)
    try:
        libs = shared_libraries(lowered.operation)
        libs += get_target(target).runtime_libraries(lowered.operation)
        engine = ExecutionEngine(lowered, opt_level=opt_level, shared_libs=libs)
    except RuntimeError as e:
        raise CompileError(f"JIT compilation failed: {e}") from None
    return CompiledModule(engine, signatures, lowered)
