"""`strata bisect`: which pass broke the numbers.

The pipeline (default `strata-lower-to-llvm`) runs one pass at a time on a copy of the model.
After each pass the IR is executed on the same inputs: by the simulator (`strata.simulate`: numpy
semantics of every level down to the vector dialect) where it can, by the JIT once the module is
in the LLVM dialect, and skipped in between (partially lowered IR that neither runs). Each result
is compared with the reference: the input module simulated at the graph level, each op by the
numpy reference next to its lowering. The first pass after which the results diverge beyond the
tolerance is reported, with the IR before and after it and the `strata-opt` command that replays
it, written to a reproducer directory.

>>> report = strata.bisect(module, seed=0)        # or a torch module with inputs, a path, ...
>>> print(report.table())
>>> report.first_divergence                      # the Step, or None when every pass agrees
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mlir import ir

from strata.diagnostics import CompileError
from strata.irutil import functions, is_declaration, is_public, walk
from strata.pipelines import Element, Pipeline, element_name, parse_pipeline

DEFAULT_PIPELINE = "strata-lower-to-llvm"


@dataclass
class Step:
    """The state after one pass: how it was executed and how far it is from the reference."""

    index: int  # 0: the input module
    element: str  # the pass as pipeline text
    how: str  # "simulator", "JIT", "not run" or "pass failed"
    note: str = ""  # why a state was not run
    max_error: float | None = None  # max |result - reference| / (atol + rtol |reference|)
    agrees: bool | None = None  # None: not run

    @property
    def ran(self) -> bool:
        return self.agrees is not None


@dataclass
class BisectReport:
    steps: list[Step]
    rtol: float
    atol: float
    first_divergence: Step | None = None
    last_agreement: Step | None = None  # the last executed state that agreed before it
    reproducer: Path | None = None
    failure: str | None = None  # a pass that failed outright
    suspects: list[Step] = field(default_factory=list)  # passes between the two states

    def table(self) -> str:
        lines = [f"{'#':>3}  {'pass':<58} {'executed by':<22} {'error':>9}  agrees"]
        for s in self.steps:
            error = "" if s.max_error is None else f"{s.max_error:9.2e}"
            agrees = {True: "yes", False: "NO", None: "-"}[s.agrees]
            name = s.element if len(s.element) <= 58 else s.element[:55] + "..."
            lines.append(f"{s.index:>3}  {name:<58} {s.how:<22} {error:>9}  {agrees}")
        lines.append(self.verdict())
        return "\n".join(lines)

    def verdict(self) -> str:
        if self.failure:
            return self.failure
        if self.first_divergence is None:
            tolerance = f"rtol {self.rtol}, atol {self.atol}"
            return f"every executed state agrees with the reference ({tolerance})"
        bad = self.first_divergence
        text = f"first divergence after pass {bad.index}: {bad.element}"
        if len(self.suspects) > 1:
            names = ", ".join(f"{s.index} {s.element}" for s in self.suspects)
            text += f" (the states after passes {names} could not be run: any of them)"
        if self.reproducer is not None:
            text += f"\nreproducer: {self.reproducer} (run {self.reproducer / 'reproduce.sh'})"
        return text


def _signature_specs(module: ir.Operation):
    from strata.runtime.compiled import Signature

    public = [fn for fn in functions(module) if is_public(fn) and not is_declaration(fn)]
    if len(public) != 1:
        raise CompileError(f"bisect needs one public function, found {len(public)}")
    return Signature.from_func(public[0])


def _random_inputs(signature, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in signature.inputs:
        if np.issubdtype(spec.dtype, np.floating):
            arrays.append(rng.standard_normal(spec.shape).astype(spec.dtype))
        else:
            arrays.append(rng.integers(-8, 8, spec.shape).astype(spec.dtype))
    return arrays


def _is_llvm(module: ir.Operation) -> bool:
    return all(
        op.name == "builtin.module" or op.name.split(".")[0] in ("llvm", "omp")
        for op in walk(module)
    )


def _simulate(module: ir.Operation, signature, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Simulate the public function; after buffer-results-to-out-params the results are buffers
    passed after the inputs, filled in place."""
    from strata.interpreter import SimulationError, simulate

    fn = next((f for f in functions(module) if is_public(f) and not is_declaration(f)), None)
    if fn is None:
        raise SimulationError("no public func.func left to simulate")
    ftype = ir.TypeAttr(fn.attributes["function_type"]).value
    if len(ftype.results) == 0 and len(ftype.inputs) == len(arrays) + len(signature.results):
        outs = [np.zeros(s.shape, s.dtype) for s in signature.results]
        simulate(module, *arrays, *outs)
        return outs
    return [np.asarray(x) for x in simulate(module, *arrays)]


def _jit(module: ir.Operation, signature, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    from mlir.execution_engine import ExecutionEngine

    from strata.libraries.registry import shared_libraries
    from strata.runtime.compiled import CompiledFunction
    from strata.targets import get_target

    libs = shared_libraries(module) + get_target("cpu").runtime_libraries(module)
    copy = ir.Module.parse(module.get_asm(), context=module.context)
    engine = ExecutionEngine(copy, opt_level=2, shared_libs=libs)
    result = CompiledFunction(engine, signature)(*arrays)
    return list(result) if isinstance(result, tuple) else [result]


def _execute(module: ir.Operation, signature, arrays) -> tuple[str, str, list[np.ndarray] | None]:
    """(how, why not, results): by the JIT once all LLVM, else by the simulator."""
    from strata.interpreter import SimulationError, UnsupportedOp

    if _is_llvm(module):
        try:
            return "JIT", "", _jit(module, signature, arrays)
        except RuntimeError as e:
            return "not run", f"JIT failed: {e}", None
    try:
        return "simulator", "", _simulate(module, signature, arrays)
    except UnsupportedOp as e:
        unsupported = sorted({d.message.split("'")[1] for d in e.diagnostics if "'" in d.message})
        return "not run", f"no simulator semantics for {', '.join(unsupported)}", None
    except SimulationError as e:
        return "not run", str(e).splitlines()[0], None


def _error(got: list[np.ndarray], want: list[np.ndarray], rtol: float, atol: float) -> float:
    """Max over results of |got - want| / (atol + rtol |want|): above 1 is a divergence."""
    worst = 0.0
    for g, w in zip(got, want):
        if g.shape != w.shape:
            return float("inf")
        g64, w64 = g.astype(np.float64), w.astype(np.float64)
        with np.errstate(invalid="ignore"):
            ratio = np.abs(g64 - w64) / (atol + rtol * np.abs(w64))
        nan = np.isnan(g64) != np.isnan(w64)
        if nan.any():
            return float("inf")
        worst = max(worst, float(np.nanmax(ratio, initial=0.0)))
    return worst


def _element_text(element: Element) -> str:
    return element if isinstance(element, str) else repr(element)


def _write_reproducer(
    out: Path, before: str, after: str, element: Element, report_table: str
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "before.mlir").write_text(before)
    (out / "after.mlir").write_text(after)
    pipeline = f"builtin.module({_element_text(element)})"
    installed = Path(sys.executable).parent / "strata-opt"
    opt = str(installed) if installed.is_file() else "strata-opt"
    script = (
        "#!/bin/sh\n# Replays the pass after which strata bisect saw the results diverge.\n"
        f"{shlex.quote(opt)} {shlex.quote(str(out / 'before.mlir'))} "
        f'--pass-pipeline={shlex.quote(pipeline)} "$@"\n'
    )
    (out / "reproduce.sh").write_text(script)
    (out / "reproduce.sh").chmod(0o755)
    (out / "report.txt").write_text(report_table + "\n")
    return out


def bisect(
    model: Any,
    example_inputs: Sequence[Any] | None = None,
    *,
    inputs: Sequence[np.ndarray] | None = None,
    pipeline: str | Sequence[Element] = DEFAULT_PIPELINE,
    seed: int = 0,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    out_dir: str | Path | None = None,
    keep_going: bool = False,
) -> BisectReport:
    """Run `pipeline` one pass at a time on `model` (anything `strata.compile` takes), execute
    the IR after each pass on `inputs` (default: random with `seed`), compare with the graph-level
    reference, and report the first pass whose results diverge; `out_dir` gets the reproducer.
    `keep_going` executes every state instead of stopping at the first divergence."""
    from strata.compiler import import_model
    from strata.interpreter import SimulationError

    source = import_model(model, example_inputs)
    module = ir.Module.parse(source.get_asm(enable_debug_info=True), context=source.context)
    signature = _signature_specs(module.operation)
    arrays = list(inputs) if inputs is not None else _random_inputs(signature, seed)
    try:
        reference = _simulate(module.operation, signature, arrays)
    except SimulationError as e:
        raise CompileError(f"bisect: cannot compute the reference at the graph level: {e}") from e
    elements = parse_pipeline(pipeline) if isinstance(pipeline, str) else list(pipeline)
    report = BisectReport([Step(0, "(input)", "simulator", max_error=0.0, agrees=True)], rtol, atol)
    report.last_agreement = report.steps[0]
    unrun: list[Step] = []
    for index, element in enumerate(elements, start=1):
        before = module.operation.get_asm(enable_debug_info=True)
        try:
            Pipeline([element]).run(module.operation)
        except CompileError as e:
            report.steps.append(Step(index, _element_text(element), "pass failed"))
            report.failure = f"pass {index} ({element_name(element)}) failed: {e}"
            break
        how, note, results = _execute(module.operation, signature, arrays)
        step = Step(index, _element_text(element), how, note)
        report.steps.append(step)
        if results is None:
            unrun.append(step)
            continue
        step.max_error = _error(results, reference, rtol, atol)
        step.agrees = step.max_error <= 1.0
        if step.agrees:
            report.last_agreement, unrun = step, []
            continue
        if report.first_divergence is None:
            report.first_divergence = step
            report.suspects = [*unrun, step]
            if out_dir is not None:
                after = module.operation.get_asm(enable_debug_info=True)
                # With unrun states in between, replay all of them from the last agreeing state.
                report.reproducer = Path(out_dir)
                replay = element if not unrun else None
                _write_reproducer(
                    Path(out_dir),
                    before if replay is not None else _state_before(source, elements, unrun[0]),
                    after,
                    replay if replay is not None else _joined(elements, unrun[0], step),
                    report.table(),
                )
            if not keep_going:
                break
    return report


def _state_before(source: ir.Operation, elements: Sequence[Element], first: Step) -> str:
    """The IR before pass `first` (re-run from the input: only needed when states were skipped)."""
    module = ir.Module.parse(source.get_asm(enable_debug_info=True), context=source.context)
    if first.index > 1:
        Pipeline(list(elements[: first.index - 1])).run(module.operation)
    return module.operation.get_asm(enable_debug_info=True)


def _joined(elements: Sequence[Element], first: Step, last: Step) -> str:
    return ",".join(_element_text(e) for e in elements[first.index - 1 : last.index])
