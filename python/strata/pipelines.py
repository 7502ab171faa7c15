"""Pipelines: textual pipelines that mix Strata and upstream passes, and the named stages.

Upstream's pipeline parser cannot see Python passes, so `parse_pipeline` splits the text itself:
Strata names become `Pass` objects, everything else stays upstream text, and `Pipeline.run` adds
both, in order, to one upstream `PassManager` (so IR printing and timing see every pass).
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlir import ir, passmanager

from strata import passes as registry
from strata.diagnostics import CompileError
from strata.passes import Pass, PipelineError
from strata.targets import TargetName

Element = Pass | str


# --- parsing -------------------------------------------------------------------------------------


def _split_top_level(text: str) -> list[str]:
    items, depth, quote, start = [], 0, "", 0
    for i, c in enumerate(text):
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
            if depth < 0:
                raise PipelineError(f"unbalanced '{c}' in pipeline '{text}'")
        elif c == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    if depth or quote:
        raise PipelineError(f"unbalanced brackets or quotes in pipeline '{text}'")
    items.append(text[start:].strip())
    return [item for item in items if item]


_ITEM = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)\s*(?:\{(?P<opts>.*)\}|\((?P<nested>.*)\))?$", re.S)


def _names_in(text: str) -> list[str]:
    names = []
    for item in _split_top_level(text):
        m = _ITEM.match(item)
        if m and m.group("nested") is not None:
            names += _names_in(m.group("nested"))
        elif m:
            names.append(m.group("name"))
    return names


def make_element(name: str, options: str = "") -> list[Element]:
    """One pipeline item: a Strata pass, an expanded Strata pipeline, or upstream text."""
    pass_cls = registry.get_pass(name)
    if pass_cls is not None:
        return [pass_cls(registry.parse_options(name, pass_cls.Options, options))]
    pipeline = registry.get_pipeline(name)
    if pipeline is not None:
        return pipeline.build(registry.parse_options(name, pipeline.Options, options))
    return [f"{name}{{{options}}}" if options else name]


def parse_pipeline(text: str) -> list[Element]:
    """Parse `builtin.module(a,b{opt=1},func.func(cse))` (the anchor may be left out)."""
    text = text.strip()
    m = _ITEM.match(text)
    if m and m.group("nested") is not None and "." in m.group("name"):
        if m.group("name") != "builtin.module":
            raise PipelineError(
                f"pipelines run on 'builtin.module', not '{m.group('name')}': "
                f"write 'builtin.module({text})'"
            )
        text = m.group("nested")
    elements: list[Element] = []
    for item in _split_top_level(text):
        m = _ITEM.match(item)
        if m is None:
            raise PipelineError(f"malformed pipeline element '{item}'")
        if m.group("nested") is not None:
            for name in _names_in(m.group("nested")):
                if registry.is_strata_name(name):
                    raise PipelineError(
                        f"Strata pass '{name}' runs on builtin.module; move it out of "
                        f"'{m.group('name')}(...)'"
                    )
            elements.append(item)
        else:
            elements += make_element(m.group("name"), m.group("opts") or "")
    return elements


# --- running -------------------------------------------------------------------------------------


@dataclass
class Instrumentation:
    """What the pass manager reports while running (the `--mlir-*` options of strata-opt)."""

    print_before_all: bool = False
    print_after_all: bool = False
    print_before: Sequence[str] = ()
    print_after: Sequence[str] = ()
    print_generic: bool = False
    print_debuginfo: bool = False
    timing: bool = False
    ir_sink: Callable[[str], None] | None = None  # default: write to fd 2, like upstream

    def emit(self, text: str) -> None:
        if self.ir_sink is not None:
            self.ir_sink(text)
        else:
            os.write(2, text.encode())


def element_name(element: Element) -> str:
    if isinstance(element, Pass):
        return element.argument
    m = _ITEM.match(element)
    return m.group("name") if m else element


def _dump_pass(instr: Instrumentation, when: str, element: Element) -> Callable:
    label = type(element).__name__ if isinstance(element, Pass) else element_name(element)

    def run(op: ir.Operation, _pass: Any) -> None:
        asm = op.get_asm(
            enable_debug_info=instr.print_debuginfo, print_generic_op_form=instr.print_generic
        )
        instr.emit(
            f"// -----// IR Dump {when} {label} ({element_name(element)}) //----- //\n{asm}\n"
        )

    return run


def _dry_run(pm: passmanager.PassManager, context: ir.Context) -> None:
    """Run on an empty module: upstream reports some misplaced passes only when scheduling."""
    with context, ir.Location.unknown():
        pm.run(ir.Module.create().operation)


def _nested_if_needed(context: ir.Context, text: str) -> str:
    """`text`, or `func.func(text)` when the pass cannot run on a module (mlir-opt's implicit
    nesting for pass flags)."""
    probe = passmanager.PassManager("builtin.module", context=context)
    try:
        probe.add(text)
        _dry_run(probe, context)
    except ValueError as e:
        nest = re.search(r"restricted to '([^']+)'", str(e))
        return f"{nest.group(1)}({text})" if nest else text
    except ir.MLIRError as e:
        if "unable to schedule pass" in _mlir_message(e):
            return f"func.func({text})"
    return text


def _mlir_message(error: ir.MLIRError) -> str:
    return "; ".join([error.message, *(d.message for d in error.error_diagnostics)])


def _add_upstream(
    pm: passmanager.PassManager, context: ir.Context, text: str, implicit_nesting: bool
) -> None:
    if implicit_nesting:
        text = _nested_if_needed(context, text)
    try:
        pm.add(text)
    except ValueError as e:
        message = str(e).strip()
        if "does not refer to a registered pass" in message or "failed to add" in message:
            lines = [line for line in message.splitlines() if line.strip()]
            raise PipelineError(_explain_upstream_error(text, lines)) from None
        raise PipelineError(message) from None


def _explain_upstream_error(text: str, lines: list[str]) -> str:
    name = element_name(text)
    if any("does not refer to a registered pass" in line for line in lines):
        return f"unknown pass '{name}'; `strata-opt --help` lists the passes"
    detail = "; ".join(line for line in lines if not line.startswith("failed to add"))
    return detail or f"cannot add pass '{text}'"


def _python_pass(element: Pass) -> Callable:
    def run(op: ir.Operation, _pass: Any) -> None:
        # Ops a pass builds without an explicit location fall back to the module's.
        with op.context, op.location:
            element.run(op)

    return run


@dataclass
class Pipeline:
    """An ordered list of Strata passes and upstream pipeline text, run on a module.

    >>> Pipeline.parse("graph-verify,convert-graph-to-tprog,canonicalize").run(module)
    """

    elements: list[Element] = field(default_factory=list)
    implicit_nesting: bool = False  # nest func-only upstream passes, as strata-opt's flags do

    @classmethod
    def parse(cls, text: str) -> Pipeline:
        return cls(parse_pipeline(text))

    def __str__(self) -> str:
        return (
            "builtin.module("
            + ",".join(str(e) if isinstance(e, str) else repr(e) for e in self.elements)
            + ")"
        )

    def build(
        self, context: ir.Context, instr: Instrumentation | None = None
    ) -> passmanager.PassManager:
        instr = instr or Instrumentation()
        pm = passmanager.PassManager("builtin.module", context=context)
        if instr.print_before_all or instr.print_after_all:
            pm.enable_ir_printing(
                print_before_all=instr.print_before_all,
                print_after_all=instr.print_after_all,
                enable_debug_info=instr.print_debuginfo,
                print_generic_op_form=instr.print_generic,
            )
        if instr.timing:
            pm.enable_timing()
        for element in self.elements:
            name = element_name(element)
            if name in instr.print_before:
                pm.add(_dump_pass(instr, "Before", element), name="PrintIRBefore")
            if isinstance(element, Pass):
                pm.add(
                    _python_pass(element),
                    name=type(element).__name__,
                    argument=element.argument,
                    description=element.summary(),
                )
            else:
                _add_upstream(pm, context, element, self.implicit_nesting)
            if name in instr.print_after:
                pm.add(_dump_pass(instr, "After", element), name="PrintIRAfter")
        return pm

    def validate(self, context: ir.Context) -> None:
        """Check every pass name, option and nesting before any IR is read (a run on an empty
        module: upstream reports some scheduling errors only then)."""
        self.build(context)  # names and options
        upstream = Pipeline([e for e in self.elements if isinstance(e, str)], self.implicit_nesting)
        pm = upstream.build(context)  # Strata passes may need real IR; only upstream ones dry-run
        try:
            _dry_run(pm, context)
        except ir.MLIRError as e:
            raise PipelineError(_mlir_message(e)) from None

    def run(self, module: ir.Module | ir.Operation, instr: Instrumentation | None = None) -> None:
        """Run on `module` in place; bad input raises `CompileError` with located diagnostics."""
        op = module.operation if isinstance(module, ir.Module) else module
        pm = self.build(op.context, instr)
        try:
            pm.run(op)
        except ir.MLIRError as e:
            raise CompileError.from_mlir_error(e) from None
        finally:
            del pm  # the timing report is printed when the pass manager is destroyed


# --- named pipelines -----------------------------------------------------------------------------


class Dispatch(str, enum.Enum):
    """Option `dispatch` of `strata-lower-to-llvm`: the mode of `graph-dispatch-libcall`."""

    NEVER = "never"  # generated code only
    ALWAYS = "always"  # every op a dispatch rule sends to an installed library that takes it
    AUTO = "auto"  # those ops where the library call is measured faster (cached on disk)


def dispatch_mode(value: Dispatch | str, *, use_libcall: bool = False) -> Dispatch:
    """`value` as a `Dispatch` (PipelineError naming the valid values); the old option
    `use-libcall=true` means `always`, and contradicts any other explicit mode."""
    try:
        mode = Dispatch(value)
    except ValueError:
        valid = ", ".join(m.value for m in Dispatch)
        raise PipelineError(
            f"invalid value '{value}' for option 'dispatch' of 'strata-lower-to-llvm': "
            f"expected one of {valid}"
        ) from None
    if use_libcall and mode is Dispatch.AUTO:
        raise PipelineError(
            "options 'use-libcall=true' (dispatch=always) and 'dispatch=auto' of "
            "'strata-lower-to-llvm' contradict each other: give only 'dispatch'"
        )
    return Dispatch.ALWAYS if use_libcall else mode


def _lower_to_llvm_options():
    @dataclass(frozen=True)
    class Options:
        target: TargetName = field(
            default=TargetName.CPU, metadata={"help": "code generation target"}
        )
        use_libcall: bool = field(
            default=False, metadata={"help": "same as dispatch=always (kept for compatibility)"}
        )
        dispatch: Dispatch = field(
            default=Dispatch.NEVER,
            metadata={
                "help": "native library calls (BLAS) for ops the dispatch rules name: never, "
                "always, or auto (where measured faster than generated code)"
            },
        )
        simplify: bool = field(
            default=True,
            metadata={
                "help": "fold constants and batch norms, merge duplicate ops (graph-fold-"
                "constants, graph-canonicalize, graph-cse, graph-fold-batchnorm, graph-dce)"
            },
        )
        fuse: bool = field(
            default=True, metadata={"help": "fuse matmul + bias + activation (graph-fuse-ops)"}
        )
        tensorize: bool = field(
            default=True, metadata={"help": "tensorize matmul blocks into hwprim micro-kernels"}
        )
        vector_width: int = field(
            default=0,
            metadata={
                "help": "f32 lanes of the target's vectors (16 AVX-512, 8 AVX2); 0: the host's"
            },
        )

        tuning_db: str = field(
            default="", metadata={"help": "tuning database whose best schedules to apply"}
        )
        cpu: str = field(
            default="host",
            metadata={
                "help": "CPU features to compile for: host, avx512-vnni, avx512, avx2 or sse "
                "(cross-compiling; sets the vector width unless vector-width is given)"
            },
        )
        chip: str = field(
            default="",
            metadata={
                "help": "GPU to compile for with target=cuda: sm_80, sm_86, sm_89, sm_90 or "
                "sm_90a (the default)"
            },
        )
        tf32: bool = field(
            default=False,
            metadata={
                "help": "with target=cuda: f32 matmuls on TensorCores, operands rounded to TF32 "
                "(10-bit mantissa; like torch's allow_tf32)"
            },
        )

        def __post_init__(self) -> None:
            from strata.targets.cpu import CPU_PRESETS

            mode = dispatch_mode(self.dispatch, use_libcall=self.use_libcall)
            object.__setattr__(self, "dispatch", mode)
            cpu = getattr(self, "cpu", "host")
            if mode is Dispatch.AUTO and cpu != "host":
                raise PipelineError(
                    f"option 'dispatch=auto' of 'strata-lower-to-llvm' times code on this machine "
                    f"and cannot choose for cpu={cpu}: use dispatch=always or never when "
                    "cross-compiling"
                )
            if self.cpu != "host" and self.cpu not in CPU_PRESETS:
                raise PipelineError(
                    f"invalid value '{self.cpu}' for option 'cpu' of 'strata-lower-to-llvm': "
                    f"expected host, {', '.join(CPU_PRESETS)}"
                )
            self._check_target()
            if self.vector_width not in (0, 4, 8, 16):
                raise PipelineError(
                    f"invalid value '{self.vector_width}' for option 'vector-width' of "
                    "'strata-lower-to-llvm': expected 0 (host), 4, 8 or 16"
                )

        def _check_target(self) -> None:
            from strata.targets.cuda import CHIPS

            try:
                object.__setattr__(self, "target", TargetName(self.target))
            except ValueError:
                raise PipelineError(
                    f"invalid value '{self.target}' for option 'target' of "
                    f"'strata-lower-to-llvm': expected {'|'.join(t.value for t in TargetName)}"
                ) from None

            owner = "'strata-lower-to-llvm'"
            if self.target is TargetName.CUDA:
                if self.chip and self.chip not in CHIPS:
                    raise PipelineError(
                        f"invalid value '{self.chip}' for option 'chip' of {owner}: expected "
                        f"{', '.join(CHIPS)}"
                    )
                for name, value, default in (
                    ("cpu", self.cpu, "host"),
                    ("vector-width", self.vector_width, 0),
                    ("tuning-db", self.tuning_db, ""),
                ):
                    if value != default:
                        raise PipelineError(
                            f"option '{name}' of {owner} is for target=cpu, not target=cuda"
                        )
                if self.dispatch is Dispatch.AUTO:
                    raise PipelineError(
                        f"option 'dispatch=auto' of {owner} measures on this machine's CPU: use "
                        "dispatch=always or never with target=cuda"
                    )
            elif self.chip or self.tf32:
                name = "chip" if self.chip else "tf32"
                raise PipelineError(f"option '{name}' of {owner} needs target=cuda")

    return Options


class LowerToLLVMPipeline:
    """Lower a `graph` module to the LLVM dialect: graph -> tprog | libcall -> hwprim -> llvm."""

    argument = "strata-lower-to-llvm"
    Options = _lower_to_llvm_options()

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]

    @classmethod
    def build(cls, options: Any) -> list[Element]:
        from strata.targets import get_target

        if options.target is TargetName.CUDA:
            target = get_target(options.target, chip=options.chip, tf32=options.tf32)
        else:
            target = get_target(
                options.target, vector_width=options.vector_width or None, cpu=options.cpu
            )
        elements: list[Element] = list(make_element("graph-verify"))
        if options.simplify:  # fold weights, merge duplicates, drop what became dead
            for name in (
                "graph-fold-constants",
                "graph-canonicalize",
                "graph-cse",
                "graph-fold-batchnorm",
                "graph-dce",
            ):
                elements += make_element(name)
        if options.dispatch is not Dispatch.NEVER:  # before fusion: the library takes the matmul
            rules = getattr(target, "dispatch_rules", "")  # a target's own libraries only
            elements += make_element(
                "graph-dispatch-libcall", f"mode={options.dispatch.value}{rules}"
            )
        if options.fuse:
            elements += make_element("graph-fuse-ops")
        elements += make_element("convert-graph-to-tprog")
        if options.tuning_db:
            elements += make_element(
                "tprog-apply-tuning-db",
                f"file={options.tuning_db} vector-width={options.vector_width}",
            )
        elements += target.lower_tensor_programs(tensorize=options.tensorize)
        elements += target.lower_to_llvm()
        return elements
