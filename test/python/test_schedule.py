"""The schedule API of tensor programs: primitives, traces, preconditions, numerics vs numpy."""

from __future__ import annotations

import numpy as np
import pytest
import strata
from strata.pipelines import Pipeline
from strata.transforms.tprog.nest import ScheduleError
from strata.transforms.tprog.schedule import Schedule
from strata.transforms.tprog.trace import Trace, TraceError

SHAPES = [(64, 48, 32), (100, 60, 30)]  # (n, k, m): divisible and odd


def matmul_relu(n: int, k: int, m: int, relu: bool = True, fuse: bool = True):
    """A module whose tensor program is fused_matmul_relu (or matmul alone)."""
    b = strata.GraphBuilder("mm")
    x, w = b.input((n, k)), b.input((k, m))
    y = b.matmul(x, w)
    mod = b.finish(b.relu(y) if relu else y)
    passes = "graph-fuse-ops,convert-graph-to-tprog" if fuse else "convert-graph-to-tprog"
    Pipeline.parse(passes).run(mod)
    return mod


def check_matmul(mod, n, k, m, rng, relu=True):
    a = rng.standard_normal((n, k)).astype(np.float32)
    w = rng.standard_normal((k, m)).astype(np.float32)
    expected = a @ w
    if relu:
        expected = np.maximum(expected, 0)
    np.testing.assert_allclose(strata.compile(mod)(a, w), expected, rtol=1e-4, atol=1e-4)


def loops(sch, block="matmul"):
    return [str(lp) for lp in sch.get_loops(block)]


# --- numerics of each primitive -----------------------------------------------------------------


@pytest.mark.parametrize("n,k,m", SHAPES)
def test_split_none_factor(n, k, m, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    i, _, _ = sch.get_loops(sch.get_block("matmul"))
    assert [str(x) for x in sch.split(i, [None, 8])] == ["i_0", "i_1"]
    assert loops(sch) == ["i_0", "i_1", "j", "k"]
    check_matmul(mod, n, k, m, rng)


@pytest.mark.parametrize("n,k,m", SHAPES)
def test_split_three_way(n, k, m, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    i, j, kk = sch.get_loops("matmul")
    assert [str(x) for x in sch.split(kk, [2, None, 4])] == ["k_0", "k_1", "k_2"]
    sch.split(j, [None, 2, 8])
    check_matmul(mod, n, k, m, rng)


def test_split_non_divisible(rng):
    mod = matmul_relu(100, 60, 30)
    sch = Schedule(mod)
    i, j, k = sch.get_loops("matmul")
    sch.split(i, [None, 8])  # 13 * 8 = 104 > 100: a guarded tail
    sch.split(k, [None, 7])  # a guarded reduction tail
    sch.split(j, [4, 8])  # explicit factors covering 32 > 30
    check_matmul(mod, 100, 60, 30, rng)


@pytest.mark.parametrize("n,k,m", SHAPES)
def test_reorder(n, k, m, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    i, j, kk = sch.get_loops("matmul")
    sch.reorder(kk, j, i)
    assert loops(sch) == ["k", "j", "i"]
    check_matmul(mod, n, k, m, rng)


@pytest.mark.parametrize("n,k,m", SHAPES)
def test_fuse(n, k, m, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    i, j, _ = sch.get_loops("matmul")
    assert str(sch.fuse(i, j)) == "i_j_fused"
    assert loops(sch) == ["i_j_fused", "k"]
    check_matmul(mod, n, k, m, rng)


@pytest.mark.parametrize("n,k,m", SHAPES)
def test_parallel(n, k, m, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    i, j, _ = sch.get_loops("matmul")
    i0, _ = sch.split(i, [None, 8])
    sch.parallel(i0)
    assert 'tprog.kind = "parallel", tprog.loop = "i_0"' in str(sch)
    check_matmul(mod, n, k, m, rng)


@pytest.mark.parametrize("n,k,m", SHAPES)
def test_vectorize(n, k, m, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    i, j, kk = sch.get_loops("matmul")
    sch.reorder(i, kk, j)
    _, j1 = sch.split(j, [None, 8])
    sch.vectorize(j1)
    assert 'tprog.kind = "vectorized", tprog.loop = "j_1"' in str(sch)
    check_matmul(mod, n, k, m, rng)


@pytest.mark.parametrize("n,k,m", SHAPES)
def test_unroll(n, k, m, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    _, _, kk = sch.get_loops("matmul")
    _, k1 = sch.split(kk, [None, 4])
    sch.unroll(k1)
    assert 'tprog.kind = "unrolled", tprog.loop = "k_1"' in str(sch)
    check_matmul(mod, n, k, m, rng)


@pytest.mark.parametrize("n,k,m", SHAPES)
def test_decompose_reduction(n, k, m, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    i, j, kk = sch.get_loops("matmul")
    i0, i1 = sch.split(i, [None, 8])
    sch.reorder(i0, j, kk, i1)
    assert str(sch.decompose_reduction("matmul", kk)) == "matmul_init"
    assert loops(sch, "matmul_init") == ["i_0", "j", "i_1_init"]
    check_matmul(mod, n, k, m, rng)


@pytest.mark.parametrize("n,k,m", SHAPES)
def test_sample_perfect_tile_seed(n, k, m, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod, seed=7)
    i, j, _ = sch.get_loops("matmul")
    factors = sch.sample_perfect_tile(i, n=3, max_innermost_factor=8)
    assert len(factors) == 3 and int(np.prod(factors)) == n and factors[-1] <= 8
    sch.split(i, factors)
    check_matmul(mod, n, k, m, rng)


def test_sample_perfect_tile_decision(rng):
    mod = matmul_relu(64, 48, 32)
    sch = Schedule(mod)
    i, _, _ = sch.get_loops("matmul")
    factors = sch.sample_perfect_tile(i, n=2, decision=[16, 4])
    assert list(factors) == [16, 4]
    sch.split(i, factors)
    assert "decision=[16, 4]" in str(sch.trace)
    check_matmul(mod, 64, 48, 32, rng)


def test_sample_perfect_tile_bad_decision():
    sch = Schedule(matmul_relu(64, 48, 32))
    with pytest.raises(ScheduleError, match="decision"):
        sch.sample_perfect_tile("i", n=2, decision=[8, 4])


def test_sample_perfect_tile_deterministic():
    def draw(seed):
        sch = Schedule(matmul_relu(64, 48, 32), seed=seed)
        return [list(sch.sample_perfect_tile(lp, n=3)) for lp in ("i", "j", "k")]

    assert draw(5) == draw(5)
    for seed in range(4):  # any seed: perfect tiles of (64, 32, 48), innermost <= 16
        drawn = draw(seed)
        assert [int(np.prod(f)) for f in drawn] == [64, 32, 48]
        assert all(f[-1] <= 16 for f in drawn)


def add_relu(a_shape, b_shape, fuse=False):
    b = strata.GraphBuilder("ar")
    x, y = b.input(a_shape), b.input(b_shape)
    mod = b.finish(b.relu(b.add(x, y)))
    passes = "graph-fuse-ops,convert-graph-to-tprog" if fuse else "convert-graph-to-tprog"
    Pipeline.parse(passes).run(mod)
    return mod


@pytest.mark.parametrize("shapes", [((8, 32), (8, 32)), ((8, 30), (30,)), ((5, 1, 6), (7, 1))])
def test_elementwise_add_relu(shapes, rng):
    a_shape, b_shape = shapes
    mod = add_relu(a_shape, b_shape)  # prim funcs add and relu
    add = Schedule(mod, "add")
    add_loops = add.get_loops("add")
    assert [str(lp) for lp in add_loops] == [f"i{d}" for d in range(len(add_loops))]
    _, inner = add.split(add_loops[-1], [None, 4])
    add.vectorize(inner)
    add.parallel(add_loops[0])
    relu = Schedule(mod, "relu")
    fused = relu.fuse(*relu.get_loops("relu"))
    relu.split(fused, [None, 16])
    x = rng.standard_normal(a_shape).astype(np.float32)
    y = rng.standard_normal(b_shape).astype(np.float32)
    np.testing.assert_allclose(strata.compile(mod)(x, y), np.maximum(x + y, 0), rtol=1e-6)


def test_fused_elementwise_loops_are_addressable():
    sch = Schedule(add_relu((8, 32), (8, 32), fuse=True))
    i0, i1 = sch.get_loops("add")
    sch.split(i1, [None, 4])
    # Repeated loop names in one function get a suffix, so every loop can be named.
    assert [str(loop) for loop in sch.get_loops("relu")] == ["i0_1", "i1_1"]


# --- MLC chapter 2 exercise ---------------------------------------------------------------------


def test_mlc_chapter2_matmul_relu(rng):
    mod = matmul_relu(128, 128, 128)
    sch = Schedule(mod, "fused_matmul_relu")
    block = sch.get_block("matmul")
    i, j, k = sch.get_loops(block)
    j0, j1 = sch.split(j, factors=[None, 4])
    text = str(sch)
    assert 'tprog.loop = "j_0"' in text and 'tprog.loop = "j_1"' in text
    assert "affine_map<(d0, d1) -> (d0 * 4 + d1)>" in text
    sch.reorder(j0, k, j1)
    assert loops(sch) == ["i", "j_0", "k", "j_1"]
    sch.parallel(i)
    assert 'tprog.kind = "parallel", tprog.loop = "i"' in str(sch)
    sch.vectorize(j1)
    assert 'tprog.kind = "vectorized", tprog.loop = "j_1"' in str(sch)
    init = sch.decompose_reduction(block, k)
    text = str(sch)
    assert 'name = "matmul_init"' in text and 'tprog.loop = "j_1_init"' in text
    assert loops(sch, init) == ["i", "j_0", "j_1_init"]
    check_matmul(mod, 128, 128, 128, rng)


# --- traces -------------------------------------------------------------------------------------


def _scheduled(mod):
    sch = Schedule(mod)
    i, j, k = sch.get_loops(sch.get_block("matmul"))
    i0, i1 = sch.split(i, [None, 8])
    sch.reorder(i0, j, k, i1)
    sch.decompose_reduction("matmul", k)
    sch.parallel(i0)
    sch.unroll(i1)
    sch.fuse(*sch.get_loops("relu"))
    return sch


def test_trace_round_trip_and_replay():
    sch = _scheduled(matmul_relu(100, 60, 30))
    text = str(sch.trace)
    assert text.startswith("# schedule: fused_matmul_relu\n")
    assert str(Trace.parse(text)) == text
    fresh = Schedule(matmul_relu(100, 60, 30))
    Trace.parse(text).apply(fresh)
    assert str(fresh) == str(sch)
    assert str(fresh.trace) == text


def test_trace_replay_of_sampled_factors():
    mod = matmul_relu(64, 48, 32)
    sch = Schedule(mod, seed=3)
    sch.split("i", sch.sample_perfect_tile("i", n=3))
    fresh = Schedule(matmul_relu(64, 48, 32), seed=99)  # the recorded decision wins over the seed
    Trace.parse(str(sch.trace)).apply(fresh)
    assert str(fresh) == str(sch)


def test_trace_round_trip_of_sampled_factors():
    sch = Schedule(matmul_relu(64, 48, 32), seed=3)
    sch.split("i", sch.sample_perfect_tile("i", n=3))
    text = str(sch.trace)
    assert str(Trace.parse(text)) == text


def test_trace_parse_all_sections():
    text = '# schedule: f\nsch.parallel("i")\n\n# schedule: g\nsch.unroll("k")\n'
    traces = Trace.parse_all(text)
    assert [t.func_name for t in traces] == ["f", "g"]
    with pytest.raises(TraceError, match="expected one trace, found 2"):
        Trace.parse(text)


@pytest.mark.parametrize(
    "text,message,line",
    [
        ('# schedule: f\nsch.tile("i")\n', "unknown schedule primitive 'tile'", 2),
        ("# schedule: f\nsch.parallel(i + 1)\n", "unsupported argument 'i \\+ 1'", 2),
        ('# schedule: f\nsch.parallel(f("i"))\n', "unsupported argument", 2),
        ('sch.parallel("i")\n', "expected '# schedule: <function>' first", 1),
        ("# schedule: f\nimport os\n", "not a schedule instruction", 2),
        ('# schedule: f\nos.system("x")\n', "expected a call 'sch.<primitive>", 2),
        ('# schedule: f\nsch.parallel("i", speed=2)\n', "'parallel' has no parameter 'speed'", 2),
    ],
)
def test_trace_malformed(text, message, line):
    with pytest.raises(TraceError, match=message) as info:
        Trace.parse_all(text)
    assert info.value.line == line


def test_trace_step_that_does_not_apply_names_its_line():
    text = '# schedule: fused_matmul_relu\nsch.parallel("i")\nsch.parallel("k")\n'
    with pytest.raises(TraceError, match="loop 'k' carries reduction") as info:
        Trace.parse(text).apply(Schedule(matmul_relu(16, 16, 16)))
    assert info.value.line == 3


# --- preconditions ------------------------------------------------------------------------------


@pytest.fixture
def sch():
    return Schedule(matmul_relu(64, 48, 32))


@pytest.mark.parametrize("primitive", ["parallel", "vectorize"])
def test_reduction_loop_rejected(sch, primitive):
    with pytest.raises(ScheduleError, match=f"{primitive}: loop 'k' carries reduction variable"):
        getattr(sch, primitive)("k")


def test_vectorize_not_innermost(sch):
    with pytest.raises(ScheduleError, match="vectorize: loop 'j' is not innermost"):
        sch.vectorize("j")


@pytest.mark.parametrize(
    "factors,message",
    [
        ([4, 8], r"split of loop 'i': factors \[4, 8\] cover 32 of 64 iterations"),
        ([None, None], "split of loop 'i': at most one factor may be None"),
        ([0, None], "split of loop 'i': factors must be positive"),
        ([-2, 32], "split of loop 'i': factors must be positive"),
        ([8], "split of loop 'i' needs at least 2 factors"),
    ],
)
def test_split_bad_factors(sch, factors, message):
    with pytest.raises(ScheduleError, match=message):
        sch.split("i", factors)


def test_reorder_loops_of_two_nests(sch):
    with pytest.raises(ScheduleError, match="reorder: loops k, i0 are not nested in one another"):
        sch.reorder("k", "i0")
    with pytest.raises(ScheduleError, match="reorder: loop 'i0' is not in the nest"):
        sch.reorder("i", "i0")


def test_reorder_loop_given_twice(sch):
    with pytest.raises(ScheduleError, match="reorder: a loop is given twice"):
        sch.reorder("i", "j", "i")


def test_fuse_not_consecutive(sch):
    with pytest.raises(ScheduleError, match="fuse: loops i, k must be consecutive"):
        sch.fuse("i", "k")


def test_fuse_not_perfectly_nested(sch):
    sch.decompose_reduction("matmul", "k")
    with pytest.raises(ScheduleError, match="fuse: loop 'j' holds more than the next loop"):
        sch.fuse("j", "k")


def test_fuse_single_loop(sch):
    with pytest.raises(ScheduleError, match="fuse needs at least 2 loops"):
        sch.fuse("i")


def test_decompose_reduction_spatial_block(sch):
    with pytest.raises(ScheduleError, match="block 'relu' has no reduction variable"):
        sch.decompose_reduction("relu", "i0")


def test_decompose_reduction_loop_not_enclosing(sch):
    with pytest.raises(ScheduleError, match="loop 'i0' does not enclose block 'matmul'"):
        sch.decompose_reduction("matmul", "i0")


def test_decompose_reduction_inside_reduction_loop(sch):
    sch.split("k", [None, 4])
    with pytest.raises(ScheduleError, match="loop 'k_1' is inside a loop of a reduction"):
        sch.decompose_reduction("matmul", "k_1")


def test_decompose_reduction_twice(sch):
    sch.decompose_reduction("matmul", "k")
    with pytest.raises(ScheduleError, match="block 'matmul' has no init to move"):
        sch.decompose_reduction("matmul", "k")


def test_unknown_names(sch):
    with pytest.raises(ScheduleError, match="no block named 'conv' in 'fused_matmul_relu'"):
        sch.get_block("conv")
    with pytest.raises(ScheduleError, match="no loop named 'q' in 'fused_matmul_relu'"):
        sch.split("q", [None, 2])
    with pytest.raises(ScheduleError, match="no loop named 'q'"):
        sch.parallel("q")


def test_failed_primitive_leaves_function_and_trace_unchanged(sch):
    before, trace = str(sch), str(sch.trace)
    with pytest.raises(ScheduleError):
        sch.reorder("i", "j", "i")
    assert str(sch) == before and str(sch.trace) == trace


def test_several_prim_funcs_need_a_name():
    mod = matmul_relu(8, 8, 8, fuse=False)
    names = r"\((matmul, relu|relu, matmul)\)"
    with pytest.raises(ScheduleError, match=rf"several tensor programs {names}; name one"):
        Schedule(mod)
    assert Schedule(mod, "relu").func_name == "relu"
    with pytest.raises(ScheduleError, match="no tensor program named 'conv'"):
        Schedule(mod, "conv")


# --- inlining -----------------------------------------------------------------------------------


def matmul_bias_relu(n: int, k: int, m: int):
    b = strata.GraphBuilder("f")
    x, w, bias = b.input((n, k)), b.input((k, m)), b.input((m,))
    mod = b.finish(b.relu(b.add(b.matmul(x, w), bias)))
    Pipeline.parse("graph-fuse-ops,convert-graph-to-tprog").run(mod)
    return mod


def test_reverse_compute_inline_chain(rng):
    mod = matmul_bias_relu(40, 24, 36)
    sch = Schedule(mod)
    sch.reverse_compute_inline("relu")  # relu folds into add
    assert 'name = "relu"' not in str(sch)
    body = str(sch).split('name = "matmul"')[1]
    assert "arith.maximumf" in body
    x, w, c = (rng.standard_normal(s).astype(np.float32) for s in ((40, 24), (24, 36), (36,)))
    np.testing.assert_allclose(
        strata.compile(mod)(x, w, c), np.maximum(x @ w + c, 0), rtol=1e-5, atol=1e-5
    )


def test_compute_inline(rng):
    mod = add_relu((8, 30), (30,), fuse=True)
    sch = Schedule(mod)
    sch.compute_inline("add")
    text = str(sch)
    assert 'name = "add"' not in text and "arith.addf" in text
    x = rng.standard_normal((8, 30)).astype(np.float32)
    y = rng.standard_normal(30).astype(np.float32)
    np.testing.assert_allclose(strata.compile(mod)(x, y), np.maximum(x + y, 0), rtol=1e-6)
    assert str(Trace.parse(str(sch.trace))) == str(sch.trace)


def test_inline_preconditions():
    sch = Schedule(matmul_bias_relu(16, 8, 16))
    with pytest.raises(ScheduleError, match="compute_inline: block 'matmul' is a reduction"):
        sch.compute_inline("matmul")
    with pytest.raises(ScheduleError, match="block 'relu' writes a buffer that is not local"):
        sch.compute_inline("relu")
    with pytest.raises(
        ScheduleError, match="reverse_compute_inline: block 'matmul' is a reduction"
    ):
        sch.reverse_compute_inline("matmul")


# --- compute_at, reverse_compute_at, cache_read, cache_write ------------------------------------


@pytest.mark.parametrize("n,k,m,factor", [(64, 48, 32, 8), (20, 12, 16, 6), (37, 5, 9, 4)])
def test_compute_at(n, k, m, factor, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    i0, _ = sch.get_loops("relu")
    outer, _ = sch.split(i0, [None, factor])
    sch.compute_at("matmul", outer)
    assert [str(loop) for loop in sch.get_loops("matmul")][0] == str(outer)
    check_matmul(mod, n, k, m, rng)


@pytest.mark.parametrize("n,k,m,factor", [(64, 48, 32, 8), (20, 12, 16, 6), (37, 5, 9, 4)])
def test_reverse_compute_at(n, k, m, factor, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    i, _, _ = sch.get_loops("matmul")
    outer, _ = sch.split(i, [None, factor])
    sch.reverse_compute_at("relu", outer)
    assert [str(loop) for loop in sch.get_loops("relu")][0] == str(outer)
    check_matmul(mod, n, k, m, rng)


def test_compute_at_preconditions():
    sch = Schedule(matmul_relu(16, 8, 16))
    i0, _ = sch.get_loops("relu")
    with pytest.raises(
        ScheduleError, match="compute_at: no other block reads the result of block 'relu'"
    ):
        sch.compute_at("relu", "i")
    i, _, _ = sch.get_loops("matmul")
    with pytest.raises(
        ScheduleError, match="block 'relu' reads the result of block 'matmul' outside"
    ):
        sch.compute_at("matmul", i)
    with pytest.raises(ScheduleError, match="reverse_compute_at: block 'matmul' is a reduction"):
        sch.reverse_compute_at("matmul", i0)


@pytest.mark.parametrize("n,k,m", [(64, 48, 32), (37, 5, 9)])
def test_cache_read_and_write(n, k, m, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    read = sch.cache_read("matmul", 1)
    write = sch.cache_write("matmul", 0)
    assert str(read) == "matmul_read_cache_1" and str(write) == "matmul_write_cache_0"
    text = str(sch)
    assert 'name = "matmul_read_cache_1"' in text and 'name = "matmul_write_cache_0"' in text
    assert str(Trace.parse(str(sch.trace))) == str(sch.trace)
    check_matmul(mod, n, k, m, rng)


def test_cache_read_then_compute_at(rng):
    """The MLC pattern: cache a weight panel, then compute the copy under the loop that uses it."""
    mod = matmul_relu(32, 16, 24)
    sch = Schedule(mod)
    cache = sch.cache_read("matmul", 1)
    i, _, _ = sch.get_loops("matmul")
    outer, _ = sch.split(i, [None, 8])
    sch.compute_at(cache, outer)
    check_matmul(mod, 32, 16, 24, rng)


def test_cache_preconditions():
    sch = Schedule(matmul_relu(16, 8, 16))
    with pytest.raises(
        ScheduleError, match="block 'matmul' reads 3 buffers; index 3 is out of range"
    ):
        sch.cache_read("matmul", 3)
    with pytest.raises(
        ScheduleError, match="block 'relu' writes 1 buffers; index 1 is out of range"
    ):
        sch.cache_write("relu", 1)


# --- blockize -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n,k,m", [(20, 12, 16), (64, 48, 32)])
def test_blockize(n, k, m, rng):
    mod = matmul_relu(n, k, m)
    sch = Schedule(mod)
    i, j, _k = sch.get_loops("matmul")
    i0, i1 = sch.split(i, [None, 4])
    j0, j1 = sch.split(j, [None, 8])
    sch.reorder(i0, j0, i1, j1, _k)
    outer = sch.blockize(i1)
    assert str(outer) == "matmul_o"
    text = str(sch)
    assert f"dom = array<i64: {-(-n // 4)}, {m // 8}>" in text and 'name = "matmul_o"' in text
    # the inner block keeps its loops, now inside the outer block
    assert [str(loop) for loop in sch.get_loops("matmul")] == ["i_0", "j_0", "i_1", "j_1", "k"]
    assert str(Trace.parse(str(sch.trace))) == str(sch.trace)
    check_matmul(mod, n, k, m, rng)


def test_blockize_preconditions():
    sch = Schedule(matmul_relu(16, 8, 16))
    with pytest.raises(ScheduleError, match="blockize: loop 'nope'|no loop named 'nope'"):
        sch.blockize("nope")
    i, j, _k = sch.get_loops("matmul")
    fused = sch.fuse(i, j)  # bindings become fused // 16 and fused % 16
    with pytest.raises(ScheduleError, match="blockize: a binding of block 'matmul' is not linear"):
        sch.blockize(fused)
    other = Schedule(matmul_relu(16, 8, 16))
    other.decompose_reduction("matmul", "k")  # the init block now sits in loop j too
    with pytest.raises(ScheduleError, match="loop 'j' must hold exactly one block, found 2"):
        other.blockize("j")
