"""`strata.compile`: a `graph` module (object or text) to a callable JIT-compiled module."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mlir import ir

from strata.diagnostics import CompileError
from strata.dialects import load_dialects, make_context
from strata.irutil import functions, is_declaration, is_public
from strata.parsing import parse_source
from strata.pipelines import Element, LowerToLLVMPipeline, Pipeline, dispatch_mode, element_name
from strata.runtime.compiled import CompiledModule, Signature
from strata.targets import get_target


def parse_module(
    text: str, *, source_name: str = "<string>", context: ir.Context | None = None
) -> ir.Operation:
    """Parse textual IR with the Strata dialects loaded; errors are located `CompileError`s."""
    context = context or make_context()
    load_dialects(context)
    return parse_source(text, source_name, context)


# The level a module is at once the pipeline reaches each of these passes (the first one found).
LEVEL_STARTS = (
    ("tprog", ("convert-graph-to-tprog",)),
    (
        "libcall/hwprim",
        (
            "tprog-apply-tuning-db",
            "convert-tprog-to-hwprim",
            "tprog-parallelize",
            "tprog-gpu-tensorize",
            "tprog-gpu-schedule",
        ),
    ),
    ("llvm", ("convert-tprog-to-scf",)),
)


def split_levels(elements: list[Element]) -> list[tuple[str, list[Element]]]:
    """`elements` cut into (level reached, the passes that reach it) segments."""
    names = [element_name(e) for e in elements]
    cuts = [("graph", 0)]
    for level, starts in LEVEL_STARTS:
        at = min((names.index(s) for s in starts if s in names), default=None)
        if at is not None and at >= cuts[-1][1]:
            cuts.append((level, at))
    # A segment is named by the level its passes lead to: the graph passes keep the graph level.
    segments = []
    for i, (level, start) in enumerate(cuts):
        end = cuts[i + 1][1] if i + 1 < len(cuts) else len(elements)
        segments.append((level, elements[start:end]))
    return segments


def lower_to_llvm(
    module: ir.Module | ir.Operation,
    *,
    target: str = "cpu",
    use_libcall: bool = False,
    dispatch: str = "never",
    on_level: Callable[[str, ir.Operation], None] | None = None,
    **options,
) -> None:
    """Run `strata-lower-to-llvm` on `module` in place; `on_level(level, module)` is called
    after the passes of each level (graph, tprog, libcall/hwprim, llvm). `dispatch`: "never",
    "always" or "auto" library calls (`use_libcall=True` is "always")."""
    opts = LowerToLLVMPipeline.Options(
        target=target, use_libcall=use_libcall, dispatch=dispatch_mode(dispatch), **options
    )
    elements = LowerToLLVMPipeline.build(opts)
    if on_level is None:
        Pipeline(elements).run(module)
        return
    op = module.operation
    for level, segment in split_levels(elements):
        Pipeline(segment).run(op)
        on_level(level, op)


def import_model(model: Any, example_inputs: Sequence[Any] | None = None) -> ir.Operation:
    """A `graph` module from what `strata.compile` accepts: a module, IR text, a path to a
    `.mlir` or `.onnx` file, an ONNX `ModelProto`, or a `torch.nn.Module` with example inputs."""
    if isinstance(model, (ir.Module, ir.Operation, ir.OpView)):
        return model.operation
    if isinstance(model, str) and model.endswith((".onnx", ".mlir")) and "\n" not in model:
        model = Path(model)
    if isinstance(model, Path):
        if model.suffix == ".onnx":
            from strata.frontends.onnx import from_onnx

            return from_onnx(model).operation
        try:
            text = model.read_text()
        except OSError as e:
            raise CompileError(f"cannot read '{model}': {e.strerror}") from None
        return parse_module(text, source_name=str(model))
    if isinstance(model, str):
        return parse_module(model)
    if type(model).__module__.startswith("onnx"):
        from strata.frontends.onnx import from_onnx

        return from_onnx(model).operation
    if _is_torch_module(model):
        if example_inputs is None:
            raise CompileError("compiling a torch.nn.Module needs example_inputs")
        from strata.frontends.torch_export import from_torch

        if not isinstance(example_inputs, (tuple, list)):  # one tensor: not split along dim 0
            example_inputs = (example_inputs,)
        return from_torch(model, tuple(example_inputs)).operation
    raise TypeError(
        f"strata.compile takes a graph module, IR text, a .mlir/.onnx path, an ONNX model or a "
        f"torch.nn.Module, not {type(model).__name__}"
    )


def _is_torch_module(model: Any) -> bool:
    torch = sys.modules.get("torch")  # a torch module implies torch is imported
    return torch is not None and isinstance(model, torch.nn.Module)


def compile(
    model: Any,
    example_inputs: Sequence[Any] | None = None,
    *,
    target: str = "cpu",
    use_libcall: bool = False,
    dispatch: str = "never",
    opt_level: int = 3,
    on_level: Callable[[str, ir.Operation], None] | None = None,
    **options,
) -> CompiledModule:
    """Compile a model for `target` and JIT it.

    >>> cm = strata.compile(module)          # or IR text, or a path to a .mlir file
    >>> cm = strata.compile("model.onnx")    # an ONNX file (or a loaded onnx.ModelProto)
    >>> cm = strata.compile(torch_module, (x,))   # through torch.export
    >>> y = cm(x)                            # one public function; else cm["mlp"](x)
    >>> cm = strata.compile(module, tuning_db="tuning.jsonl")   # replay `strata tune` results
    >>> cm = strata.compile(module, dispatch="auto")   # BLAS where measured faster (cached)
    >>> art = strata.compile(module, target="cuda", chip="sm_90a")  # a CudaArtifact:
    >>> art.save("model.strata")             # PTX, cubin, launch manifest, weights, runtime.py

    `dispatch`: "never" (generated code only), "always" (library calls for the ops the dispatch
    rules name; `use_libcall=True` is the same) or "auto" (those where the library is faster).
    """
    if options.get("tuning_db"):
        options["tuning_db"] = str(options["tuning_db"])
    if target == "cuda":  # an artifact for the GPU machine, not a JIT-compiled function
        from strata.targets.cuda_artifact import compile_cuda

        return compile_cuda(  # type: ignore[return-value]
            import_model(model, example_inputs),
            dispatch=dispatch_mode(dispatch, use_libcall=use_libcall).value,
            on_level=on_level,
            **options,
        )
    from mlir.execution_engine import ExecutionEngine

    from strata.libraries.registry import shared_libraries

    module = import_model(model, example_inputs)
    try:
        signatures = [
            Signature.from_func(fn)
            for fn in functions(module)
            if is_public(fn) and not is_declaration(fn)
        ]
    except TypeError as e:  # an element type numpy cannot hold (bf16)
        raise CompileError(f"cannot call the compiled module from numpy: {e}") from None
    if not signatures:
        raise CompileError("the module has no public function to compile")
    # Lower a copy (the caller keeps its module); printing with debug info keeps the locations.
    lowered = ir.Module.parse(module.get_asm(enable_debug_info=True), context=module.context)
    lower_to_llvm(
        lowered,
        target=target,
        use_libcall=use_libcall,
        dispatch=dispatch,
        on_level=on_level,
        **options,
    )
    try:
        libs = shared_libraries(lowered.operation)
        libs += get_target(target).runtime_libraries(lowered.operation)
        engine = ExecutionEngine(lowered, opt_level=opt_level, shared_libs=libs)
    except RuntimeError as e:
        raise CompileError(f"JIT compilation failed: {e}") from None
    return CompiledModule(engine, signatures, lowered)
