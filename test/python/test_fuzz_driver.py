"""The strata-opt mutation fuzzer: a bounded run finds no aborts, tracebacks or hangs."""

from __future__ import annotations

import random

import pytest
from strata.fuzz import driver


def test_bounded_fuzz_run_is_clean(tmp_path):
    outcomes = driver.fuzz(inputs=150, seed=2024, out=tmp_path / "bugs", jobs=2, timeout=20.0)
    assert len(outcomes) == 150
    bugs = [o for o in outcomes if o.kind in driver.BUG_KINDS]
    details = "\n\n".join(
        f"{' '.join(o.case.flags)} (from {o.case.source})\n{o.case.text}\n{o.output}"
        for o in bugs[:3]
    )
    assert not bugs, f"{driver.summarize(outcomes)}\n{details}"


def test_generation_is_deterministic():
    test_dir = driver.repo_root() / "test"
    assert driver.generate(7, 20, test_dir) == driver.generate(7, 20, test_dir)


def test_classify():
    assert driver.classify(0, "") == "ok"
    assert driver.classify(1, "f.mlir:1:2: error: bad") == "error"
    assert driver.classify(1, "strata-opt: error: internal error: KeyError: 'x'") == "traceback"
    assert driver.classify(1, "Traceback (most recent call last):\n  ...") == "traceback"
    assert driver.classify(-6, "") == "signal"
    assert driver.classify(134, "") == "signal"
    assert driver.classify(None, "") == "hang"
    assert driver.classify(2, "usage") == "unclear"


def test_mutations_change_types_consistently():
    text = "func.func @f(%a: tensor<4x8xf32>) -> tensor<4x8xf32>\n  return %a : tensor<4x8xf32>"
    for seed in range(10):
        out = driver.change_shape_everywhere(random.Random(seed), text)
        assert len({m.group(0) for m in driver._SHAPED.finditer(out)}) == 1


def test_mutated_onnx_files_fail_cleanly(tmp_path) -> None:
    """The frontends' file inputs: broken ONNX files through `strata compile` give clean errors."""
    pytest.importorskip("onnx")
    from strata.fuzz import frontends

    outcomes = frontends.fuzz(16, seed=3, out=tmp_path, jobs=2, timeout=120)
    assert len(outcomes) == 16
    bugs = [o for o in outcomes if o.kind in frontends.BUG_KINDS]
    assert not bugs, bugs[0].output
    assert {o.kind for o in outcomes} <= {"ok", "error"}
