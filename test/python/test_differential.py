"""Differential testing: random graph programs (`strata.fuzz.graphs`) give the graph-level
simulator's (numpy references') results under every pipeline variant."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strata.fuzz import graphs
from strata.fuzz.graph_programs import Program, programs
from strata.fuzz.graphs import check

# Each example compiles two variants (~0.1-0.3 s each); derandomized, so CI runs the same
# programs every time.
SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
COMPILED = [v for v in graphs.VARIANTS if v not in ("default", "schedule")]


def assert_no_mismatch(program: Program, variants) -> None:
    mismatches = check(program, variants)
    assert not mismatches, "\n".join(
        [program.describe(), *(f"{m.variant}: {m.message}" for m in mismatches)]
    )


@settings(max_examples=120, **SETTINGS)
@given(programs(), st.sampled_from(COMPILED))
def test_default_and_one_variant(program: Program, variant: str) -> None:
    assert_no_mismatch(program, ["default", variant])


@settings(max_examples=40, **SETTINGS)
@given(programs())
def test_simulated_levels_of_the_default_pipeline(program: Program) -> None:
    assert_no_mismatch(program, ["sim-tprog", "sim-hwprim"])


@settings(max_examples=40, **SETTINGS)
@given(programs().filter(lambda p: p.has_matmul))
def test_sampled_schedules(program: Program) -> None:
    assert_no_mismatch(program, ["schedule"])


@settings(max_examples=30, **SETTINGS)
@given(programs())
def test_cuda_target_schedules(program: Program) -> None:
    """Compiled to PTX for sm_90a; the GPU-scheduled programs agree in the simulator."""
    assert_no_mismatch(program, [graphs.GPU_VARIANT])


def test_compare_reports_the_largest_error() -> None:
    want = np.array([[1.0, 2.0], [3.0, 400.0]], np.float32)
    assert graphs.compare([want + 0.03], [want]) is None  # within 1e-4 x 400
    error, message = graphs.compare([want + np.float32([[0, 0], [0.5, 0]])], [want])
    assert error == pytest.approx(0.5) and "at [1, 0]" in message
    assert graphs.compare([want.T.copy()[:1]], [want])[1].startswith("result 0 is float32[1, 2]")


def test_runs_are_deterministic() -> None:
    a, b = graphs.program_for(3, 17), graphs.program_for(3, 17)
    assert a.describe() == b.describe()
    assert all(np.array_equal(x, y) for x, y in zip(a.arrays(), b.arrays()))


def test_command_line(tmp_path, capsys) -> None:
    code = graphs.main(["--graphs", "2", "--seed", "5", "--out", str(tmp_path)])
    assert code == 0
    assert "graph fuzz: 2 graphs" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_command_line_rejects_unknown_variant(capsys) -> None:
    with pytest.raises(SystemExit):
        graphs.main(["--variants", "default,bogus"])
    assert "unknown variants bogus" in capsys.readouterr().err
