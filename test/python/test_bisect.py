"""strata bisect: the pipeline pass by pass, each state executed (simulator, then JIT) and
compared with the graph-level reference; a planted wrong rewrite is found and reproduced."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import strata
from strata.bisection import bisect
from strata.diagnostics import CompileError
from strata.pipelines import parse_pipeline
from strata.tools.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _mlp(softmax: bool = True):
    rng = np.random.default_rng(1)
    b = strata.GraphBuilder("mlp")
    x = b.input((4, 16))
    w = b.constant(rng.standard_normal((16, 32)).astype(np.float32), "w")
    h = b.relu(b.add(b.matmul(x, w), b.constant(np.ones(32, np.float32), "b")))
    return b.finish(b.softmax(h) if softmax else h)


def test_default_pipeline_agrees_at_every_executed_state():
    report = bisect(_mlp(), seed=3)
    assert report.first_divergence is None and report.failure is None
    hows = {s.how for s in report.steps}
    assert {"simulator", "JIT"} <= hows  # graph, tprog, hwprim, ... then the LLVM dialect
    assert report.steps[-1].how == "JIT" and report.steps[-1].agrees
    executed = [s.element for s in report.steps if s.ran]
    for name in ("graph-fuse-ops", "convert-graph-to-tprog", "convert-hwprim-to-vector"):
        assert any(e.startswith(name) for e in executed), name
    assert "every executed state agrees" in report.table()


def test_planted_wrong_rewrite_is_found_and_reproduced(tmp_path):
    elements = parse_pipeline("strata-lower-to-llvm")
    at = next(i for i, e in enumerate(elements) if repr(e) == "convert-graph-to-tprog")
    elements.insert(at + 1, *parse_pipeline("test-strata-miscompile"))
    report = bisect(_mlp(), pipeline=elements, out_dir=tmp_path / "repro")
    bad = report.first_divergence
    assert bad is not None and bad.element == "test-strata-miscompile"
    assert report.last_agreement is not None and report.last_agreement.element.startswith(
        "convert-graph-to-tprog"
    )
    assert "first divergence after pass" in report.table()
    repro = tmp_path / "repro"
    assert {"before.mlir", "after.mlir", "reproduce.sh", "report.txt"} <= {
        p.name for p in repro.iterdir()
    }
    replay = subprocess.run(["sh", str(repro / "reproduce.sh")], capture_output=True, text=True)
    assert replay.returncode == 0, replay.stderr
    before = (repro / "before.mlir").read_text()
    assert before.count("arith.mulf") == replay.stdout.count("arith.mulf") + 1
    assert replay.stdout.count("arith.addf") == before.count("arith.addf") + 1


def test_states_that_cannot_run_are_reported_not_blamed():
    """Between bufferized memrefs and the LLVM dialect the IR is half lowered: not run, and a
    divergence seen only after such states names all of them as suspects."""
    elements = parse_pipeline("strata-lower-to-llvm")
    at = next(i for i, e in enumerate(elements) if e == "finalize-memref-to-llvm")
    elements.insert(at + 1, *parse_pipeline("test-strata-miscompile{op=arith.addf}"))
    report = bisect(_mlp(softmax=False), pipeline=elements)  # the first addf: the bias
    assert any(s.how == "not run" and s.note for s in report.steps)
    assert report.first_divergence is not None and report.first_divergence.how == "JIT"
    assert "test-strata-miscompile{op=arith.addf}" in [s.element for s in report.suspects]


def test_given_inputs_and_a_failing_pass():
    module = _mlp()
    report = bisect(module, inputs=[np.ones((4, 16), np.float32)], pipeline="graph-fuse-ops")
    assert report.first_divergence is None
    with pytest.raises(CompileError, match="bisect needs one public function, found 0"):
        bisect(strata.parse_module("module {}"))


def test_cli_finds_the_planted_bug_in_an_example(tmp_path, capsys):
    pipeline = "graph-fuse-ops,convert-graph-to-tprog,test-strata-miscompile,convert-tprog-to-scf"
    args = ["bisect", str(EXAMPLES / "mlp.py"), "--pipeline", pipeline, "--out", str(tmp_path)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "first divergence after pass 3: test-strata-miscompile" in out
    assert (tmp_path / "reproduce.sh").is_file()
    assert main(["bisect", str(EXAMPLES / "mlp.py"), "--pipeline", "graph-fuse-ops"]) == 0


def test_cli_bad_pipeline_is_a_clear_error(capsys):
    assert main(["bisect", str(EXAMPLES / "mlp.py"), "--pipeline", "no-such-pass"]) == 1
    assert "no-such-pass" in capsys.readouterr().err
