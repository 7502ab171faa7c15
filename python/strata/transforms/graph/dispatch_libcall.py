"""graph-dispatch-libcall: hand graph ops to native libraries by rules (MLC chapter 3).

A rule maps an op name, when a predicate on the op (shapes, element types) holds, to a library
function of the registry (`libraries/registry.py`), or to `none`: keep the op in generated code.
Rules are tried in order: the pass's `rules` option, then the rules added from Python with
`add_rule` (latest first), then `DEFAULT_RULES`; the first rule whose predicate holds and whose
library accepts the operands picks the function. Option `mode`: `always` (the default; `rules`
is its old name) calls it; `auto` calls it only where it beats the generated code, timed once per
op signature, target and thread count and cached on disk (`libraries/autotune.py`); `never`
calls no library. A function whose library is not installed is not called: the op stays in
generated code and a remark says how to install the library.
Input: `graph` functions. Output: each dispatched op is a call of a private tensor program
holding one libcall op (`conversions/graph_to_libcall.py`); the others are left as they are.

>>> from strata.transforms.graph.dispatch_libcall import add_rule
>>> big = lambda op: op.operands[0].type.shape[0] >= 64
>>> rule = add_rule("graph.matmul", "openblas.sgemm", when=big)
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mlir import ir

from strata.conversions.graph_to_libcall import LIBCALL_OPS, convert
from strata.diagnostics import CompileError, emit_remark
from strata.dialects.graph import FUSED
from strata.irutil import functions, symbol_names, walk
from strata.libraries import autotune, registry
from strata.libraries.autotune import Decision
from strata.passes import Pass, PipelineError

NONE = "none"  # a rule's function that keeps the op in generated code

Predicate = Callable[[ir.Operation], bool]


@dataclass(frozen=True)
class DispatchRule:
    """Send `op` (a graph op name) to library function `function` when `when(op)` holds (always
    when `when` is None); `function` "none" keeps matching ops in generated code."""

    op: str
    function: str
    when: Predicate | None = None

    def __str__(self) -> str:
        when = "" if self.when is None else f" when {getattr(self.when, '__name__', 'predicate')}"
        return f"{self.op}:{self.function}{when}"

    def matches(self, op: ir.Operation) -> bool:
        if op.name != self.op:
            return False
        if self.when is None:
            return True
        try:
            return bool(self.when(op))
        except Exception as e:
            message = f"dispatch rule '{self}' failed on '{op.name}': {e}"
            raise CompileError(message, op.location) from e


def rule_error(op: str, function: str) -> str | None:
    """Why (`op`, `function`) is not a valid rule, or None."""
    form = LIBCALL_OPS.get(op)
    if form is None:
        return f"no library takes '{op}'; ops with a libcall form: {', '.join(LIBCALL_OPS)}"
    if function == NONE:
        return None
    choices = registry.implementing(form.op)
    if function not in choices:
        return (
            f"'{function}' is not a library function implementing {form.op}; "
            f"expected one of: {', '.join([*choices, NONE])}"
        )
    return None


def parse_rule(text: str) -> DispatchRule:
    """`graph.matmul:openblas.sgemm` (or `graph.matmul:none`) as a rule; ValueError if malformed."""
    op, sep, function = text.partition(":")
    if not sep or not op or not function:
        raise ValueError(f"malformed dispatch rule '{text}': expected <graph op>:<function>")
    error = rule_error(op, function)
    if error is not None:
        raise ValueError(f"invalid dispatch rule '{text}': {error}")
    return DispatchRule(op, function)


def _matrix_f32(op: ir.Operation) -> bool:
    """f32 operands of rank >= 2 (BLAS sgemm, batched through loops or batch_strided)."""
    return all(len(v.type.shape) >= 2 and str(v.type.element_type) == "f32" for v in op.operands)


def _spatial_conv_f32(op: ir.Operation) -> bool:
    """f32 convolutions with kernels larger than 1x1 (oneDNN is measured slower than generated
    code on 1x1 kernels, faster on the others: docs/benchmarks.md)."""
    weight = op.operands[1].type
    return str(weight.element_type) == "f32" and list(weight.shape)[2:] != [1, 1]


DEFAULT_RULES: tuple[DispatchRule, ...] = (
    DispatchRule("graph.matmul", "openblas.sgemm", when=_matrix_f32),
    DispatchRule("graph.conv2d", "onednn.conv2d", when=_spatial_conv_f32),
)

# Rules added from Python, latest first (a registry, like the library registry's functions).
_USER_RULES: list[DispatchRule] = []


def add_rule(op: str, function: str, *, when: Predicate | None = None) -> DispatchRule:
    """Add a rule tried before the default ones (and before rules added earlier); returns it,
    for `remove_rule`. `when(op)` sees the graph op (operand and result tensor types).

    >>> add_rule("graph.matmul", "none", when=lambda op: op.results[0].type.shape[0] < 16)
    """
    error = rule_error(op, function)
    if error is not None:
        raise ValueError(f"invalid dispatch rule '{op}:{function}': {error}")
    rule = DispatchRule(op, function, when)
    _USER_RULES.insert(0, rule)
    return rule


def remove_rule(rule: DispatchRule) -> None:
    """Remove a rule `add_rule` returned."""
    if rule not in _USER_RULES:
        raise ValueError(f"dispatch rule '{rule}' is not registered")
    _USER_RULES.remove(rule)


def user_rules() -> tuple[DispatchRule, ...]:
    """The rules added with `add_rule`, in the order they are tried."""
    return tuple(_USER_RULES)


class Mode(enum.Enum):
    NEVER = "never"  # no library call
    ALWAYS = "always"  # the first rule that applies
    AUTO = "auto"  # the first rule that applies, where the library is measured faster

    @classmethod
    def _missing_(cls, value: object) -> Mode | None:
        return cls.ALWAYS if value == "rules" else None  # the mode's name before `auto`


@dataclass(frozen=True)
class Options:
    mode: Mode = field(
        default=Mode.ALWAYS,
        metadata={
            "help": "always: the first applicable rule; auto: where the library is measured "
            "faster; never: no library call"
        },
    )
    rules: tuple[str, ...] = field(
        default=(),
        metadata={"help": "op:function rules tried first (function 'none': keep the op)"},
    )
    default_rules: bool = field(
        default=True, metadata={"help": "try the default rules after the others"}
    )

    def __post_init__(self) -> None:
        for text in self.rules:
            try:
                parse_rule(text)
            except ValueError as e:
                raise PipelineError(f"option 'rules' of 'graph-dispatch-libcall': {e}") from None


def active_rules(options: Options) -> list[DispatchRule]:
    """The rules the pass tries with `options`, in order."""
    rules = [parse_rule(text) for text in options.rules] + list(_USER_RULES)
    if options.default_rules:
        rules += DEFAULT_RULES
    return rules


def missing_library(function: str) -> str | None:
    """Why `function` cannot be called here (its library is not installed), or None."""
    entry = registry.lookup(function)
    if entry is None or entry.library.path() is not None:
        return None
    hint = getattr(entry.library, "install_hint", "")
    how = f" ({hint})" if hint else ""
    return f"library '{entry.library.name}' of '{function}' is not installed{how}"


def _decision(
    op: ir.Operation, function: str, choice: str, source: str, note: str = ""
) -> Decision:
    where = autotune.location_text(op.location)
    return Decision(autotune.op_signature(op), function, choice, source, location=where, note=note)


def _stays_for_missing_library(op: ir.Operation, function: str) -> bool:
    """True (with a remark) when `function` would take `op` but its library is not installed."""
    missing = missing_library(function)
    if missing is None or autotune.refusal(op, function) is not None:
        return False
    message = f"{missing}; '{op.name}' stays in generated code"
    emit_remark(op.location, message, always=True)
    autotune.record(_decision(op, function, autotune.GENERATED, "missing library", missing))
    return True


def _remark(op: ir.Operation, decision: Decision) -> None:
    """Say what auto mode chose and why (when remarks are requested)."""

    def us(value: float | None) -> str:
        return "?" if value is None else f"{value:.1f} us"

    if decision.source == "failed":
        message = f"stays in generated code: {decision.function} not measured: {decision.note}"
    else:
        verdict = f"calls {decision.function}" if decision.library else "stays in generated code"
        how = "measured" if decision.source == "measured" else "cached"
        message = (
            f"{verdict}: {decision.function} {us(decision.library_us)}, generated code "
            f"{us(decision.generated_us)} ({how})"
        )
        if decision.note:
            message += f"; {decision.note}"
    emit_remark(op.location, f"'{op.name}' {message}")


def dispatch(
    op: ir.Operation, rules: Sequence[DispatchRule], taken: set[str], mode: Mode = Mode.ALWAYS
) -> str | None:
    """Apply the first rule that takes `op`; the library function it now calls, or None.
    In `auto` mode the function must also beat the generated code (measured, or cached)."""
    for rule in rules:
        if not rule.matches(op):
            continue
        if rule.function == NONE or _stays_for_missing_library(op, rule.function):
            return None
        if mode is Mode.AUTO:
            measured = autotune.decide(op, rule.function)
            if isinstance(measured, str):  # the library refuses these operands
                continue
            _remark(op, autotune.record(measured))
            if not measured.library:
                return None
        decision = _decision(op, rule.function, autotune.LIBRARY, "rule")
        if convert(op, rule.function, taken) is None:  # `op` is erased
            if mode is not Mode.AUTO:
                autotune.record(decision)
            return rule.function
    return None


class GraphDispatchLibcallPass(Pass):
    """Map graph ops onto native library calls by rules (default: f32 matmul to BLAS)"""

    argument = "graph-dispatch-libcall"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        mode = self.options.mode
        if mode is Mode.NEVER:
            return
        autotune.start_decisions()
        rules = active_rules(self.options)
        names = {rule.op for rule in rules}
        taken = symbol_names(module)
        for fn in functions(module):
            if FUSED in fn.attributes:  # left to the fused lowering
                continue
            for op in [op for op in walk(fn) if op.name in names]:
                dispatch(op, rules, taken, mode)
