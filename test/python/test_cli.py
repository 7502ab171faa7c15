"""The console scripts on good and bad input: messages, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import tool

OK = """func.func @f(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = "graph.relu"(%x) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
"""
MALFORMED = "func.func @f(%x: tensor<2x4xf32> {\n"
SHAPE = """func.func @f(%x: tensor<2x4xf32>, %w: tensor<5x3xf32>) -> tensor<2x3xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<2x4xf32>, tensor<5x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
"""
RELU_RESULT = """func.func @f(%x: tensor<2x3xf32>) {
  %r = "graph.relu"(%x) : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}
"""


def run(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool(args[0]), *args[1:]],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name, text in {
        "ok.mlir": OK,
        "bad.mlir": MALFORMED,
        "shape.mlir": SHAPE,
        "relu.mlir": RELU_RESULT,
    }.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def _fails(proc: subprocess.CompletedProcess, *expected: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "error:" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "internal error" not in proc.stderr
    for text in expected:
        assert text in proc.stderr


CASES = {
    "opt-missing": (["strata-opt", "missing.mlir"], ["cannot open input file 'missing.mlir'"]),
    "opt-malformed": (["strata-opt", "bad.mlir"], ["bad.mlir:1:"]),
    "opt-unknown-pass": (
        ["strata-opt", "ok.mlir", "--no-such-pass"],
        ["unknown pass 'no-such-pass'"],
    ),
    "opt-unknown-pass-pipeline": (
        ["strata-opt", "ok.mlir", "--pass-pipeline=builtin.module(nope)"],
        ["unknown pass 'nope'"],
    ),
    "opt-nested": (
        ["strata-opt", "ok.mlir", "--pass-pipeline=builtin.module(func.func(graph-dce))"],
        ["move it out of 'func.func(...)'"],
    ),
    "opt-shape": (
        ["strata-opt", "shape.mlir", "--graph-verify"],
        ["shape.mlir:2:8: error: contracting dimensions differ"],
    ),
    "opt-shape-on-parse": (["strata-opt", "shape.mlir"], ["shape.mlir:2:8: error:"]),
    "opt-bad-option-value": (
        ["strata-opt", "ok.mlir", "--convert-tprog-to-hwprim=vector-width=abc"],
        ["invalid value 'abc' for option 'vector-width'"],
    ),
    "opt-unknown-option": (
        ["strata-opt", "ok.mlir", "--convert-tprog-to-hwprim{bogus=1}"],
        ["has no option 'bogus'"],
    ),
    "opt-flags-and-pipeline": (
        ["strata-opt", "ok.mlir", "--cse", "--pass-pipeline=builtin.module(cse)"],
        ["not both"],
    ),
    "strata-missing": (["strata", "compile", "missing.mlir"], ["cannot open input file"]),
    "strata-malformed": (["strata", "compile", "bad.mlir"], ["bad.mlir:1:"]),
    "strata-shape": (["strata", "compile", "shape.mlir"], ["shape.mlir:2:8: error:"]),
    "translate-missing": (
        ["strata-translate", "--mlir-to-llvmir", "missing.mlir"],
        ["cannot open input file"],
    ),
    "translate-malformed": (["strata-translate", "--mlir-to-llvmir", "bad.mlir"], ["bad.mlir:1:"]),
    "translate-not-llvm": (
        ["strata-translate", "--mlir-to-llvmir", "ok.mlir"],
        ["'func.func' is not in the LLVM dialect"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case, files) -> None:
    args, expected = CASES[case]
    _fails(run(*args, cwd=files), *expected)


def test_opt_wrong_result_type_is_located(files) -> None:
    _fails(run("strata-opt", "relu.mlir", cwd=files), "relu.mlir:2:8: error: result type should be")


@pytest.mark.parametrize(
    "args",
    [
        ["strata", "compile", "ok.mlir", "--bogus"],
        ["strata-translate", "--mlir-to-llvmir", "--bogus", "ok.mlir"],
    ],
)
def test_argparse_unknown_option_exit_code(args, files) -> None:
    _fails(run(*args, cwd=files))


@pytest.mark.parametrize(
    "args",
    [
        ["strata-opt", "shape.mlir", "--graph-verify", "-o", "out.mlir"],
        ["strata-opt", "bad.mlir", "-o", "out.mlir"],
        ["strata-opt", "ok.mlir", "--no-such-pass", "-o", "out.mlir"],
        ["strata", "compile", "shape.mlir", "-o", "out.mlir"],
        ["strata-translate", "--mlir-to-llvmir", "ok.mlir", "-o", "out.mlir"],
    ],
)
def test_failure_creates_no_output(args, files) -> None:
    _fails(run(*args, cwd=files))
    assert not (files / "out.mlir").exists()
    assert not list(files.glob(".strata-*"))


def test_opt_output_file(files) -> None:
    proc = run("strata-opt", "ok.mlir", "--graph-verify", "-o", "out.mlir", cwd=files)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert '"graph.relu"' in (files / "out.mlir").read_text()


def test_opt_stdin() -> None:
    proc = run("strata-opt", "--graph-dce", stdin=OK)
    assert proc.returncode == 0, proc.stderr
    assert "func.func @f" in proc.stdout


def test_opt_help_lists_passes() -> None:
    proc = run("strata-opt", "--help")
    assert proc.returncode == 0
    for name in (
        "convert-graph-to-tprog",
        "graph-verify",
        "strata-lower-to-llvm",
        "vector-width=<int>",
    ):
        assert name in proc.stdout


def test_opt_verify_diagnostics(files) -> None:
    text = SHAPE.replace(
        "  %0 =", "  // expected-error@+1 {{contracting dimensions differ}}\n  %0 ="
    )
    (files / "expect.mlir").write_text(text + "\n// -----\n\n" + OK)
    proc = run(
        "strata-opt",
        "expect.mlir",
        "--split-input-file",
        "--verify-diagnostics",
        "--graph-verify",
        cwd=files,
    )
    assert proc.returncode == 0, proc.stderr
    (files / "missing.mlir").write_text("// expected-error@+1 {{never}}\n" + OK)
    _fails(
        run("strata-opt", "missing.mlir", "--verify-diagnostics", cwd=files),
        'expected error "never"',
    )


def test_lower_then_translate(files) -> None:
    lowered = run("strata-opt", "ok.mlir", "--strata-lower-to-llvm", cwd=files)
    assert lowered.returncode == 0, lowered.stderr
    assert "llvm.func" in lowered.stdout
    translated = run("strata-translate", "--mlir-to-llvmir", stdin=lowered.stdout)
    assert translated.returncode == 0, translated.stderr
    assert "define void @_mlir_ciface_f" in translated.stdout


def test_strata_compile_to_file(files) -> None:
    proc = run("strata", "compile", "ok.mlir", "-o", "out.mlir", cwd=files)
    assert proc.returncode == 0, proc.stderr
    assert "llvm.func @_mlir_ciface_f" in (files / "out.mlir").read_text()


def test_demo() -> None:
    proc = run("strata", "demo")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("OK") == 2
    assert "Traceback" not in proc.stderr


def test_demo_bad_batch() -> None:
    _fails(run("strata", "demo", "--batch", "0"), "--batch must be at least 1")
