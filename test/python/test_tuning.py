"""The tuner: a small run writes a database whose best schedules strata.compile replays."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import strata
from strata.pipelines import Pipeline
from strata.transforms.tprog.schedule import Schedule
from strata.transforms.tprog.trace import Trace
from strata.tuning.database import Database, workload_key
from strata.tuning.tuner import tune

MATMUL_RELU = """
func.func @f(%x: tensor<48x40xf32>, %w: tensor<40x36xf32>) -> tensor<48x36xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<48x40xf32>, tensor<40x36xf32>) -> tensor<48x36xf32>
  %1 = "graph.relu"(%0) : (tensor<48x36xf32>) -> tensor<48x36xf32>
  return %1 : tensor<48x36xf32>
}
"""


def test_tune_then_compile_replays_best(tmp_path: Path, rng) -> None:
    db_path = tmp_path / "tuning.jsonl"
    module = strata.parse_module(MATMUL_RELU)
    results = tune(module, database=db_path, trials=5, seed=7, progress=False)
    assert set(results) == {"fused_matmul_relu"}
    default, best = results["fused_matmul_relu"]
    assert best <= default  # the default schedule is the first trial
    records = [json.loads(line) for line in db_path.read_text().splitlines()]
    assert len(records) == 5 + 1  # every trial, then the re-measured winner
    assert all('sch.tensorize("matmul"' in r["trace"] for r in records)
    assert [r["final"] for r in records] == [False] * 5 + [True]

    # The best record's tile is what compile applies.
    db = Database(db_path)
    tprog = strata.parse_module(MATMUL_RELU)
    Pipeline.parse("graph-fuse-ops,convert-graph-to-tprog").run(tprog)
    fn = [op for op in tprog.regions[0].blocks[0].operations if "tprog.prim_func" in op.attributes][
        0
    ]
    from strata.targets import get_target

    width = get_target("cpu").vector_width
    record = db.best(workload_key(fn.operation), f"cpu/{width}")
    assert record is not None and record.final and record.trace == records[-1]["trace"]
    Pipeline.parse(f"tprog-apply-tuning-db{{file={db_path}}}").run(tprog)
    assert "hwprim.fma_microkernel" in str(tprog)

    compiled = strata.compile(module, tuning_db=db_path)
    x = rng.standard_normal((48, 40)).astype(np.float32)
    w = rng.standard_normal((40, 36)).astype(np.float32)
    np.testing.assert_allclose(compiled(x, w), np.maximum(x @ w, 0), rtol=1e-5, atol=1e-5)


def test_tuning_is_seeded(tmp_path: Path) -> None:
    """The default schedule and the random phase (the first 1 + trials // 2 schedules) depend
    only on the seed; the evolutionary step after them follows measured times."""

    def sampled(seed: int, path: Path) -> list[str]:
        tune(strata.parse_module(MATMUL_RELU), database=path, trials=4, seed=seed, progress=False)
        return [json.loads(line)["trace"] for line in path.read_text().splitlines()][:3]

    assert sampled(3, tmp_path / "a.jsonl") == sampled(3, tmp_path / "b.jsonl")


def test_sample_categorical_and_tensorize_trace(rng) -> None:
    module = strata.parse_module(MATMUL_RELU)
    Pipeline.parse("graph-fuse-ops,convert-graph-to-tprog").run(module)
    sch = Schedule(module, seed=2)
    rows = sch.sample_categorical([2, 4, 8])
    cols = sch.sample_categorical([16, 32], decision=[1])
    assert cols == 32
    sch.tensorize("matmul", rows=rows, cols=cols, pack=1, parallel=0, vector_width=16)
    text = str(sch.trace)
    assert "decision=[1]" in text and 'sch.tensorize("matmul", rows=v1, cols=v2' in text
    assert str(Trace.parse(text)) == text
    x = rng.standard_normal((48, 40)).astype(np.float32)
    w = rng.standard_normal((40, 36)).astype(np.float32)
    np.testing.assert_allclose(
        strata.compile(module)(x, w), np.maximum(x @ w, 0), rtol=1e-5, atol=1e-5
    )


def test_tensorize_refuses_non_matmul() -> None:
    module = strata.parse_module(MATMUL_RELU)
    Pipeline.parse("graph-fuse-ops,convert-graph-to-tprog").run(module)
    sch = Schedule(module)
    with pytest.raises(
        ValueError, match="tensorize: block 'relu' does not match fma_f32 .*its iterators are not"
    ):
        sch.tensorize("relu", rows=8, cols=16)
    with pytest.raises(ValueError, match="sample_categorical: decision"):
        sch.sample_categorical([1, 2], decision=[5])


def test_bad_database_is_a_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    with pytest.raises(strata.CompileError, match="cannot use tuning database"):
        strata.compile(strata.parse_module(MATMUL_RELU), tuning_db=bad)


def test_strata_tune_cli(tmp_path: Path) -> None:
    source = tmp_path / "m.mlir"
    source.write_text(MATMUL_RELU)
    tool = Path(sys.executable).parent / "strata"
    db = tmp_path / "db.jsonl"
    done = subprocess.run(
        [str(tool), "tune", str(source), "--db", str(db), "--trials", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "fused_matmul_relu" in done.stdout and "tuned" in done.stdout
    assert len(db.read_text().splitlines()) == 2 + 1
    bad = subprocess.run(
        [str(tool), "tune", str(source), "--db", str(db), "--trials", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and "error: --trials must be at least 1" in bad.stderr
    assert "Traceback" not in bad.stderr
