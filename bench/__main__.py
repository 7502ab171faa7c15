"""python -m bench: Strata against numpy, PyTorch eager and ONNX Runtime, on 1 and 2 threads;
then library calls against Strata's generated code, op by op (`bench/library.py`).

Writes docs/benchmarks.md and docs/benchmarks.png (`--only TEXT` rewrites only the sections it
ran). Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import platform
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from bench.library import library_markdown, merge_sections, run_library
from bench.systems import SYSTEMS, set_threads
from bench.timing import measure

SGEMM_SIZES = (256, 512, 1000, 1024, 2048)


def workloads(quick: bool) -> list[tuple[str, dict, float]]:
    """(name, model, flops) for every workload."""
    from strata.models.mlp import MLPWeights

    sizes = (256, 512) if quick else SGEMM_SIZES
    items = [(f"sgemm {s}", {"kind": "matmul", "shape": (s, s, s)}, 2.0 * s**3) for s in sizes]
    # a skinny matmul, where tuning beats the default schedule
    items.append(
        ("sgemm 32x2048x2048", {"kind": "matmul", "shape": (32, 2048, 2048)}, 2.0 * 32 * 2048**2)
    )
    from bench.systems import D_FF, D_MODEL, SEQ, conv_block_weights, encoder_weights

    weights = MLPWeights.default()
    for batch in (1, 64):
        flops = 2.0 * batch * (784 * 128 + 128 * 10)
        items.append(
            (f"MLP batch {batch}", {"kind": "mlp", "batch": batch, "weights": weights}, flops)
        )
    conv_flops = 2 * 2.0 * 64 * 56 * 56 * 64 * 9  # two 3x3 convolutions, 64 -> 64 channels
    items.append(
        ("conv block", {"kind": "conv_block", "weights": conv_block_weights()}, conv_flops)
    )
    encoder_flops = 2.0 * SEQ * (4 * D_MODEL * D_MODEL + 2 * D_MODEL * D_FF + 2 * SEQ * D_MODEL)
    encoder = {"kind": "encoder", "weights": encoder_weights()}
    items.append(("encoder block", encoder, encoder_flops))
    # The example models of examples/, through the torch.export frontend.
    gpt2_flops = 2.0 * 64 * (4 * 256 * 256 + 2 * 256 * 1024 + 2 * 64 * 256)
    items += [
        ("ResNet-18", {"kind": "model", "file": "resnet18"}, 2 * 1.814e9),
        ("transformer 2L", {"kind": "model", "file": "transformer"}, 2 * encoder_flops),
        ("GPT-2 block", {"kind": "model", "file": "gpt2_block"}, gpt2_flops),
    ]
    return items


def inputs_for(model: dict, rng: np.random.Generator) -> list[np.ndarray]:
    if model["kind"] == "matmul":
        m, k, n = model["shape"]
        return [
            rng.standard_normal((m, k), dtype=np.float32),
            rng.standard_normal((k, n), dtype=np.float32),
        ]
    if model["kind"] == "conv_block":
        return [rng.standard_normal((1, 64, 56, 56), dtype=np.float32)]
    if model["kind"] == "encoder":
        return [rng.standard_normal((128, 256), dtype=np.float32)]
    if model["kind"] == "model":
        from bench.systems import torch_module

        return [t.numpy() for t in torch_module(model)[1]]
    return [rng.standard_normal((model["batch"], 784), dtype=np.float32)]


def numpy_threads(n: int):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def run(args: argparse.Namespace) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for threads in args.threads:
        set_threads(threads)
        for name, model, flops in workloads(args.quick):
            if args.only not in name:
                continue
            arrays = inputs_for(model, rng)
            # numpy is the reference; the example models have none, PyTorch is theirs
            baseline = SYSTEMS["numpy"](model, threads) or SYSTEMS["pytorch"](model, threads)
            reference = baseline[0](*arrays)
            for system, prepare in SYSTEMS.items():
                prepared = prepare(model, threads)
                if prepared is None:
                    continue
                fn, compile_s = prepared
                with numpy_threads(threads):
                    out = fn(*arrays)
                    ok = np.allclose(out, reference, rtol=1e-3, atol=1e-3)
                    sample = measure(lambda f=fn, a=arrays: f(*a), min_time_s=args.min_time)
                rows.append(
                    {
                        "workload": name,
                        "threads": threads,
                        "system": system,
                        "median_us": sample.median_s * 1e6,
                        "min_us": sample.min_s * 1e6,
                        "gflops": flops / sample.min_s / 1e9,
                        "compile_s": compile_s,
                        "ok": ok,
                    }
                )
                print(
                    f"{name:<14} {threads}T {system:<15} median {sample.median_s * 1e6:10.1f} us"
                    f"  min {sample.min_s * 1e6:10.1f} us  {flops / sample.min_s / 1e9:7.1f} GFLOPS"
                    f"  {'ok' if ok else 'MISMATCH'}",
                    flush=True,
                )
    return rows


def machine() -> str:
    """CPU model, family and core count, from /proc/cpuinfo where there is one."""
    import os

    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.machine()
    flags = info.get("flags", "").split()
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
    return (
        f"{info.get('model name', platform.machine())} (family {info.get('cpu family', '?')}, "
        f"{isa}), {os.cpu_count()} cores"
    )


def markdown(rows: list[dict]) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python -m bench` on {machine()}, "
        f"Python {platform.python_version()}. Times are per call (median and min over repeated "
        "calls after warm-up, an idle gap between systems); ratios are min(system) / min(Strata): "
        "above 1 means Strata is faster.",
        "",
        "| workload | threads | system | median µs | min µs | GFLOPS | vs Strata | compile s |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    strata_min = {
        (r["workload"], r["threads"]): r["min_us"] for r in rows if r["system"] == "strata"
    }
    for r in rows:
        ratio = r["min_us"] / strata_min[(r["workload"], r["threads"])]
        lines.append(
            f"| {r['workload']} | {r['threads']} | {r['system']}{'' if r['ok'] else ' (MISMATCH)'} "
            f"| {r['median_us']:.1f} | {r['min_us']:.1f} | {r['gflops']:.1f} | {ratio:.2f} "
            f"| {r['compile_s']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def chart(rows: list[dict], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    if not rows:
        return
    keys = sorted({(r["workload"], r["threads"]) for r in rows}, key=lambda k: (k[1], k[0]))
    systems = list(dict.fromkeys(r["system"] for r in rows))
    fig, ax = plt.subplots(figsize=(max(8, len(keys) * 0.9), 4.5))
    width = 0.8 / len(systems)
    for s, system in enumerate(systems):
        values = []
        for key in keys:
            base = next(
                r["min_us"]
                for r in rows
                if (r["workload"], r["threads"]) == key and r["system"] == "strata"
            )
            match = [
                r["min_us"]
                for r in rows
                if (r["workload"], r["threads"]) == key and r["system"] == system
            ]
            values.append(match[0] / base if match else 0)
        ax.bar([k + s * width for k in range(len(keys))], values, width, label=system)
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(keys))])
    ax.set_xticklabels([f"{w}\n{t}T" for w, t in keys], fontsize=7)
    ax.set_ylabel("time / Strata time (higher: Strata faster)")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--quick", action="store_true", help="small sizes only")
    p.add_argument(
        "--only",
        default="",
        help="run the workloads whose name contains this text ('library': only the library vs "
        "generated code section)",
    )
    p.add_argument("--min-time", type=float, default=0.5, help="seconds of timed calls per sample")
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    args = p.parse_args(argv)
    rows = run(args)
    library_rows = run_library(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    existing = args.out.read_text() if args.out.exists() else ""
    page = merge_sections(
        existing,
        markdown(rows) if rows else None,
        library_markdown(library_rows, machine()) if library_rows else None,
    )
    args.out.write_text(page)
    chart(rows, args.out.with_suffix(".png"))
    print(f"wrote {args.out}")
    return 0 if all(r["ok"] for r in [*rows, *library_rows]) else 1


if __name__ == "__main__":
    sys.exit(main())
