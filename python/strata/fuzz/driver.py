"""Mutation fuzzer for `strata-opt`: mutated lit-corpus IR under random pass pipelines.

Each case (a mutated `// -----` chunk of a `test/**/*.mlir` file and a pipeline drawn from the
Strata pass registry, with random option values, plus upstream `canonicalize`/`cse`) runs
`strata-opt` in its own process with a timeout, so aborts and hangs are observed. An outcome is
`ok` (exit 0), `error` (exit 1 with an `error:` line), or a bug: `signal` (killed by a signal or
abort), `traceback` (a Python traceback or `internal error` in the output), `hang` (timeout) or
`unclear` (a non-zero exit without an `error:` line). Each bug's input, command and output are
written under `--out`. Deterministic for a given seed and corpus.

    python -m strata.fuzz.driver --inputs 500 --seed 1 --out /tmp/fuzz
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
import typing
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

BUG_KINDS = ("signal", "traceback", "hang", "unclear")
# Option values that would make a case slow or touch the machine rather than the compiler.
_SKIPPED_VALUES = {"auto"}
# Upstream passes mixed into pipelines (canonicalize and cse most often).
_UPSTREAM = (
    *("canonicalize", "cse") * 3,
    "symbol-dce",
    "inline",
    "sccp",
    "loop-invariant-code-motion",
    "convert-scf-to-cf",
    "one-shot-bufferize",
    "func.func(canonicalize)",
)
_ELEMENT_TYPES = ("f32", "f16", "bf16", "f64", "i8", "i32", "i64", "i1", "index", "f8E4M3FN")
_TOKENS = (
    "%0",
    "%arg0",
    "{",
    "}",
    "(",
    ")",
    "<",
    ">",
    ":",
    ",",
    "->",
    "=",
    "[",
    "]",
    "tensor<",
    "memref<",
    "x",
    "?",
    "0",
    "-1",
    "1e40",
    '"',
    "^bb0:",
    "#map",
    "dense<1.0>",
    "@f",
    "%",
    "loc(",
    '{name = "x"}',
    "!tprog",
    "affine_map<(d0) -> (d0)>",
)
_SHAPED = re.compile(r"\b(tensor|memref|vector)<([0-9x?]*)(x)?([a-zA-Z][a-zA-Z0-9_]*)")
_NUMBER = re.compile(r"(?<![A-Za-z_%#@^])-?\d+(\.\d+)?")
_OP_NAME = re.compile(r"\b(graph|tprog|hwprim|libcall)\.[a-z_0-9]+\b")
_ATTR = re.compile(r"\b[a-z_][a-z_0-9]*\s*=\s*(\"[^\"]*\"|[^,}\s]+)\s*,?\s*")


@dataclass(frozen=True)
class Case:
    index: int
    source: str  # corpus file the chunk came from
    text: str
    flags: tuple[str, ...]  # pass flags or one --pass-pipeline=...


@dataclass
class Outcome:
    case: Case
    kind: str  # ok, error, or one of BUG_KINDS
    returncode: int | None
    output: str


# --- corpus --------------------------------------------------------------------------------------


def repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


def load_corpus(test_dir: Path) -> list[tuple[str, str, list[str]]]:
    """(file, chunk, RUN-line pass flags) for every `// -----` chunk of every lit test."""
    corpus = []
    for path in sorted(test_dir.rglob("*.mlir")):
        if "Output" in path.parts or "fuzz-regressions" in path.parts:
            continue
        text = path.read_text(errors="replace")
        flags = run_line_flags(text)
        for chunk in re.split(r"^// -----.*$", text, flags=re.M):
            chunk = "\n".join(
                line for line in chunk.split("\n") if not line.lstrip().startswith("// RUN")
            )
            if chunk.strip():
                corpus.append((str(path.relative_to(test_dir.parent)), chunk, flags))
    return corpus


def run_line_flags(text: str) -> list[str]:
    """The pass flags of a file's first strata-opt RUN line (other options dropped)."""
    for line in text.split("\n"):
        if "RUN:" in line and "strata-opt" in line:
            command = line.split("RUN:", 1)[1].split("|")[0]
            try:
                words = shlex.split(command)
            except ValueError:
                return []
            return [
                w
                for w in words
                if w.startswith("--")
                and not w.startswith(("--split-input-file", "--verify-diagnostics", "--mlir-"))
            ]
    return []


# --- mutations -----------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return text.split("\n")


def delete_line(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def duplicate_line(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines.insert(rng.randrange(len(lines) + 1), lines[i])
    return "\n".join(lines)


def swap_lines(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def _replace_one(rng: random.Random, pattern: re.Pattern, text: str, make: Callable) -> str:
    matches = list(pattern.finditer(text))
    if not matches:
        return text
    m = rng.choice(matches)
    return text[: m.start()] + make(m) + text[m.end() :]


def _random_number(rng: random.Random) -> str:
    return str(rng.choice([0, 1, 2, 3, 4, 7, 8, 16, 17, 64, 1000, -1, -8, 2**31, 2**63]))


def change_number(rng: random.Random, text: str) -> str:
    return _replace_one(rng, _NUMBER, text, lambda m: _random_number(rng))


def _random_shape(rng: random.Random) -> str:
    dims = [rng.choice(["0", "1", "2", "3", "4", "8", "16", "?", "1000000"]) for _ in range(4)]
    return "x".join(dims[: rng.randrange(0, 5)])


def change_shape(rng: random.Random, text: str) -> str:
    def make(m: re.Match) -> str:
        shape = _random_shape(rng)
        return f"{m.group(1)}<{shape}{'x' if shape else ''}{m.group(4)}"

    return _replace_one(rng, _SHAPED, text, make)


def change_element_type(rng: random.Random, text: str) -> str:
    def make(m: re.Match) -> str:
        shape = m.group(2) + (m.group(3) or "")
        return f"{m.group(1)}<{shape}{rng.choice(_ELEMENT_TYPES)}"

    return _replace_one(rng, _SHAPED, text, make)


def _replace_all(rng: random.Random, text: str, make: Callable) -> str:
    """Replace every occurrence of one shaped type, so uses stay consistent and verifiers run."""
    types = sorted({m.group(0) for m in _SHAPED.finditer(text)})
    if not types:
        return text
    old = rng.choice(types)
    m = _SHAPED.match(old)
    assert m is not None
    return re.sub(re.escape(old) + r"(?=[>,])", make(m), text)


def change_shape_everywhere(rng: random.Random, text: str) -> str:
    def make(m: re.Match) -> str:
        shape = _random_shape(rng)
        return f"{m.group(1)}<{shape}{'x' if shape else ''}{m.group(4)}"

    return _replace_all(rng, text, make)


def change_element_type_everywhere(rng: random.Random, text: str) -> str:
    def make(m: re.Match) -> str:
        return f"{m.group(1)}<{m.group(2)}{m.group(3) or ''}{rng.choice(_ELEMENT_TYPES)}"

    return _replace_all(rng, text, make)


def swap_op_name(rng: random.Random, text: str) -> str:
    names = sorted({m.group(0) for m in _OP_NAME.finditer(text)} | set(_all_op_names()))
    return _replace_one(rng, _OP_NAME, text, lambda m: rng.choice(names))


def drop_attribute(rng: random.Random, text: str) -> str:
    return _replace_one(rng, _ATTR, text, lambda m: "")


def truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text) + 1)]


def insert_token(rng: random.Random, text: str) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(_TOKENS) + text[i:]


def insert_bad_bytes(rng: random.Random, text: str) -> str:
    """Bytes that are not UTF-8 (written through surrogateescape), or a NUL."""
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(["\udcff", "\udcc3", "\x00", "\udce2\udc82"]) + text[i:]


MUTATIONS: tuple[Callable[[random.Random, str], str], ...] = (
    delete_line,
    duplicate_line,
    swap_lines,
    change_number,
    change_shape,
    change_shape,
    change_element_type,
    change_shape_everywhere,
    change_shape_everywhere,
    change_element_type_everywhere,
    change_element_type_everywhere,
    change_number,
    swap_op_name,
    swap_op_name,
    drop_attribute,
    truncate,
    insert_token,
    insert_bad_bytes,
)


def _all_op_names() -> list[str]:
    names = []
    for path in sorted((repo_root() / "dialects").glob("*.irdl.mlir")):
        text = path.read_text()
        dialect = re.search(r"irdl\.dialect\s+@(\w+)", text)
        if dialect:
            names += [
                f"{dialect.group(1)}.{op}" for op in re.findall(r"irdl\.operation\s+@(\w+)", text)
            ]
    return names


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
        text = rng.choice(MUTATIONS)(rng, text) or text
    return text


# --- pipelines -----------------------------------------------------------------------------------


def _random_value(rng: random.Random, tp: typing.Any, default: typing.Any) -> str:
    if rng.random() < 0.1:  # garbage of the wrong type
        return rng.choice(["", "x", "-1", "1.5", "true", "{", "a,b", "99999999999999999999"])
    if tp is bool:
        return rng.choice(["true", "false"])
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return rng.choice([m.value for m in tp if m.value not in _SKIPPED_VALUES])
    if typing.get_origin(tp) is tuple:
        (elem,) = typing.get_args(tp)[:1]
        return ",".join(_random_value(rng, elem, None) for _ in range(rng.randrange(1, 3)))
    if tp is int:
        return rng.choice(["0", "1", "4", "8", "16", "-1", "3", "1000", str(default)])
    if tp is float:
        return rng.choice(["0", "1.5", "-1", "1e30"])
    return rng.choice(
        ["", "nonexistent.json", "{dir}", "{dir}/garbage.txt", "{dir}/trace.py", "{dir}/db.json"]
        + ["host", "x86-64-v3", "skylake-avx512", "zen4", "@"]
    )


def _pass_classes() -> dict[str, typing.Any]:
    from strata import passes

    classes = {name: passes.get_pass(name) for name in passes.PASSES}
    classes |= {name: passes.get_pipeline(name) for name in passes.PIPELINES}
    return classes


def random_element(rng: random.Random, classes: dict[str, typing.Any]) -> str:
    names = sorted(classes) + list(_UPSTREAM)
    name = rng.choice(names)
    cls = classes.get(name)
    if cls is None or not dataclasses.is_dataclass(cls.Options) or rng.random() < 0.4:
        return name
    hints = typing.get_type_hints(cls.Options)
    fields = dataclasses.fields(cls.Options)
    chosen = rng.sample(fields, rng.randrange(1, len(fields) + 1)) if fields else []
    options = []
    for f in chosen:
        value = _random_value(rng, hints[f.name], f.default)
        if f.name == "rules" or value in _SKIPPED_VALUES:
            continue
        options.append(f"{f.name.replace('_', '-')}={value}")
    return f"{name}{{{' '.join(options)}}}" if options else name


def random_flags(
    rng: random.Random, classes: dict[str, typing.Any], run_flags: list[str]
) -> list[str]:
    if run_flags and rng.random() < 0.4:
        elements = [f[2:] for f in run_flags if not f.startswith("--pass-pipeline")]
        if not elements:
            return [f for f in run_flags if not any(v in f for v in _SKIPPED_VALUES)]
    else:
        elements = [random_element(rng, classes) for _ in range(rng.randrange(1, 4))]
    elements = [e for e in elements if not any(f"={v}" in e for v in _SKIPPED_VALUES)]
    if rng.random() < 0.3:
        if rng.random() < 0.2:  # Strata passes nested where they cannot run
            elements = [f"func.func({e})" for e in elements]
        return [f"--pass-pipeline=builtin.module({','.join(elements)})"]
    return [f"--{e}" for e in elements]


# Tool options besides passes; `{dir}` is the case's working directory. `--no-verify` is left
# out: it hands unverified IR to passes on purpose.
_TOOL_FLAGS: tuple[tuple[str, ...], ...] = (
    ("--split-input-file",),
    ("--verify-diagnostics",),
    ("--mlir-print-ir-after-all",),
    ("--mlir-print-ir-before-all",),
    ("--mlir-print-op-generic",),
    ("--mlir-print-debuginfo",),
    ("--mlir-timing",),
    ("--mlir-print-ir-after=graph-verify",),
    ("--mlir-elide-elementsattrs-if-larger=1",),
    ("--mlir-elide-elementsattrs-if-larger=-1",),
    ("--mlir-elide-resource-strings-if-larger=0",),
    ("-o", "{dir}"),
    ("-o", "{dir}/missing/out.mlir"),
    ("-o", "{dir}/out.mlir"),
    ("--unknown-flag",),
    ("extra-positional",),
)


def random_tool_flags(rng: random.Random) -> list[str]:
    if rng.random() < 0.7:
        return []
    return [w for _ in range(rng.randrange(1, 3)) for w in rng.choice(_TOOL_FLAGS)]


def generate(seed: int, count: int, test_dir: Path) -> list[Case]:
    rng = random.Random(seed)
    corpus = load_corpus(test_dir)
    classes = _pass_classes()
    cases = []
    for index in range(count):
        source, chunk, run_flags = rng.choice(corpus)
        flags = random_flags(rng, classes, run_flags) + random_tool_flags(rng)
        cases.append(Case(index, source, mutate(rng, chunk), tuple(flags)))
    return cases


# --- running -------------------------------------------------------------------------------------


def tool_command() -> list[str]:
    return [sys.executable, "-m", "strata.tools.opt"]


def classify(returncode: int | None, output: str) -> str:
    if returncode is None:
        return "hang"
    if returncode < 0 or returncode in (134, 139):
        return "signal"
    if "Traceback (most recent call last)" in output or "internal error" in output:
        return "traceback"
    if returncode == 0:
        return "ok"
    if returncode == 1 and "error:" in output:
        return "error"
    return "unclear"


def run_command(command: list[str], timeout: float, cwd: Path) -> tuple[int | None, str]:
    """Run a tool in a subprocess: (return code or None on a hang, stderr + stdout's tail)."""
    env = dict(os.environ, STRATA_CACHE_DIR=str(cwd / "cache"))
    env.pop("STRATA_DEBUG", None)
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as e:
        return None, str(e.stderr or "")
    return proc.returncode, proc.stderr + proc.stdout[-2000:]


def run_case(case: Case, workdir: Path, timeout: float) -> Outcome:
    path = workdir / f"case{case.index}.mlir"
    path.write_text(case.text, errors="surrogateescape")
    flags = (f.replace("{dir}", str(workdir)) for f in case.flags)
    try:
        returncode, output = run_command([*tool_command(), str(path), *flags], timeout, workdir)
    finally:
        path.unlink(missing_ok=True)
    return Outcome(case, classify(returncode, output), returncode, output)


def run_cases(cases: Iterable[Case], jobs: int = 2, timeout: float = 20.0) -> list[Outcome]:
    with (
        tempfile.TemporaryDirectory(prefix="strata-fuzz-") as tmp,
        ThreadPoolExecutor(jobs) as pool,
    ):
        write_option_files(Path(tmp))
        return list(pool.map(lambda c: run_case(c, Path(tmp), timeout), cases))


def write_option_files(directory: Path) -> None:
    """Malformed files that file-valued options (`file=`, `tuning-db=`) may name."""
    (directory / "garbage.txt").write_bytes(b"\x00\xff not a trace {{{ \n")
    (directory / "trace.py").write_text(
        'sch.split("nope", factors=[None, 8])\nsch.reorder(1, 2)\nimport os\nsch.tensorize(\n'
    )
    (directory / "db.json").write_text(
        '{"workload": "x", "func": "f", "trace": 3}\n[1, 2]\n{"workload": null}\nnot json\n'
    )


def signature(outcome: Outcome) -> str:
    """A short key that groups bugs of one cause: the kind and the last error-looking line."""
    lines = [line for line in outcome.output.split("\n") if "error" in line.lower()]
    if not lines:
        lines = outcome.output.strip().split("\n")
    text = lines[-1]
    text = re.sub(r"^\S*:\d+:\d+: ", "", text)
    text = re.sub(r"'[^']*'", "'X'", text)
    text = re.sub(r"\d+", "N", text)
    return f"{outcome.kind}: {text[:160]}"


def write_bug(out: Path, outcome: Outcome) -> None:
    case = outcome.case
    directory = out / f"{outcome.kind}-{case.index:05d}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "input.mlir").write_text(case.text, errors="surrogateescape")
    command = shlex.join(["strata-opt", "input.mlir", *case.flags])
    (directory / "command.txt").write_text(command + "\n")
    (directory / "output.txt").write_text(
        f"source: {case.source}\nexit: {outcome.returncode}\n\n{outcome.output}"
    )


def summarize(outcomes: list[Outcome]) -> str:
    kinds = Counter(o.kind for o in outcomes)
    return (
        f"driver fuzz: {len(outcomes)} inputs, {kinds['signal']} signals, "
        f"{kinds['traceback']} tracebacks, {kinds['hang']} hangs, {kinds['unclear']} unclear "
        f"({kinds['ok']} ok, {kinds['error']} clean errors)"
    )


def fuzz(
    inputs: int,
    seed: int,
    out: Path | None = None,
    jobs: int = 2,
    timeout: float = 20.0,
    test_dir: Path | None = None,
) -> list[Outcome]:
    cases = generate(seed, inputs, test_dir or repo_root() / "test")
    outcomes = run_cases(cases, jobs, timeout)
    if out is not None:
        for outcome in outcomes:
            if outcome.kind in BUG_KINDS:
                write_bug(out, outcome)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="strata-fuzz-driver", description=__doc__.split("\n")[0])
    p.add_argument("--inputs", type=int, default=200, help="number of cases (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="directory for each bug's input, command and output")
    p.add_argument("--jobs", type=int, default=2, help="parallel strata-opt processes")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds per case")
    p.add_argument("--test-dir", type=Path, help="lit corpus (default: the repository's test/)")
    args = p.parse_args(argv)
    test_dir = args.test_dir or repo_root() / "test"
    if not test_dir.is_dir():
        print(f"strata-fuzz-driver: error: no corpus directory '{test_dir}'", file=sys.stderr)
        return 1
    outcomes = fuzz(args.inputs, args.seed, args.out, args.jobs, args.timeout, test_dir)
    bugs = Counter(signature(o) for o in outcomes if o.kind in BUG_KINDS)
    for key, n in bugs.most_common():
        print(f"  {n:4d}  {key}")
    print(summarize(outcomes))
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main())
