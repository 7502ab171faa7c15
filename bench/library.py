"""Library vs generated code: each op `graph-dispatch-libcall` can hand to a library, compiled alone
as Strata's generated tensor program and as the library call, timed both ways, with the choice
`dispatch="auto"` makes for it (measured in a fresh cache, on the same threads).

Cases: square sgemm, the MLP's layers, a skinny matmul, the transformer's linear layers and
attention matmuls (batched, the scores reading k through a transposed view), conv2d when the
registry has a `onednn.conv2d` entry, and the rows `int8_rows` adds (int8 matmul vs f32).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from bench.timing import measure

SECTION = "## Library vs generated code"
GPU_SECTION = "## GPU (CUDA target)"


@dataclass(frozen=True)
class Case:
    """One op alone: `build(builder)` adds the inputs and the op and returns its result."""

    group: str
    shape: str
    op: str  # the graph op
    function: str  # the library function it is compared with
    build: Callable
    flops: float

    @property
    def name(self) -> str:
        return f"library {self.group} {self.shape}"


def _matmul(m: int, k: int, n: int, batch: tuple[int, ...] = (), transposed_rhs: bool = False):
    def build(b):
        lhs = b.input((*batch, m, k))
        if not transposed_rhs:
            return b.matmul(lhs, b.input((*batch, k, n)))
        rank = len(batch) + 2  # rhs arrives as (n, k) and is read through a transpose
        permutation = (*range(rank - 2), rank - 1, rank - 2)
        return b.matmul(lhs, b.transpose(b.input((*batch, n, k)), permutation))

    return build


def _matmul_case(group: str, m: int, k: int, n: int, **kw) -> Case:
    batch = kw.get("batch", ())
    prefix = "x".join(map(str, batch)) + " x " if batch else ""
    shape = f"{prefix}{m}x{k}x{n}" + (" (rhs transposed)" if kw.get("transposed_rhs") else "")
    flops = 2.0 * m * k * n * int(np.prod(batch or (1,)))
    return Case(group, shape, "graph.matmul", "openblas.sgemm", _matmul(m, k, n, **kw), flops)


def _conv_cases() -> list[Case]:
    """conv2d against `onednn.conv2d`, when the registry has one and conv2d has a libcall form."""
    from strata.conversions.graph_to_libcall import LIBCALL_OPS
    from strata.libraries import registry

    if registry.lookup("onednn.conv2d") is None or "graph.conv2d" not in LIBCALL_OPS:
        return []
    # (input NCHW, output channels, kernel, stride, padding): ResNet-18's and the conv block's
    shapes = [
        ((1, 3, 224, 224), 64, 7, 2, 3),
        ((1, 64, 56, 56), 64, 3, 1, 1),
        ((1, 128, 28, 28), 128, 3, 1, 1),
        ((1, 256, 14, 14), 256, 3, 1, 1),
    ]
    cases = []
    for (n, c, h, w), o, k, s, p in shapes:

        def build(b, n=n, c=c, h=h, w=w, o=o, k=k, s=s, p=p):
            x, weight = b.input((n, c, h, w)), b.input((o, c, k, k))
            return b.conv2d(x, weight, strides=(s, s), padding=(p, p))

        out = (h + 2 * p - k) // s + 1
        flops = 2.0 * n * o * out * out * c * k * k
        shape = f"{n}x{c}x{h}x{w} * {o}x{c}x{k}x{k} s{s} p{p}"
        cases.append(Case("conv2d", shape, "graph.conv2d", "onednn.conv2d", build, flops))
    return cases


def cases(quick: bool) -> list[Case]:
    sizes = (64, 128, 256) if quick else (64, 128, 256, 512, 1024, 2048)
    items = [_matmul_case("sgemm", s, s, s) for s in sizes]
    for batch in (1, 64):
        items += [
            _matmul_case(f"MLP batch {batch}", batch, 784, 128),
            _matmul_case(f"MLP batch {batch}", batch, 128, 10),
        ]
    items.append(_matmul_case("skinny", 32, 2048, 2048))
    if not quick:  # examples/transformer.py: seq 128, d_model 256, 4 heads, FFN 1024
        for k, n in ((256, 768), (256, 256), (256, 1024), (1024, 256)):
            items.append(_matmul_case("transformer linear", 128, k, n))
        items.append(
            _matmul_case("attention q·kᵀ", 128, 64, 128, batch=(1, 4), transposed_rhs=True)
        )
        items.append(_matmul_case("attention p·v", 128, 128, 64, batch=(1, 4)))
    return items + _conv_cases()


INT8_SHAPES = (
    (64, 784, 128),
    (128, 256, 1024),
    (256, 256, 256),
    (512, 512, 512),
    (1024, 1024, 1024),
)


def int8_rows(threads: int, min_time_s: float) -> list[dict]:
    """An int8 matmul (i8 x i8 into i32: `hwprim.dot_i8_microkernel`, AVX-512 VNNI, where the
    host has it) against the f32 matmul of the same shape (`hwprim.fma_microkernel`), both
    generated code; checked against numpy first. Rows: `int8_us`, `f32_us`, `vnni`."""
    import strata
    from strata.targets.cpu import CPUTarget

    rows = []
    rng = np.random.default_rng(0)
    for m, k, n in INT8_SHAPES:
        compiled = {}
        for dtype in ("i8", "f32"):
            b = strata.GraphBuilder("mm")
            compiled[dtype] = strata.compile(
                b.finish(b.matmul(b.input((m, k), dtype), b.input((k, n), dtype)))
            )
        a8 = rng.integers(-128, 128, (m, k)).astype(np.int8)
        b8 = rng.integers(-128, 128, (k, n)).astype(np.int8)
        ok = bool(np.array_equal(compiled["i8"](a8, b8), a8.astype(np.int32) @ b8.astype(np.int32)))
        af, bf = a8.astype(np.float32), b8.astype(np.float32)
        t8 = measure(lambda a8=a8, b8=b8, f=compiled["i8"]: f(a8, b8), min_time_s=min_time_s)
        tf = measure(lambda af=af, bf=bf, f=compiled["f32"]: f(af, bf), min_time_s=min_time_s)
        row = {
            "kind": "int8",
            "shape": f"{m}x{k}x{n}",
            "threads": threads,
            "int8_us": t8.min_s * 1e6,
            "f32_us": tf.min_s * 1e6,
            "gops_int8": 2.0 * m * k * n / t8.min_s / 1e9,
            "gflops_f32": 2.0 * m * k * n / tf.min_s / 1e9,
            "vnni": CPUTarget().vnni,
            "ok": ok,
        }
        print(
            f"int8 matmul {row['shape']:<16} {threads}T int8 {row['int8_us']:10.1f} us  "
            f"f32 {row['f32_us']:10.1f} us  f32/int8 {row['f32_us'] / row['int8_us']:5.2f}"
            f"{'' if ok else '  MISMATCH'}",
            flush=True,
        )
        rows.append(row)
    return rows


def int8_markdown(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    vnni = "with AVX-512 VNNI (`vpdpbusd`)" if rows[0]["vnni"] else "without VNNI (generic loops)"
    lines = [
        "",
        f"### int8 matmul vs f32 ({vnni})",
        "",
        "Generated code both: i8 x i8 into i32 through `hwprim.dot_i8_microkernel` (rhs packed "
        "in VNNI layout, lhs shifted by 128 and corrected by column sums, each call) against "
        "the f32 matmul through `hwprim.fma_microkernel`; min µs per call.",
        "",
        "| shape (MxKxN) | threads | int8 µs | f32 µs | f32 / int8 | int8 GOPS | f32 GFLOPS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['shape']}{'' if r['ok'] else ' (MISMATCH)'} | {r['threads']} "
            f"| {r['int8_us']:.1f} | {r['f32_us']:.1f} | {r['f32_us'] / r['int8_us']:.2f} "
            f"| {r['gops_int8']:.0f} | {r['gflops_f32']:.0f} |"
        )
    return lines


@contextmanager
def _fresh_cache() -> Iterator[None]:
    """Auto mode measures now (the user's dispatch cache is neither read nor written)."""
    saved = os.environ.get("STRATA_CACHE_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STRATA_CACHE_DIR"] = tmp
        try:
            yield
        finally:
            if saved is None:
                del os.environ["STRATA_CACHE_DIR"]
            else:
                os.environ["STRATA_CACHE_DIR"] = saved


def _compile(case: Case, dispatch: str):
    """The case's op compiled with `dispatch`, its library sent `case.function` by a rule."""
    import strata
    from strata.libraries.dispatch import add_rule, remove_rule

    b = strata.GraphBuilder("op")
    module = b.finish(case.build(b))
    rule = add_rule(case.op, case.function)
    try:
        start = time.perf_counter()
        compiled = strata.compile(module, dispatch=dispatch)
        return compiled, time.perf_counter() - start
    finally:
        remove_rule(rule)


def _calls(compiled, function: str) -> bool:
    from strata.libraries import registry

    entry = registry.lookup(function)
    symbols = getattr(entry, "symbols", (entry.symbol,)) if entry else ()
    text = str(compiled.llvm_module)
    return any(f"@{symbol}" in text for symbol in symbols)


def library_row(case: Case, threads: int, min_time_s: float) -> dict | None:
    """Time `case` as generated code and as the library call; None when the library does not
    take the op (or is not installed)."""
    from strata.libraries import autotune

    generated, _ = _compile(case, "never")
    library, _ = _compile(case, "always")
    if not _calls(library, case.function):
        print(f"{case.name:<40} {threads}T {case.function} does not take it: skipped", flush=True)
        return None
    with _fresh_cache():
        auto, auto_compile_s = _compile(case, "auto")
    decisions = [d for d in autotune.last_decisions() if d.function == case.function]
    rng = np.random.default_rng(0)
    arrays = [
        rng.standard_normal(s.shape).astype(s.dtype) for s in generated["op"].signature.inputs
    ]
    reference = generated(*arrays)
    ok = bool(np.allclose(library(*arrays), reference, rtol=1e-3, atol=1e-3))
    ok &= bool(np.allclose(auto(*arrays), reference, rtol=1e-3, atol=1e-3))
    gen = measure(lambda: generated(*arrays), min_time_s=min_time_s)
    lib = measure(lambda: library(*arrays), min_time_s=min_time_s)
    pick = decisions[0].choice if decisions else "?"
    row = {
        "group": case.group,
        "shape": case.shape,
        "function": case.function,
        "threads": threads,
        "generated_us": gen.min_s * 1e6,
        "library_us": lib.min_s * 1e6,
        "generated_median_us": gen.median_s * 1e6,
        "library_median_us": lib.median_s * 1e6,
        "auto": pick,
        "auto_generated_us": decisions[0].generated_us if decisions else None,
        "auto_library_us": decisions[0].library_us if decisions else None,
        "auto_compile_s": auto_compile_s,
        "gflops_generated": case.flops / gen.min_s / 1e9,
        "ok": ok,
    }
    ratio = row["library_us"] / row["generated_us"]
    print(
        f"{case.name:<40} {threads}T generated {row['generated_us']:10.1f} us  "
        f"{case.function} {row['library_us']:10.1f} us  lib/gen {ratio:5.2f}  auto: {pick}"
        f"{'' if ok else '  MISMATCH'}",
        flush=True,
    )
    return row


def run_library(args) -> list[dict]:
    """The section's rows for every case whose name contains `args.only`, on each thread count."""
    from bench.systems import set_threads

    selected = [c for c in cases(args.quick) if args.only in c.name]
    rows: list[dict] = []
    for threads in args.threads:
        set_threads(threads)
        for case in selected:
            row = library_row(case, threads, args.min_time)
            if row is not None:
                rows.append(row)
        if args.only in "library int8":
            rows += int8_rows(threads, args.min_time)
    return rows


def library_markdown(rows: list[dict], machine: str) -> str:
    lines = [
        SECTION,
        "",
        f"On {machine}. Each op alone (its operands as arguments), compiled by Strata as "
        "generated code (`dispatch=never`) and as a call of the library function "
        "(`dispatch=always`); min µs per call over repeated calls after warm-up (the machine is "
        "shared: the min is the steadiest), an idle gap between the two. A ratio above 1 means "
        "the generated code is faster. `auto` is the choice "
        '`strata.compile(..., dispatch="auto")` made, measuring in a fresh cache on the same '
        "threads (its own timings, medians of about 0.2 s per candidate, in brackets); the time "
        "it picked is in bold, and ✗ marks a pick the longer timing here disagrees with. "
        "Produced by `python -m bench --only library`.",
        "",
        "| op | shape | threads | function | generated µs | library µs | library / generated "
        "| auto (its µs: generated / library) |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for r in [r for r in rows if r.get("kind") != "int8"]:
        gen, lib = f"{r['generated_us']:.1f}", f"{r['library_us']:.1f}"
        if r["auto"] == "generated":
            gen = f"**{gen}**"
        elif r["auto"] == "library":
            lib = f"**{lib}**"
        faster = "library" if r["library_us"] < r["generated_us"] else "generated"
        mark = "" if r["auto"] in (faster, "?") else " ✗"
        seen = ""
        if r.get("auto_generated_us") is not None and r.get("auto_library_us") is not None:
            seen = f" ({r['auto_generated_us']:.1f} / {r['auto_library_us']:.1f})"
        lines.append(
            f"| {r['group']} | {r['shape']} | {r['threads']} | {r['function']}"
            f"{'' if r['ok'] else ' (MISMATCH)'} | {gen} | {lib} "
            f"| {r['library_us'] / r['generated_us']:.2f} | {r['auto']}{mark}{seen} |"
        )
    lines += int8_markdown([r for r in rows if r.get("kind") == "int8"])
    return "\n".join(lines) + "\n"


def merge_sections(existing: str, main: str | None, library: str | None) -> str:
    """The benchmark page with its main part and library section replaced where new ones were
    produced (None keeps what `existing` has). The GPU section (written by hand from
    `python -m bench.gpu` on a GPU machine) stays at the end."""
    existing, gpu_sep, gpu = existing.partition(GPU_SECTION)
    gpu_part = gpu_sep + gpu if gpu_sep else ""
    return _merge(existing, main, library).rstrip("\n") + ("\n\n" + gpu_part if gpu_part else "\n")


def _merge(existing: str, main: str | None, library: str | None) -> str:
    old_main, sep, old_library = existing.partition(SECTION)
    old_library = sep + old_library if sep else ""
    main_part = main if main is not None else old_main
    library_part = library if library is not None else old_library
    if not library_part:
        return main_part
    return main_part.rstrip("\n") + "\n\n" + library_part
