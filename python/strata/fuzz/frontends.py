"""Fuzzing the frontends' file inputs: mutated ONNX files through `strata compile`.

A few small valid models are built with `onnx.helper` (matmul + bias + relu, a convolution with
pooling, softmax over a reshape); each case flips, inserts or deletes bytes, truncates the file,
or edits a node (op type, attribute, input name, shape) and saves it, then runs
`strata compile case.onnx --compile-to tprog` in a subprocess. As for the driver fuzzer, a
signal, a traceback (or `internal error`) or a hang is a bug; a clean `error:` is the expected
answer to a broken file.

    python -m strata.fuzz.frontends --inputs 500 --seed 0 --out /tmp/onnx-fuzz
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from strata.fuzz.driver import BUG_KINDS, classify, run_command


@dataclass(frozen=True)
class Outcome:
    path: Path
    kind: str  # ok, error, or one of BUG_KINDS
    returncode: int | None
    output: str


def _models() -> list[bytes]:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def model(nodes, inputs, outputs, initializers) -> bytes:
        graph = helper.make_graph(nodes, "g", inputs, outputs, initializers)
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        return proto.SerializeToString()

    rng = np.random.default_rng(0)

    def weight(name: str, shape) -> onnx.TensorProto:
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    f32 = TensorProto.FLOAT
    mlp = model(
        [
            helper.make_node("MatMul", ["x", "w"], ["h"]),
            helper.make_node("Add", ["h", "b"], ["a"]),
            helper.make_node("Relu", ["a"], ["y"]),
        ],
        [helper.make_tensor_value_info("x", f32, [2, 8])],
        [helper.make_tensor_value_info("y", f32, [2, 4])],
        [weight("w", (8, 4)), weight("b", (4,))],
    )
    cnn = model(
        [
            helper.make_node("Conv", ["x", "k"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1]),
            helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Flatten", ["p"], ["y"], axis=1),
        ],
        [helper.make_tensor_value_info("x", f32, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", f32, [1, 64])],
        [weight("k", (4, 3, 3, 3))],
    )
    shape = numpy_helper.from_array(np.array([2, 6], np.int64), "shape")
    softmax = model(
        [
            helper.make_node("Reshape", ["x", "shape"], ["r"]),
            helper.make_node("Softmax", ["r"], ["y"], axis=-1),
        ],
        [helper.make_tensor_value_info("x", f32, [3, 4])],
        [helper.make_tensor_value_info("y", f32, [2, 6])],
        [shape],
    )
    return [mlp, cnn, softmax]


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    kind = rng.choice(["flip", "flip", "insert", "delete", "truncate", "text"])
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == "insert":
        at = rng.randrange(len(b) + 1)
        b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif kind == "delete":
        at = rng.randrange(len(b))
        del b[at : at + rng.randint(1, 16)]
    elif kind == "truncate":
        del b[rng.randrange(len(b)) :]
    else:  # edit a string the protobuf holds: op types, names, attribute names
        words = [b"MatMul", b"Add", b"Relu", b"Conv", b"MaxPool", b"Flatten", b"Softmax", b"x"]
        word = rng.choice([w for w in words if w in b] or [b"x"])
        at = bytes(b).find(word)
        if at >= 0:
            replacement = rng.choice(words)[: len(word)].ljust(len(word), b"_")
            b[at : at + len(word)] = replacement
    return bytes(b)


def fuzz(count: int, seed: int, out: Path | None, jobs: int, timeout: float) -> list[Outcome]:
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(seed)
    models = _models()
    work = Path(tempfile.mkdtemp(prefix="strata-onnx-fuzz-"))
    paths = []
    for i in range(count):
        path = work / f"case{i}.onnx"
        path.write_bytes(mutate(rng, rng.choice(models)))
        paths.append(path)
    strata = str(Path(sys.executable).parent / "strata")

    def run(path: Path) -> Outcome:
        command = [strata, "compile", str(path), "--compile-to", "tprog", "-o", "/dev/null"]
        returncode, output = run_command(command, timeout, work)
        return Outcome(path, classify(returncode, output), returncode, output)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(pool.map(run, paths))
    if out is not None:
        for outcome in outcomes:
            if outcome.kind in BUG_KINDS:
                path = outcome.path
                folder = out / f"{outcome.kind}-{path.stem}"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "input.onnx").write_bytes(path.read_bytes())
                (folder / "output.txt").write_text(outcome.output)
    return outcomes


def summarize(outcomes: list[Outcome]) -> str:
    kinds = Counter(o.kind for o in outcomes)
    return (
        f"frontend fuzz: {len(outcomes)} ONNX files, {kinds['signal']} signals, "
        f"{kinds['traceback']} tracebacks, {kinds['hang']} hangs "
        f"({kinds['ok']} ok, {kinds['error']} clean errors)"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m strata.fuzz.frontends", description=__doc__)
    p.add_argument("--inputs", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args(argv)
    outcomes = fuzz(args.inputs, args.seed, args.out, args.jobs, args.timeout)
    print(summarize(outcomes))
    return 1 if any(o.kind in BUG_KINDS for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
