"""The tuner: random search, then an evolutionary step that changes one decision of the best
schedules, each candidate compiled and timed on the JIT (warm-up, then the median of repeated
calls). Sampling is seeded; which candidates become parents depends on their measured times."""

from __future__ import annotations

import copy
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mlir import ir

from strata.irutil import functions, symbol_name
from strata.transforms.tprog.schedule import Schedule
from strata.transforms.tprog.trace import Trace
from strata.tuning.database import Database, Record, workload_key
from strata.tuning.space import default_decisions, sketch

MIN_GAIN = 0.03  # the final winner must be this much faster than the default schedule


@dataclass
class Candidate:
    decisions: list[list[int]]
    trace: str
    latency_us: float


def _standalone(fn: ir.Operation) -> ir.Module:
    """A module holding only `fn`, made public (tensor programs call nothing else)."""
    text = fn.get_asm(enable_debug_info=True).replace(" private @", " @", 1)
    text = text.replace('sym_visibility = "private"', "")
    return ir.Module.parse(f"module {{\n{text}\n}}", context=fn.context)


def measure(
    fn_module: ir.Module, name: str, *, repeats: int = 20, give_up_us: float = float("inf")
) -> float:
    """Median microseconds of one call of `name` in a tprog-level module on random buffers,
    between 3 and `repeats` calls within about 0.2 s. A schedule whose first call is slower
    than `give_up_us` is not timed further (it returns that first time)."""
    from mlir.execution_engine import ExecutionEngine

    from strata.pipelines import Pipeline
    from strata.runtime.compiled import CompiledFunction, Signature, TensorSpec
    from strata.targets import get_target

    target = get_target("cpu")
    fn = next(f for f in functions(fn_module.operation) if symbol_name(f) == name)
    ftype = ir.TypeAttr(fn.attributes["function_type"]).value
    specs = tuple(TensorSpec.from_type(t) for t in ftype.inputs)
    Pipeline(target.lower_tensor_programs(tensorize=True) + target.lower_to_llvm()).run(fn_module)
    libs = target.runtime_libraries(fn_module.operation)
    engine = ExecutionEngine(fn_module, opt_level=3, shared_libs=libs)
    call = CompiledFunction(engine, Signature(name, specs, ()))
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s.shape).astype(s.dtype) for s in specs]
    start = time.perf_counter()
    call(*arrays)
    first = (time.perf_counter() - start) * 1e6
    if first > give_up_us:
        return first
    call(*arrays)
    times: list[float] = []
    deadline = time.perf_counter() + 0.2
    while len(times) < 3 or (time.perf_counter() < deadline and len(times) < repeats):
        start = time.perf_counter()
        call(*arrays)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _progress(label: str, done: int, total: int, best: float) -> None:
    """A progress bar on a terminal; one line per finished program otherwise."""
    if not sys.stderr.isatty():
        if done == total:
            sys.stderr.write(f"{label}: {total} schedules measured, best {best:.1f} us\n")
        return
    width = 24
    filled = width * done // max(total, 1)
    bar = "#" * filled + "-" * (width - filled)
    sys.stderr.write(f"\r{label:<28} [{bar}] {done}/{total}  best {best:9.1f} us")
    sys.stderr.flush()
    if done == total:
        sys.stderr.write("\n")


def _template(fn: ir.Operation, name: str, vw: int) -> Trace:
    """The sketch's trace on a copy of `fn`: its sampling instructions are the decisions a
    candidate fixes (sampled here once, replaced per candidate)."""
    probe = Schedule(_standalone(fn), name)
    sketch(probe, vw)
    return probe.trace


def _samples(template: Trace) -> list:
    return [ins for ins in template.instructions if ins.kind == "sample_categorical"]


def _run_decisions(fn: ir.Operation, name: str, template: Trace, decisions: list[list[int]]):
    """Apply the sketch with `decisions` to a copy of `fn`: (module, trace)."""
    trace = Trace(template.func_name, [copy.copy(ins) for ins in template.instructions])
    for ins, decision in zip(_samples(trace), decisions):
        ins.decision = decision
    module = _standalone(fn)
    sch = Schedule(module, name)
    trace.apply(sch)
    return module, sch.trace


def tune(
    module: ir.Module | ir.Operation,
    *,
    database: str | Path,
    trials: int = 32,
    seed: int = 0,
    time_budget_s: float | None = None,
    progress: bool = True,
) -> dict[str, tuple[float, float]]:
    """Tune every tensor program of a `graph` or `tprog` module; return, per function, the
    default schedule's and the best schedule's latency in microseconds. The first trial of each
    program is its default schedule."""
    from strata.pipelines import Pipeline
    from strata.targets import get_target

    vw = get_target("cpu").vector_width
    target_key = f"cpu/{vw}"
    work = ir.Module.parse(module.operation.get_asm(enable_debug_info=True), context=module.context)
    Pipeline.parse("graph-verify,graph-fuse-ops,convert-graph-to-tprog").run(work)
    db = Database(database)
    rng = random.Random(seed)
    results: dict[str, tuple[float, float]] = {}
    deadline = None if time_budget_s is None else time.perf_counter() + time_budget_s
    for fn in functions(work.operation):
        if "tprog.prim_func" not in fn.attributes:
            continue
        name = symbol_name(fn)
        template = _template(fn, name, vw)
        arity = [len(ins.inputs["candidates"]) for ins in _samples(template)]
        if not arity:
            continue  # nothing the search space covers
        key = workload_key(fn)
        candidates: list[Candidate] = []
        n_random = max(1, trials // 2)
        for trial in range(trials):
            if deadline is not None and time.perf_counter() > deadline:
                break
            if trial == 0:  # the default schedule, as a trace
                decisions = default_decisions(Schedule(_standalone(fn), name), vw)
            elif trial <= n_random:
                decisions = [[rng.randrange(n)] for n in arity]
            else:  # evolutionary step: change one decision of one of the best schedules
                parents = sorted(candidates, key=lambda c: c.latency_us)[:4]
                parent = rng.choice(parents)
                decisions = [list(d) for d in parent.decisions]
                slot = rng.randrange(len(decisions))
                decisions[slot] = [rng.randrange(arity[slot])]
            candidate_module, trace = _run_decisions(fn, name, template, decisions)
            best_so_far = min((c.latency_us for c in candidates), default=float("inf"))
            latency = measure(candidate_module, name, give_up_us=4 * best_so_far)
            candidates.append(Candidate(decisions, str(trace), latency))
            db.add(Record(key, name, target_key, latency, str(trace)))
            if progress:
                best = min(c.latency_us for c in candidates)
                _progress(name, trial + 1, trials, best)
        if candidates:
            winner, times = _final(fn, name, template, candidates)
            db.add(
                Record(key, name, target_key, times[winner], candidates[winner].trace, final=True)
            )
            results[name] = (times[0], times[winner])
    return results


def _final(
    fn: ir.Operation, name: str, template: Trace, candidates: list[Candidate], rounds: int = 3
) -> tuple[int, dict[int, float]]:
    """Re-measure the default schedule and the three fastest others in alternation; the winner
    is the lowest median if it beats the default by MIN_GAIN (candidate index, and each
    finalist's median time)."""
    ranked = sorted(range(1, len(candidates)), key=lambda i: candidates[i].latency_us)
    finalists = [0, *ranked[:3]]
    samples: dict[int, list[float]] = {i: [] for i in finalists}
    for _ in range(rounds):
        for i in finalists:
            module, _trace = _run_decisions(fn, name, template, candidates[i].decisions)
            samples[i].append(measure(module, name))
    medians = {i: statistics.median(s) for i, s in samples.items()}
    best = min(medians, key=lambda i: medians[i])
    # A schedule must beat the default clearly: a program timed alone is a noisy proxy for it
    # inside a model, and a tie is not worth a different schedule.
    if medians[best] > (1 - MIN_GAIN) * medians[0]:
        best = 0
    return best, medians
