"""Pass base class and the registry of Strata passes and pipelines.

A pass is a small class: `argument` (its command-line name), a docstring, typed options (a frozen
dataclass), and `run(module)`. The registry maps each argument to `module:Class`, imported only
when the pass is used, so `import strata` stays fast. The same name reaches the pass from
`strata-opt`, from Python pipelines and from lit tests.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from mlir import ir


class PipelineError(ValueError):
    """A pass name, option or pipeline text is malformed."""


@dataclass(frozen=True)
class NoOptions:
    pass


class Pass:
    """Base class of Strata passes. Subclasses set `argument`, `Options` and implement `run`."""

    argument: ClassVar[str]
    Options: ClassVar[type] = NoOptions

    def __init__(self, options: Any = None, **kwargs: Any):
        if options is None:
            options = self.Options(**kwargs)
        self.options = options

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]

    def run(self, module: ir.Operation) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        text = format_options(self.options)
        return f"{self.argument}{{{text}}}" if text else self.argument


# --- options -------------------------------------------------------------------------------------


def option_fields(options_cls: type) -> list[dataclasses.Field]:
    return list(dataclasses.fields(options_cls)) if dataclasses.is_dataclass(options_cls) else []


def option_help(field: dataclasses.Field) -> str:
    return field.metadata.get("help", "")


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _type_name(tp: Any) -> str:
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "|".join(m.value for m in tp)
    if typing.get_origin(tp) is tuple:
        return f"{_type_name(typing.get_args(tp)[0])},..."
    return getattr(tp, "__name__", str(tp))


def describe_option(options_cls: type, field: dataclasses.Field) -> str:
    hints = typing.get_type_hints(options_cls)
    return f"{_kebab(field.name)}=<{_type_name(hints[field.name])}>"


def _convert(owner: str, key: str, tp: Any, text: str) -> Any:
    try:
        if tp is bool:
            if text.lower() in ("true", "1", ""):
                return True
            if text.lower() in ("false", "0"):
                return False
            raise ValueError
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return tp(text)
        if typing.get_origin(tp) is tuple:
            (elem,) = typing.get_args(tp)[:1]
            return tuple(_convert(owner, key, elem, t) for t in text.split(",") if t)
        return tp(text)
    except ValueError:
        raise PipelineError(
            f"invalid value '{text}' for option '{key}' of '{owner}': expected {_type_name(tp)}"
        ) from None


def split_options(text: str) -> list[tuple[str, str]]:
    """'a=1 b=x,y c' -> [('a','1'), ('b','x,y'), ('c','')]; values may be quoted or braced."""
    items: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        while i < n and text[i] not in "= \t\n":
            i += 1
        key, value = text[start:i], ""
        if i < n and text[i] == "=":
            i += 1
            vstart, depth, quote = i, 0, ""
            while i < n:
                c = text[i]
                if quote:
                    quote = "" if c == quote else quote
                elif c in "\"'":
                    quote = c
                elif c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                elif c.isspace() and depth == 0:
                    break
                i += 1
            value = text[vstart:i].strip("\"'")
        items.append((key, value))
    return items


def parse_options(owner: str, options_cls: type, text: str) -> Any:
    """Parse `key=value` pairs (kebab-case keys) into an instance of the frozen dataclass."""
    fields = {_kebab(f.name): f for f in option_fields(options_cls)}
    hints = typing.get_type_hints(options_cls) if fields else {}
    values: dict[str, Any] = {}
    for key, value in split_options(text):
        field = fields.get(key)
        if field is None:
            valid = ", ".join(fields) or "none"
            raise PipelineError(f"'{owner}' has no option '{key}'; valid options: {valid}")
        values[field.name] = _convert(owner, key, hints[field.name], value)
    return options_cls(**values)


def format_options(options: Any) -> str:
    parts = []
    for field in option_fields(type(options)):
        value = getattr(options, field.name)
        if value == field.default:
            continue
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, tuple):
            value = ",".join(str(v) for v in value)
        parts.append(f"{_kebab(field.name)}={value}")
    return " ".join(parts)


# --- registry ------------------------------------------------------------------------------------

# argument -> "module:Class". Passes are grouped by the level they work on.
PASSES: dict[str, str] = {
    # graph -> graph
    "graph-verify": "strata.transforms.graph.verify:GraphVerifyPass",
    "graph-dce": "strata.transforms.graph.dce:GraphDcePass",
    "graph-fuse-ops": "strata.transforms.graph.fuse_ops:GraphFuseOpsPass",
    "graph-canonicalize": "strata.transforms.graph.canonicalize:GraphCanonicalizePass",
    "graph-fold-constants": "strata.transforms.graph.fold_constants:GraphFoldConstantsPass",
    "graph-cse": "strata.transforms.graph.cse:GraphCsePass",
    "graph-fold-batchnorm": "strata.transforms.graph.fold_batchnorm:GraphFoldBatchnormPass",
    "graph-dispatch-libcall": "strata.transforms.graph.dispatch_libcall:GraphDispatchLibcallPass",
    # level -> level
    "convert-graph-to-tprog": "strata.conversions.graph_to_tprog:ConvertGraphToTprogPass",
    "convert-graph-to-libcall": "strata.conversions.graph_to_libcall:ConvertGraphToLibcallPass",
    "convert-tprog-to-hwprim": "strata.conversions.tprog_to_hwprim:ConvertTprogToHwprimPass",
    # tprog -> tprog
    "tprog-apply-schedule": "strata.transforms.tprog.apply_schedule:TprogApplySchedulePass",
    "tprog-apply-tuning-db": "strata.transforms.tprog.apply_tuning_db:TprogApplyTuningDbPass",
    "tprog-parallelize": "strata.transforms.tprog.parallelize:TprogParallelizePass",
    "tprog-gpu-schedule": "strata.transforms.tprog.gpu_schedule:TprogGpuSchedulePass",
    "tprog-gpu-tensorize": "strata.transforms.tprog.gpu_tensorize:TprogGpuTensorizePass",
    # func -> func
    "func-emit-c-interface": "strata.transforms.func.emit_c_interface:FuncEmitCInterfacePass",
    # custom dialects -> upstream dialects
    "convert-tprog-to-scf": "strata.conversions.tprog_to_scf:ConvertTprogToScfPass",
    "convert-tprog-to-gpu": "strata.conversions.tprog_to_gpu:ConvertTprogToGpuPass",
    "gpu-merge-kernel-modules": "strata.transforms.gpu.merge_modules:GpuMergeKernelModulesPass",
    "convert-libcall-to-func": "strata.conversions.libcall_to_func:ConvertLibcallToFuncPass",
    "convert-hwprim-to-vector": "strata.conversions.hwprim_to_vector:ConvertHwprimToVectorPass",
    "convert-hwprim-to-nvvm": "strata.conversions.hwprim_to_nvvm:ConvertHwprimToNvvmPass",
    "hwprim-expand-microkernels": (
        "strata.conversions.hwprim_to_vector:HwprimExpandMicrokernelsPass"
    ),
    # testing Strata's tools (a deliberately wrong rewrite for strata bisect)
    "test-strata-miscompile": "strata.transforms.testing.miscompile:TestStrataMiscompilePass",
}

# argument -> "module:Class" of a named pipeline (a `PipelineDef`).
PIPELINES: dict[str, str] = {
    "strata-lower-to-llvm": "strata.pipelines:LowerToLLVMPipeline",
}


def _load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def get_pass(argument: str) -> type[Pass] | None:
    spec = PASSES.get(argument)
    return _load(spec) if spec else None


def get_pipeline(argument: str) -> Any:
    spec = PIPELINES.get(argument)
    return _load(spec) if spec else None


def is_strata_name(argument: str) -> bool:
    return argument in PASSES or argument in PIPELINES
