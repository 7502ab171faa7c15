"""Measured library dispatch (`graph-dispatch-libcall{mode=auto}`): an op's generated tensor
program against a library call, timed once for the op's exact types, the faster remembered on disk.

A measurement builds a module holding the one op (its operands become function arguments; a
transpose the library call absorbs comes along), compiles it twice with Strata's own pipeline,
generated code and the library function forced, checks that both agree and times both compiled
functions in this process (warm-up, then the median of repeated calls, about `BUDGET_S` seconds
per candidate, in alternating rounds after idle gaps). Results go to `dispatch.json` in
`$STRATA_CACHE_DIR` (default `~/.cache/strata`), keyed by the op's signature, the library
function, the target and the thread counts; a cache that cannot be read or written is measured
around, never an error.

Remarks: the pass reports its choices through `strata.diagnostics.emit_remark`; strata-opt
prints them as `file:line:col: remark: ...`, Python callers collect them with
`diagnostics.collect_remarks` or set `STRATA_REMARKS=1` to have them printed on stderr.

>>> from strata.libraries import autotune
>>> cm = strata.compile(module, dispatch="auto")
>>> [(d.function, d.choice, d.generated_us, d.library_us) for d in autotune.last_decisions()]
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.diagnostics import file_line_col

if TYPE_CHECKING:
    import numpy as np
    from mlir import ir

CACHE_FILE = "dispatch.json"
CACHE_FORMAT = 2  # 2: weights measured as constants
BUDGET_S = 0.2  # timed calls per candidate (at least MIN_REPEATS, whatever they take)
MIN_REPEATS, MAX_REPEATS = 3, 2000
# The candidates are timed in alternating rounds, each after an idle gap: the thread pools of the
# one timed before (OpenBLAS's, libomp's) keep spinning for a while and would slow the next.
ROUNDS, IDLE_GAP_S = 2, 0.1
LIBRARY, GENERATED = "library", "generated"


# --- decisions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What `graph-dispatch-libcall` did with one op: `choice` is "library" (the op calls
    `function`) or "generated"; `source` says how it was decided: "measured", "cached",
    "rule" (mode always), "missing library" or "failed" (the measurement could not run)."""

    op: str  # the op's signature (see `op_signature`)
    function: str
    choice: str
    source: str
    generated_us: float | None = None
    library_us: float | None = None
    location: str = ""
    note: str = ""

    @property
    def library(self) -> bool:
        return self.choice == LIBRARY


# The decisions of the latest `graph-dispatch-libcall` run, for the benchmarks and tests.
_DECISIONS: list[Decision] = []


def last_decisions() -> list[Decision]:
    """The decisions of the latest `graph-dispatch-libcall` run (mode always or auto)."""
    return list(_DECISIONS)


def start_decisions() -> None:
    _DECISIONS.clear()


def record(decision: Decision) -> Decision:
    _DECISIONS.append(decision)
    return decision


def location_text(location: ir.Location) -> str:
    file, line, col = file_line_col(location)
    return f"{file}:{line}:{col}" if file else ""


# --- keys ----------------------------------------------------------------------------------------


def _attributes_text(op: ir.Operation) -> str:
    named = [op.attributes[i] for i in range(len(op.attributes))]  # iterating yields names
    attrs = sorted((a.name, str(a.attr)) for a in named)
    return "{" + ", ".join(f"{name} = {value}" for name, value in attrs) + "}" if attrs else ""


def _absorbed(op: ir.Operation) -> list[ir.Operation | None]:
    """Per operand, the producer the libcall form reads through (a transpose), or None."""
    from strata.conversions.graph_to_libcall import LIBCALL_OPS

    form = LIBCALL_OPS.get(op.name)
    operands_of = getattr(form, "operands", None)
    if operands_of is None:
        return [None] * len(op.operands)
    producers: list[ir.Operation | None] = []
    for value, (_, permutation) in zip(op.operands, operands_of(op)):
        producers.append(None if permutation is None else value.owner.operation)
    return producers


def _is_weight(value: ir.Value) -> bool:
    """A `graph.constant` operand: the model's weights, which libraries may re-lay out once
    (oneDNN) and the measurement keeps constant."""
    from mlir import ir

    owner = value.owner
    return isinstance(owner, ir.OpView) and owner.operation.name == "graph.constant"


def op_signature(op: ir.Operation) -> str:
    """The op as the cache knows it: name, operand and result types (`const` for weights),
    attributes (and those of a producer the library call absorbs)."""
    operands = []
    for value, producer in zip(op.operands, _absorbed(op)):
        if producer is None:
            operands.append(("const " if _is_weight(value) else "") + str(value.type))
        else:
            source = producer.operands[0].type
            operands.append(f"{producer.name}({source}){_attributes_text(producer)}")
    results = ", ".join(str(r.type) for r in op.results)
    return f"{op.name}({', '.join(operands)}){_attributes_text(op)} -> ({results})"


def target_key() -> str:
    """The host as code generation sees it: vector width and a digest of the CPU features."""
    from strata.targets.cpu import CPUTarget, host_cpu_flags

    flags = " ".join(sorted(host_cpu_flags()))
    digest = hashlib.sha256(flags.encode()).hexdigest()[:12]
    return f"cpu vector-width={CPUTarget().vector_width} features={digest}"


def _default_threads() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _env_threads(*names: str) -> int | None:
    for name in names:
        try:
            return max(1, int(os.environ.get(name, "").split(",")[0]))
        except ValueError:
            continue
    return None


def _loaded_call(path: Path | None, symbol: str) -> int | None:
    """`symbol()` of a shared library already loaded in this process (never loads it: libomp
    reads its settings when it starts)."""
    if path is None:
        return None
    try:
        library = ctypes.CDLL(str(path), mode=os.RTLD_NOLOAD | os.RTLD_GLOBAL)
        return int(getattr(library, symbol)())
    except (OSError, AttributeError):
        return None


def thread_counts() -> tuple[int, int]:
    """(OpenMP threads of generated code, OpenBLAS threads) as they are in this process."""
    from strata.libraries.openblas import OPENBLAS
    from strata.targets.cpu import openmp_library

    default = _default_threads()
    omp = _loaded_call(openmp_library(), "omp_get_max_threads")
    omp = omp or _env_threads("OMP_NUM_THREADS") or default
    blas = _loaded_call(OPENBLAS.path(), "scipy_openblas_get_num_threads")
    blas = blas or _env_threads("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") or default
    return omp, blas


def cache_key(op: ir.Operation, function: str) -> str:
    omp, blas = thread_counts()
    threads = f"threads={omp}" if omp == blas else f"threads={omp} blas-threads={blas}"
    return " | ".join([op_signature(op), function, target_key(), threads])


# --- the cache -----------------------------------------------------------------------------------


def cache_dir() -> Path:
    """`$STRATA_CACHE_DIR`, else `~/.cache/strata`."""
    configured = os.environ.get("STRATA_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "strata"


def cache_path() -> Path:
    return cache_dir() / CACHE_FILE


def read_cache() -> dict[str, dict[str, Any]]:
    """The cache's entries by key ({} when the file is missing, unreadable or corrupt)."""
    try:
        data = json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return {}
    entries = data.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items() if isinstance(v, dict)}


def write_entry(key: str, entry: dict[str, Any]) -> str | None:
    """Add `entry` under `key` (merged with what the file holds now); why it failed, or None."""
    path = cache_path()
    entries = read_cache()
    entries[key] = entry
    text = json.dumps({"format": CACHE_FORMAT, "entries": entries}, indent=1, sort_keys=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".dispatch-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text + "\n")
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as e:
        return f"cannot write the dispatch cache '{path}': {e.strerror or e}"
    return None


def _cached_decision(entry: dict[str, Any]) -> tuple[str, float | None, float | None] | None:
    choice = entry.get("choice")
    if choice not in (LIBRARY, GENERATED):
        return None

    def latency(name: str) -> float | None:
        value = entry.get(name)
        return float(value) if isinstance(value, (int, float)) else None

    return choice, latency("generated_us"), latency("library_us")


# --- measuring -----------------------------------------------------------------------------------


def _op_text(name: str, op: ir.Operation, args: list[str], types: list[str]) -> str:
    results = ", ".join(str(r.type) for r in op.results)
    return (
        f'  {name} = "{op.name}"({", ".join(args)}) {_attributes_text(op)} : '
        f"({', '.join(types)}) -> ({results})"
    )


def measurement_module(op: ir.Operation) -> str:
    """A `graph` module whose public function `main` computes `op` alone on its arguments;
    weights stay constants (zeros: the time does not depend on their values, and a library that
    re-lays out constant weights once is timed as in the model)."""
    args, lines, operands, types = [], [], [], []
    for i, (value, producer) in enumerate(zip(op.operands, _absorbed(op))):
        source = value.type if producer is None else producer.operands[0].type
        if producer is None and _is_weight(value):
            from mlir import ir

            zero = "0.0" if isinstance(value.type.element_type, ir.FloatType) else "0"
            lines.append(
                f'  %c{i} = "graph.constant"() {{value = dense<{zero}> : {value.type}}} : '
                f"() -> {value.type}"
            )
            operands.append(f"%c{i}")
            types.append(str(value.type))
            continue
        args.append(f"%a{i}: {source}")
        if producer is None:
            operands.append(f"%a{i}")
        else:
            lines.append(_op_text(f"%p{i}", producer, [f"%a{i}"], [str(source)]))
            operands.append(f"%p{i}")
        types.append(str(value.type))
    n = len(op.results)
    lines.append(_op_text("%r" if n == 1 else f"%r:{n}", op, operands, types))
    returned = ["%r"] if n == 1 else [f"%r#{i}" for i in range(n)]
    result_types = ", ".join(str(r.type) for r in op.results)
    return "\n".join(
        [
            f"func.func @main({', '.join(args)}) -> ({result_types}) {{",
            *lines,
            f"  return {', '.join(returned)} : {result_types}",
            "}",
        ]
    )


@dataclass(frozen=True)
class Measurement:
    generated_us: float
    library_us: float


class MeasurementError(Exception):
    """The op could not be measured (it does not compile alone, or the library disagrees)."""


def _inputs(function: Any) -> list[np.ndarray]:
    import numpy as np

    rng = np.random.default_rng(0)
    arrays = []
    for spec in function.signature.inputs:
        if np.issubdtype(spec.dtype, np.floating):
            arrays.append(rng.standard_normal(spec.shape).astype(spec.dtype))
        else:
            arrays.append(np.zeros(spec.shape, spec.dtype))
    return arrays


def time_call(call: Callable[[], object], budget_s: float | None = None) -> float:
    """Median microseconds of `call()` after a warm-up, over about `budget_s` (default
    `BUDGET_S`) of repeats."""
    budget_s = BUDGET_S if budget_s is None else budget_s
    start = time.perf_counter()
    call()  # first call: pages in the buffers, starts the thread pools
    while time.perf_counter() - start < budget_s / 10:
        call()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < MIN_REPEATS or (
        time.perf_counter() - start < budget_s and len(times) < MAX_REPEATS
    ):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def _main_op(module: ir.Operation, name: str) -> ir.Operation:
    from strata.irutil import functions, symbol_name, walk

    (main,) = [fn for fn in functions(module) if symbol_name(fn) == "main"]
    return [op for op in walk(main) if op.name == name][-1]


def _parse(text: str, context: ir.Context) -> ir.Operation:
    from strata.compiler import parse_module

    return parse_module(text, source_name="<dispatch measurement>", context=context)


def refusal(op: ir.Operation, function: str) -> str | None:
    """Why `function` does not take `op`'s operands, or None (checked on a copy of the op)."""
    from strata.conversions.graph_to_libcall import convert
    from strata.diagnostics import CompileError
    from strata.dialects import make_context
    from strata.irutil import symbol_names

    try:
        module = _parse(measurement_module(op), make_context())
    except CompileError as e:
        return f"cannot build the op alone: {e}"
    return convert(_main_op(module, op.name), function, symbol_names(module))


def measure(op: ir.Operation, function: str, *, budget_s: float | None = None) -> Measurement | str:
    """Time `op` as generated code and as a call of `function`; or why `function` refuses the
    op's operands. Raises `MeasurementError` when the op cannot be measured."""
    import numpy as np

    from strata.compiler import compile
    from strata.conversions.graph_to_libcall import convert
    from strata.diagnostics import CompileError
    from strata.dialects import make_context
    from strata.irutil import symbol_names

    text = measurement_module(op)
    context = make_context()
    try:
        generated, library = _parse(text, context), _parse(text, context)
        refused = convert(_main_op(library, op.name), function, symbol_names(library))
        if refused is not None:
            return refused
        compiled = [compile(m)["main"] for m in (generated, library)]
    except CompileError as e:
        raise MeasurementError(f"cannot compile the op alone: {e}") from None
    arrays = _inputs(compiled[0])
    expected, found = (
        [*o] if isinstance(o, tuple) else [o] for o in (f(*arrays) for f in compiled)
    )
    for want, got in zip(expected, found):
        scale = float(np.max(np.abs(want))) if want.size else 0.0
        if not np.allclose(got, want, rtol=1e-3, atol=1e-3 * max(scale, 1.0)):
            raise MeasurementError(f"'{function}' disagrees with the generated code on this op")
    generated_us, library_us = time_candidates([_calling(f, arrays) for f in compiled], budget_s)
    return Measurement(generated_us, library_us)


def _calling(function: Any, arrays: list[np.ndarray]) -> Callable[[], object]:
    return lambda: function(*arrays)


def time_candidates(
    calls: list[Callable[[], object]], budget_s: float | None = None
) -> list[float]:
    """Microseconds of each call: the best round median of `ROUNDS` alternating rounds, each
    after `IDLE_GAP_S` of idling, `budget_s` (default `BUDGET_S`) per call in all."""
    budget_s = BUDGET_S if budget_s is None else budget_s
    best = [float("inf")] * len(calls)
    for _ in range(ROUNDS):
        for i, call in enumerate(calls):
            time.sleep(IDLE_GAP_S)
            best[i] = min(best[i], time_call(call, budget_s / ROUNDS))
    return best


def decide(op: ir.Operation, function: str) -> Decision | str:
    """Generated code or `function` for `op`, from the cache or by measuring (and caching);
    a string says why `function` cannot take the op. The decision is not recorded."""
    key = cache_key(op, function)
    where, signature = location_text(op.location), op_signature(op)
    entry = read_cache().get(key)
    cached = None if entry is None else _cached_decision(entry)
    if cached is not None:
        choice, generated_us, library_us = cached
        return Decision(signature, function, choice, "cached", generated_us, library_us, where)
    try:
        result = measure(op, function)
    except MeasurementError as e:
        return Decision(signature, function, GENERATED, "failed", location=where, note=str(e))
    if isinstance(result, str):
        return result
    choice = LIBRARY if result.library_us < result.generated_us else GENERATED
    decision = Decision(
        signature, function, choice, "measured", result.generated_us, result.library_us, where
    )
    omp, blas = thread_counts()
    entry = {k: v for k, v in asdict(decision).items() if k not in ("source", "location", "note")}
    entry |= {"target": target_key(), "threads": omp, "blas_threads": blas}
    entry["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    problem = write_entry(key, entry)
    if problem is not None:
        return Decision(**(asdict(decision) | {"note": problem}))
    return decision
