"""The main job: the MLC MLP lowered level by level and run on CPU on both paths."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
from mlir import ir

from strata.irutil import walk
from strata.models.mlp import MLPWeights, build_mlp
from strata.pipelines import Pipeline

# (title, passes, what to show: a function name, or an op name whose first use is shown)
STAGES = [
    ("graph (after graph-fuse-ops)", "graph-verify,graph-fuse-ops", "mlp"),
    ("tprog", "convert-graph-to-tprog", "fused_matmul_add_relu"),
    ("hwprim (tensorized)", "convert-tprog-to-hwprim{vector-width=%d}", "hwprim.fma_microkernel"),
    ("llvm", "convert-tprog-to-scf,convert-hwprim-to-vector,convert-libcall-to-func", "mlp"),
]


def op_census(module: ir.Operation) -> str:
    counts = Counter(op.name.split(".")[0] for op in walk(module) if op.name != "builtin.module")
    return ", ".join(f"{d}: {n}" for d, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def excerpt(module: ir.Operation, lines: int, focus: str) -> str:
    """The first `lines` lines of function `focus` (or of the loop nest holding op `focus`)."""
    text = ""
    for op in walk(module):
        if op.name == "func.func" or op.name == "llvm.func":
            if ir.StringAttr(op.attributes["sym_name"]).value == focus:
                text = op.get_asm(large_elements_limit=8)
                break
        elif op.name == focus:
            nest = op
            while nest.parent is not None and nest.parent.name == "scf.for":
                nest = nest.parent
            text = nest.get_asm(large_elements_limit=8)
            break
    body = [line for line in text.split("\n") if line.strip()]
    shown = body[:lines]
    if len(body) > lines:
        shown.append(f"    ... ({len(body) - lines} more lines)")
    return "\n".join(shown)


def time_call(fn, x: np.ndarray, repeat: int = 200) -> float:
    fn(x)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn(x)
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def run_demo(*, batch: int = 1, lines: int = 14, out=print) -> bool:
    """Print the MLP at each level, run both paths, compare with numpy; True when both match."""
    import strata
    from strata.targets import get_target

    weights = MLPWeights.default()
    module = build_mlp(batch, weights)
    out(f"Strata demo: the MLC MLP 784 -> 128 -> relu -> 10, batch {batch}\n")
    staged = ir.Module.parse(
        module.operation.get_asm(enable_debug_info=True), context=module.context
    ).operation
    vw = get_target("cpu").vector_width
    for title, passes, focus in STAGES:
        Pipeline.parse(passes % vw if "%d" in passes else passes).run(staged)
        if title == "llvm":
            lower_to_llvm_tail(staged)
        out(f"== {title}  [{op_census(staged)}]")
        out(excerpt(staged, lines, focus) + "\n")
    libcall = ir.Module.parse(
        module.operation.get_asm(enable_debug_info=True), context=module.context
    ).operation
    Pipeline.parse(
        "graph-verify,convert-graph-to-libcall,graph-fuse-ops,convert-graph-to-tprog"
    ).run(libcall)
    out(f"== libcall path (use-libcall=true)  [{op_census(libcall)}]")
    out(excerpt(libcall, lines, "libcall.matmul") + "\n")

    x = np.random.default_rng(0).standard_normal((batch, 784)).astype(np.float32)
    expected = weights.reference(x)
    ok = True
    out(f"{'path':<28}{'max |err|':>12}{'latency':>14}")
    for label, use_libcall in (
        ("generated code (hwprim)", False),
        ("library call (OpenBLAS)", True),
    ):
        compiled = strata.compile(module, use_libcall=use_libcall)
        y = compiled(x)
        err = float(np.max(np.abs(y - expected)))
        match = np.allclose(y, expected, rtol=1e-5, atol=1e-5)
        ok &= match
        latency = time_call(compiled, x)
        out(f"{label:<28}{err:>12.2e}{latency * 1e6:>11.1f} us  {'OK' if match else 'MISMATCH'}")
    numpy_latency = time_call(weights.reference, x)
    out(f"{'numpy reference':<28}{'':>12}{numpy_latency * 1e6:>11.1f} us")
    return ok


def lower_to_llvm_tail(module: ir.Operation) -> None:
    from strata.targets import get_target

    Pipeline(get_target("cpu").lower_to_llvm()).run(module)
