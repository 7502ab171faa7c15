"""The main job on a user's model: `strata run model.{py,onnx,mlir}`.

Import the model (a Python file defining a `torch.nn.Module`, an ONNX file, or graph-level IR),
compile it for the CPU while summarising each level (ops per dialect, fused groups, tensor
programs, library calls, micro-kernels), run it, and compare with the source framework (PyTorch,
or ONNX Runtime / onnx's reference evaluator) when it is installed.

A model file defines `model` (a `torch.nn.Module`) and `example_inputs` (a tuple of tensors), as
the files in `examples/` do.
"""

from __future__ import annotations

import importlib.util
import runpy
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from mlir import ir

from strata.diagnostics import CompileError
from strata.irutil import functions, is_declaration, is_public, walk

Arrays = list[np.ndarray]
RELATIVE_TOLERANCE = 1e-4


@dataclass
class LoadedModel:
    """A model imported to the `graph` level, with inputs and the framework's own result."""

    source: str
    frontend: str
    module: ir.Operation
    inputs: Arrays
    reference: Callable[[], Arrays] | None = None
    reference_name: str = ""
    import_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _random_inputs(module: ir.Operation, seed: int) -> Arrays:
    from strata.runtime.compiled import Signature

    public = [fn for fn in functions(module) if is_public(fn) and not is_declaration(fn)]
    if not public:
        raise CompileError("the module has no public function to run")
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in Signature.from_func(public[0]).inputs:
        if np.issubdtype(spec.dtype, np.integer):
            arrays.append(rng.integers(0, 2, spec.shape).astype(spec.dtype))
        else:
            arrays.append(rng.standard_normal(spec.shape).astype(spec.dtype))
    return arrays


def _load_python(path: Path) -> LoadedModel:
    if importlib.util.find_spec("torch") is None:
        raise CompileError(f"{path}: a Python model file needs PyTorch: pip install torch==2.13.0")
    import torch

    sys.path.insert(0, str(path.parent.resolve()))
    try:
        namespace = runpy.run_path(str(path), run_name="__strata_model__")
    finally:
        sys.path.pop(0)
    model, example = namespace.get("model"), namespace.get("example_inputs")
    if not isinstance(model, torch.nn.Module) or example is None:
        raise CompileError(
            f"{path}: a model file defines `model` (a torch.nn.Module) and `example_inputs` "
            "(a tuple of tensors)"
        )
    example = tuple(example) if isinstance(example, (tuple, list)) else (example,)
    from strata.frontends.torch_export import from_torch

    start = time.perf_counter()
    module = from_torch(model, example).operation
    seconds = time.perf_counter() - start

    def reference() -> Arrays:
        with torch.no_grad():
            out = model(*example)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return [o.detach().numpy() for o in outs]

    return LoadedModel(
        str(path),
        "torch.export",
        module,
        [t.detach().numpy() for t in example],
        reference,
        f"PyTorch {torch.__version__} eager",
        seconds,
    )


def _onnx_reference(path: Path, inputs: Arrays, threads: int | None):
    """ONNX Runtime (or onnx.reference) on the file: the reference `strata run` compares with."""
    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:  # else ORT's default, as Strata's
            options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        return (
            lambda: list(session.run(None, dict(zip(names, inputs)))),
            f"ONNX Runtime {ort.__version__}",
        )
    from onnx.reference import ReferenceEvaluator

    evaluator = ReferenceEvaluator(str(path))
    names = list(evaluator.input_names)
    return lambda: list(evaluator.run(None, dict(zip(names, inputs)))), "onnx.reference"


def _load_onnx(path: Path, seed: int, threads: int | None) -> LoadedModel:
    from strata.frontends.onnx import from_onnx

    start = time.perf_counter()
    module = from_onnx(path).operation
    seconds = time.perf_counter() - start
    inputs = _random_inputs(module, seed)
    loaded = LoadedModel(str(path), "ONNX", module, inputs, import_seconds=seconds)
    try:
        loaded.reference, loaded.reference_name = _onnx_reference(path, inputs, threads)
    except Exception as e:  # noqa: BLE001 - a runtime that refuses the file: nothing to compare
        # (Strata imported it; ONNX Runtime may still refuse, e.g. a graph without a name.)
        loaded.reference, loaded.reference_name = None, f"none (ONNX Runtime: {e})"
    return loaded


def load_model_file(path: str | Path, *, seed: int = 0, threads: int | None = None) -> LoadedModel:
    """Import a `.py` model file, an `.onnx` file or a graph-level `.mlir` file."""
    path = Path(path)
    if not path.is_file():
        raise CompileError(f"no such model file: '{path}'")
    if path.suffix == ".py":
        return _load_python(path)
    if path.suffix == ".onnx":
        return _load_onnx(path, seed, threads)
    if path.suffix == ".mlir":
        from strata.compiler import parse_module

        module = parse_module(path.read_text(), source_name=str(path))
        return LoadedModel(str(path), "MLIR", module, _random_inputs(module, seed))
    raise CompileError(f"'{path}': expected a .py model file, an .onnx file or a .mlir file")


# --- per-level summary ---------------------------------------------------------------------------


def census(module: ir.Operation) -> Counter:
    """Ops per dialect (the module and function ops aside)."""
    return Counter(
        op.name.split(".")[0]
        for op in walk(module)
        if op.name not in ("builtin.module", "func.func", "func.return")
    )


def level_summary(level: str, module: ir.Operation, label: str | None = None) -> str:
    """One line: the level (shown as `label`), ops per dialect, and what it is made of."""
    counts = census(module)
    ops = ", ".join(f"{d} {n}" for d, n in counts.most_common(4))
    if len(counts) > 4:
        ops += f", {sum(counts.values()) - sum(n for _, n in counts.most_common(4))} other"
    fns = list(functions(module))
    if level == "graph":
        fused = sum(1 for fn in fns if "graph.fused" in fn.attributes)
        loose = sum(
            1
            for fn in fns
            if "graph.fused" not in fn.attributes
            for op in walk(fn)
            if op.name.startswith("graph.") and op.name != "graph.constant"
        )
        detail = f"{fused} fused groups, {loose} unfused ops"
    elif level == "tprog":
        prims = sum(1 for fn in fns if "tprog.prim_func" in fn.attributes)
        detail = f"{prims} tensor programs, {counts.get('tprog', 0)} blocks"
    elif level == "libcall/hwprim":
        calls = Counter(
            ir.StringAttr(op.attributes["callee"]).value
            for op in walk(module)
            if op.name.startswith("libcall.")
        )
        libs = ", ".join(f"{n} {c}" for c, n in calls.items()) or "none"
        kernels = sum(1 for op in walk(module) if op.name.startswith("hwprim."))
        detail = f"library calls: {libs}; hwprim micro-kernels: {kernels}"
    else:
        detail = f"{sum(1 for op in walk(module) if op.name == 'llvm.func')} LLVM functions"
    return f"  {label or level:<15}{ops:<56} {detail}"


# --- running and comparing -----------------------------------------------------------------------


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected| / max |expected| (the absolute error when expected is all 0)."""
    diff = float(np.max(np.abs(actual.astype(np.float64) - expected), initial=0.0))
    scale = float(np.max(np.abs(expected), initial=0.0))
    return diff / scale if scale else diff


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_model(
    path: str | Path,
    *,
    use_libcall: bool = False,
    dispatch: str = "never",
    threads: int | None = None,
    repeat: int = 10,
    seed: int = 0,
    compare: bool = True,
    out: Callable[[str], None] = print,
) -> bool:
    """Import, compile with a per-level summary, run, and compare; True when the results match
    the source framework (or there is none to compare with)."""
    import strata

    if threads is not None:
        strata.set_num_threads(threads)
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
    loaded = load_model_file(path, seed=seed, threads=threads)
    out(f"{loaded.source}: imported through {loaded.frontend} in {loaded.import_seconds:.2f} s")
    out(level_summary("graph", loaded.module, label="imported"))

    start = time.perf_counter()
    compiled = strata.compile(
        loaded.module,
        use_libcall=use_libcall,
        dispatch=dispatch,
        on_level=lambda lv, m: out(level_summary(lv, m)),
    )
    out(f"compiled in {time.perf_counter() - start:.2f} s")
    results = compiled(*loaded.inputs)
    results = list(results) if isinstance(results, tuple) else [results]
    strata_s = median_seconds(lambda: compiled(*loaded.inputs), repeat)
    out(f"Strata: {strata_s * 1e3:.3f} ms per call (median of {repeat})")
    if not compare or loaded.reference is None:
        out("no framework to compare with" if compare else "comparison skipped")
        return True
    expected = loaded.reference()
    ref_s = median_seconds(loaded.reference, repeat)
    out(f"{loaded.reference_name}: {ref_s * 1e3:.3f} ms per call ({ref_s / strata_s:.2f}x Strata)")
    return compare_outputs(results, expected, out)


def compare_outputs(results: Sequence[np.ndarray], expected: Sequence[np.ndarray], out) -> bool:
    if len(results) != len(expected):
        out(f"MISMATCH: {len(results)} results, the framework gives {len(expected)}")
        return False
    ok = True
    for i, (y, ref) in enumerate(zip(results, expected)):
        if y.shape != ref.shape:
            out(f"output {i}: MISMATCH: shape {y.shape}, expected {ref.shape}")
            ok = False
            continue
        err = relative_error(y, ref)
        match = err <= RELATIVE_TOLERANCE
        ok &= match
        verdict = "OK" if match else "MISMATCH"
        out(f"output {i}: {'x'.join(map(str, y.shape))}  max relative error {err:.2e}  {verdict}")
    return ok


def compile_cuda_artifact(
    module: ir.Operation,
    loaded: LoadedModel | None,
    output: str,
    *,
    chip: str = "",
    dispatch: str | None = None,
    seed: int = 0,
    out=sys.stderr,
) -> Path:
    """`strata compile --target cuda`: the artifact directory of `module`, with inputs.npz and
    expected.npz (the framework's outputs, or for a .mlir file the CPU-compiled module's)."""
    import strata
    from strata.targets.cuda_artifact import compile_cuda

    inputs = loaded.inputs if loaded is not None else _random_inputs(module, seed)
    if loaded is not None and loaded.reference is not None:
        expected, source = loaded.reference(), loaded.reference_name
    else:
        expected, source = strata.compile(module)(*inputs), "Strata on the CPU"
    if not isinstance(expected, (list, tuple)):
        expected = [expected]
    artifact = compile_cuda(
        module, chip=chip, dispatch=dispatch or "never", inputs=inputs, reference=expected
    )
    path = artifact.save(output)
    kernels = sum(1 for s in artifact.manifest["steps"] if s["op"] == "launch")
    ptx = sum(len(t) for t in artifact.ptx.values())
    print(
        f"cuda {artifact.chip}: {kernels} kernel launches, "
        f"{len(artifact.manifest['steps']) - kernels} other steps, PTX {ptx} bytes, "
        f"cubin {'yes' if artifact.cubins else 'no (ptxas not found)'}, "
        f"weights {len(artifact.weights)} bytes; expected outputs from {source}",
        file=out,
    )
    print(f"wrote {path}/ (run it where a GPU is: python {path}/runtime.py {path})", file=out)
    return path
