"""Reductions shared by the threads of a GPU block: rfactor, cross_thread_reduction and merge, and
the row kernels tprog-gpu-schedule builds from them (softmax, log_softmax, layer_norm, reduce_*
with at least 64 elements per row), checked by simulating the scheduled programs against numpy
in the sequential reading and with every thread loop run in other orders (what the barriers
make irrelevant), and by compiling them to cubins."""

from __future__ import annotations

import contextlib
import math
import re

import numpy as np
import pytest
import strata
from gpu_programs import SCHEDULE, graph, kernels, tprog
from mlir import ir
from mlir.dialects import affine
from strata.dialects.tprog import PRIM_FUNC
from strata.irutil import functions, symbol_name, walk
from strata.pipelines import Pipeline
from strata.targets.cuda import ptxas_path
from strata.transforms.tprog import bind, nest
from strata.transforms.tprog.gpu_schedule import default_schedule
from strata.transforms.tprog.nest import ScheduleError
from strata.transforms.tprog.schedule import Schedule
from strata.transforms.tprog.trace import Trace


def permute_threads(module, multiplier: int) -> None:
    """Run the iterations of every loop bound to a threadIdx axis in another order,
    `t -> (t * a + a - 1) mod n` (a: `multiplier` or the next number coprime with n; n - 1
    reverses): a schedule that is right in both readings gives the same bits."""
    for op in [o for o in walk(module.operation) if (bind.axis_of(o) or "").startswith("thread")]:
        n = nest.loop_extent(op)
        if n == 1:
            continue
        a = next(c for c in range(multiplier, multiplier + n + 1) if math.gcd(c, n) == 1)
        iv = op.regions[0].blocks[0].arguments[0]
        first = op.regions[0].blocks[0].operations[0]
        with ir.InsertionPoint(first), op.location:
            d0 = ir.AffineDimExpr.get(0)
            expr = ir.AffineModExpr.get(d0 * a + (a - 1) % n, ir.AffineConstantExpr.get(n))
            moved = affine.AffineApplyOp(ir.AffineMap.get(1, 0, [expr]), [iv])
        for use in list(iv.uses):
            if use.owner != moved.operation:
                use.owner.operands[use.operand_number] = moved.result


class Race(AssertionError):
    pass


@contextlib.contextmanager
def parallel_reading():
    """Simulate with the parallel reading checked: every access is recorded with its thread
    block, its thread (None outside thread loops: every thread) and its barrier interval; two
    accesses of one address, one a write, race when they come from different thread blocks of
    a kernel, or from different threads between the same two barriers."""
    from strata.interpreter import core

    core._ensure_builtin()
    saved = dict(core._SEMANTICS)
    state: dict = {"block": (), "thread": {}, "phase": 0, "log": {}, "keep": [], "single": False}

    def looped(op):
        base = saved["scf.for"](op)
        kind = op.attr("tprog.kind") if op.has_attr("tprog.kind") else ""
        if op.result_types or not kind.startswith(("blockIdx", "threadIdx")):
            return base
        body = op.region(0)

        threads = math.prod(bind.thread_extents(bind.top_level(op.op)).values())

        def loop(lb, ub, step):
            if kind.startswith("blockIdx") and not state["block"]:
                state["log"].clear()  # a new kernel: launches are ordered
                state["single"] = threads == 1
            for i in range(lb, ub, step):
                if kind.startswith("blockIdx"):
                    state["block"] += ((kind, i),)
                    state["phase"] = 0
                else:
                    state["thread"][kind] = i
                body.iterate(range(i, i + 1))
                if kind.startswith("blockIdx"):
                    state["block"] = state["block"][:-1]
                else:
                    del state["thread"][kind]

        return loop

    def record(buf, index, write):
        if not state["block"]:
            return
        address = buf.__array_interface__["data"][0]
        address += sum(i * s for i, s in zip(index, buf.strides))
        thread = tuple(sorted(state["thread"].items())) if state["thread"] else None
        if thread is None and state["single"]:
            thread = ()  # the kernel's one thread
        mine = (state["block"], thread, state["phase"], write)
        for other in state["log"].setdefault(address, set()):
            if not (write or other[3]) or other[:2] == mine[:2] and thread is not None:
                continue
            if other[0] != mine[0] or other[2] == mine[2]:
                raise Race(f"accesses {other} and {mine} of one address race")
        state["log"][address].add(mine)

    def load(op):
        base = saved["memref.load"](op)

        def run(buf, *index):
            record(buf, index, False)
            return base(buf, *index)

        return run

    def store(op):
        base = saved["memref.store"](op)

        def run(value, buf, *index):
            record(buf, index, True)
            return base(value, buf, *index)

        return run

    def alloc(op):
        base = saved["memref.alloc"](op)

        def run(*operands):
            state["keep"].append(base(*operands))  # addresses stay unique
            return state["keep"][-1]

        return run

    def barrier(op):
        def run():
            state["phase"] += 1

        return run

    core._SEMANTICS.update(
        {
            "scf.for": looped,
            "memref.load": load,
            "memref.store": store,
            "memref.alloc": alloc,
            "memref.alloca": alloc,
            "gpu.barrier": barrier,
        }
    )
    try:
        yield
    finally:
        core._SEMANTICS.clear()
        core._SEMANTICS.update(saved)


def run_all_orders(module, arrays):
    """The simulated results in the sequential reading (checked for races in the parallel one),
    and with the thread loops reversed and scrambled; they must agree bit for bit."""
    with parallel_reading():
        (got,) = strata.simulate(module, *arrays)
    for multiplier in (None, 7):
        copy = ir.Module.parse(str(module), module.context)
        permute_threads(copy, multiplier or 10**9)
        (other,) = strata.simulate(copy, *arrays)
        np.testing.assert_array_equal(other, got)
    return got


def scheduled(build, arrays):
    module = graph(build, *(a.shape for a in arrays))
    Pipeline.parse(SCHEDULE).run(module)
    return module


def softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def layer_norm(x, g, c):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * g + c


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# --- default schedules: one kernel per row program, numerics -----------------------------------

SHAPES = [(1, 64), (7, 100), (33, 1000)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op", ["softmax", "log_softmax", "layer_norm"])
def test_normalization_rows(op, shape, rng):
    rows, n = shape
    x = f32(rng, rows, n) * 3
    if op == "layer_norm":
        g, c = f32(rng, n), f32(rng, n)
        build, arrays, expected = (
            lambda b, x, g, c: b.layer_norm(x, g, c),
            [x, g, c],
            layer_norm(x, g, c),
        )
    else:
        build = lambda b, x: getattr(b, op)(x, axis=-1)  # noqa: E731
        arrays = [x]
        expected = softmax(x, -1) if op == "softmax" else np.log(softmax(x, -1))
    module = scheduled(build, arrays)
    threads = min(256, 1 << (n.bit_length() - 1))
    # one kernel: a thread block per row, its threads sharing the row
    assert kernels(module) == [bind.KernelInfo((rows, 1, 1), (threads, 1, 1), 4 * threads * 2)]
    small = rows * n <= 1000  # the race check and other orders on the smaller shapes
    got = run_all_orders(module, arrays) if small else strata.simulate(module, *arrays)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
def test_reduce_last_axis(kind, shape, rng):
    x = f32(rng, *shape)
    module = scheduled(lambda b, x: b.reduce(kind, x, [1], keepdim=kind == "max"), [x])
    (info,) = kernels(module)
    assert info.grid == (shape[0], 1, 1) and info.shared_bytes
    got = run_all_orders(module, [x])
    expected = getattr(np, kind)(x, axis=1, keepdims=kind == "max")
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(2, 64, 3), (3, 100, 11), (1, 1000, 2)])
@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
def test_reduce_middle_axis(kind, shape, rng):
    x = f32(rng, *shape)
    module = scheduled(lambda b, x: b.reduce(kind, x, [1]), [x])
    (info,) = kernels(module)
    assert info.grid == (shape[0] * shape[2], 1, 1)  # the rows: the outer and inner axes fused
    got = run_all_orders(module, [x])
    np.testing.assert_allclose(got, getattr(np, kind)(x, axis=1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_normalization_middle_axis(op, rng):
    x = f32(rng, 3, 100, 5)
    module = scheduled(lambda b, x: getattr(b, op)(x, axis=1), [x])
    assert [k.grid for k in kernels(module)] == [(15, 1, 1)]
    expected = softmax(x, 1) if op == "softmax" else np.log(softmax(x, 1))
    np.testing.assert_allclose(run_all_orders(module, [x]), expected, rtol=1e-5, atol=2e-6)


def test_full_reduction_uses_one_block_of_threads(rng):
    x = f32(rng, 30, 70)
    module = scheduled(lambda b, x: b.reduce("sum", x, [0, 1]), [x])
    assert kernels(module) == [bind.KernelInfo((1, 1, 1), (256, 1, 1), 1024)]
    np.testing.assert_allclose(run_all_orders(module, [x]), x.sum(), rtol=1e-5)


def test_producers_and_transformer_shapes(rng):
    """softmax of a scaled product (attention scores, an elementwise producer inlined twice)."""
    x = f32(rng, 2, 4, 96)
    module = scheduled(lambda b, x: b.softmax(b.mul(x, x), axis=-1), [x])
    assert [k.grid for k in kernels(module)] == [(8, 1, 1)]
    np.testing.assert_allclose(run_all_orders(module, [x]), softmax(x * x, -1), rtol=1e-5)


def test_short_reductions_keep_a_thread_per_row(rng):
    x = f32(rng, 5, 63)
    module = scheduled(lambda b, x: b.softmax(x, axis=-1), [x])
    assert "gpu.barrier" not in str(module) and len(kernels(module)) == 4
    np.testing.assert_allclose(strata.simulate(module, x)[0], softmax(x, -1), rtol=1e-5)


def test_max_threads_option(rng):
    x = f32(rng, 3, 300)
    module = graph(lambda b, x: b.softmax(x, axis=-1), x.shape)
    Pipeline.parse(SCHEDULE.replace("schedule", "schedule{max-threads=100}")).run(module)
    assert [k.block for k in kernels(module)] == [(64, 1, 1)]  # a power of two for the tree
    np.testing.assert_allclose(strata.simulate(module, x)[0], softmax(x, -1), rtol=1e-5)


def test_parallel_reading_finds_missing_barriers(rng):
    """The race check catches each barrier the kernel needs (only merge's between exp and the
    sum's partials is not: the same thread reads what it wrote)."""
    x = f32(rng, 2, 64)
    module = scheduled(lambda b, x: b.softmax(x, axis=-1), [x])
    count = str(module).count("gpu.barrier")
    needed = 0
    for k in range(count):
        copy = ir.Module.parse(str(module), module.context)
        [o for o in walk(copy.operation) if o.name == "gpu.barrier"][k].erase()
        try:
            with parallel_reading():
                strata.simulate(copy, x)
        except strata.CompileError as e:
            assert "race" in str(e)
            needed += 1
    assert needed == count - 1


# --- traces -------------------------------------------------------------------------------------


def test_row_program_replays():
    build = lambda b, x, g, c: b.layer_norm(b.softmax(x, axis=-1), g, c)  # noqa: E731
    shapes = [(5, 100), (100,), (100,)]
    module = tprog(build, *shapes)
    traces = [
        default_schedule(module, symbol_name(f)).trace
        for f in functions(module.operation)
        if PRIM_FUNC in f.attributes
    ]
    text = "".join(map(str, traces))
    for primitive in ("rfactor", "cross_thread_reduction", "merge"):
        assert f"sch.{primitive}(" in text
    fresh = tprog(build, *shapes)
    for trace in Trace.parse_all(text):
        trace.apply(Schedule(fresh, trace.func_name))
    assert str(fresh) == str(module)


# --- the primitives by hand ---------------------------------------------------------------------


def test_rfactor_alone(rng):
    """rfactor without threads (any target): partials per iteration of the loop, then their
    combination; a tail of the split contributes the identity."""
    module = tprog(lambda b, x: b.reduce("max", x, [1]), (6, 50))
    sch = Schedule(module)
    r0, r1 = sch.split("r1", [None, 8])
    rf = sch.rfactor("reduce_max", r1)
    assert str(rf) == "reduce_max_rf" and "memref<6x8xf32>" in str(sch)
    assert re.search(r"scf.if .* -> \(f32\)", str(sch))
    x = f32(rng, 6, 50)
    np.testing.assert_array_equal(strata.simulate(module, x)[0], x.max(1))


def test_rfactor_keeps_other_reduction_loops(rng):
    """Over one of two reduction loops: the other stays a reduction of the rf block."""
    module = tprog(lambda b, x: b.reduce("sum", x, [0, 2]), (6, 5, 7))
    sch = Schedule(module)
    loops = [str(lp) for lp in sch.get_loops("reduce_sum")]
    reduction_loops = [n for n in loops if n.startswith("r")]
    sch.rfactor("reduce_sum", reduction_loops[-1])
    text = str(sch)
    assert 'iter_types = ["spatial", "spatial", "reduction"], name = "reduce_sum_rf"' in text
    x = f32(rng, 6, 5, 7)
    np.testing.assert_allclose(strata.simulate(module, x)[0], x.sum((0, 2)), rtol=1e-5)


def test_rfactor_of_the_whole_reduction_is_spatial(rng):
    module = tprog(lambda b, x: b.reduce("sum", x, [1]), (3, 10))
    sch = Schedule(module)
    sch.rfactor("reduce_sum", "r1")
    assert 'iter_types = ["spatial", "spatial"], name = "reduce_sum_rf"' in str(sch)
    x = f32(rng, 3, 10)
    np.testing.assert_allclose(strata.simulate(module, x)[0], x.sum(1), rtol=1e-5)


def row_kernel_by_hand(threads=32, n=100):
    module = tprog(lambda b, x: b.reduce("sum", x, [1]), (4, n))
    sch = Schedule(module)
    _, lanes = sch.split("r1", [None, threads])
    sch.reorder(lanes, "r1_0")
    rf = sch.rfactor("reduce_sum", lanes)
    sch.bind("i0", "blockIdx.x")
    return module, sch, lanes, rf


def test_cross_thread_reduction_by_hand(rng):
    module, sch, lanes, rf = row_kernel_by_hand()
    sch.bind(lanes, "threadIdx.x")
    sch.cross_thread_reduction("reduce_sum")  # partials accumulated in shared memory
    text = str(sch)
    # before the tree, after each step but the last (thread 0 goes on), after the result
    assert text.count("gpu.barrier") == 6
    assert "memref<32xf32, #gpu.address_space<workgroup>>" in text
    assert [nest.loop_extent(sch._loop_op(f"reduce_sum_tree{s}")) for s in (16, 1)] == [16, 1]
    assert kernels(module) == [bind.KernelInfo((4, 1, 1), (32, 1, 1), 128)]
    x = f32(rng, 4, 100)
    np.testing.assert_allclose(run_all_orders(module, [x]), x.sum(1), rtol=1e-5)


@pytest.mark.parametrize(
    "setup,message",
    [
        (lambda sch: None, "must write the partials at the index of a loop bound to a threadIdx"),
        (
            lambda sch: sch.bind("r1_1", "threadIdx.x") or sch.split("r1_1_c", [None, 16]),
            "must be bound to the loop right around it",
        ),
    ],
)
def test_cross_thread_reduction_refuses(setup, message):
    module, sch, *_ = row_kernel_by_hand()
    try:
        setup(sch)
    except ScheduleError:
        pass
    before = str(sch)
    with pytest.raises(ScheduleError, match=re.escape(message)):
        sch.cross_thread_reduction("reduce_sum")
    assert str(sch) == before


def test_cross_thread_reduction_needs_a_power_of_two():
    module, sch, lanes, _ = row_kernel_by_hand(threads=48)
    sch.bind(lanes, "threadIdx.x")
    with pytest.raises(ScheduleError, match="combines 48 partials; the tree needs a power of two"):
        sch.cross_thread_reduction("reduce_sum")


def test_cross_thread_reduction_needs_a_kernel():
    module = tprog(lambda b, x: b.reduce("sum", x, [1]), (4, 64))
    sch = Schedule(module)
    sch.rfactor("reduce_sum", "r1")
    with pytest.raises(ScheduleError, match="block 'reduce_sum' is in no kernel"):
        sch.cross_thread_reduction("reduce_sum")


@pytest.mark.parametrize(
    "block,loop,message",
    [
        ("relu", "i1", "block 'relu' has no reduction variable"),
        ("reduce_sum", "i1", "loop 'i1' does not enclose block 'reduce_sum'"),
        ("reduce_sum", "i0_1", "loop 'i0_1' carries no reduction variable of block 'reduce_sum'"),
    ],
)
def test_rfactor_refuses(block, loop, message):
    module = tprog(lambda b, x: b.reduce("sum", b.relu(x), [1]), (4, 8))
    sch = Schedule(module)
    before = str(sch)
    with pytest.raises(ScheduleError, match=re.escape(message)):
        sch.rfactor(block, loop)
    assert str(sch) == before


REDUCTION = """
func.func @f(%x: memref<4x8xf32>, %y: memref<4xf32>) attributes {{tprog.prim_func}} {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c4 step %c1 {{
    scf.for %r = %c0 to %c8 step %c1 {{
      "tprog.block"(%i, %r) ({{
      ^bb0(%a: index, %b: index):
        %z = arith.constant 2.0 : f32
        memref.store %z, %y[%a] : memref<4xf32>
        omp.terminator
      }}, {{
      ^bb0(%a: index, %b: index):
        %v = memref.load %x[%a, %b] : memref<4x8xf32>
        %acc = memref.load %y[%a] : memref<4xf32>
        %n = {combine} %acc, %v : f32
        memref.store %n, %y[%a] : memref<4xf32>
        omp.terminator
      }}) {{dom = array<i64: 4, 8>, iter_types = ["spatial", "reduction"], name = "red"}}
        : (index, index) -> ()
    }} {{tprog.loop = "r"}}
  }} {{tprog.loop = "i"}}
  return
}}
"""


def test_rfactor_refuses_what_is_not_add_mul_max_min():
    module = ir.Module.parse(REDUCTION.format(combine="arith.subf"), strata.make_context())
    with pytest.raises(
        ScheduleError, match=re.escape("stores the result of 'arith.subf', not of a combining op")
    ):
        Schedule(module).rfactor("red", "r")


@pytest.mark.parametrize("combine", ["arith.addf", "arith.minimumf", "arith.mulf"])
def test_rfactor_combining_ops(combine, rng):
    """The partials start at the op's identity; the block keeps its own init (2 here)."""
    module = ir.Module.parse(REDUCTION.format(combine=combine), strata.make_context())
    x = rng.uniform(0.5, 1.5, (4, 8)).astype(np.float32)
    expected = {
        "arith.addf": 2 + x.sum(1),
        "arith.minimumf": np.minimum(x.min(1), 2),
        "arith.mulf": 2 * x.prod(1),
    }[combine]
    sch = Schedule(module)
    sch.split("r", [None, 3])  # a tail: the identity outside the domain
    sch.rfactor("red", "r_1")
    y = np.zeros(4, np.float32)
    strata.simulate(module, x, y, function="f")
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_merge_refuses_rows_that_read_other_rows():
    """A column reduction of relu(x): the reduction over rows reads every row of relu's result."""
    module = tprog(lambda b, x: b.reduce("sum", b.relu(x), [0]), (8, 8))
    sch = Schedule(module)
    loops = [str(lp) for lp in sch.get_loops("reduce_sum")]
    sch.reorder(*reversed(loops))
    top = [str(lp) for lp in sch.get_loops("reduce_sum")][0]
    before = str(sch)
    with pytest.raises(ScheduleError, match="share a buffer that is not used row by row"):
        sch.merge("i0", top)
    assert str(sch) == before
    with pytest.raises(ScheduleError, match="give the loops in program order"):
        sch.merge(top, "i0")


def test_merge_refuses_other_extents():
    module = tprog(lambda b, x: b.reduce("sum", b.relu(x), [1]), (4, 8))
    sch = Schedule(module)
    outer, _ = sch.split("i0", [2, 2])
    with pytest.raises(ScheduleError, match=f"loop 'i0_1' has 4 iterations, loop '{outer}' 2"):
        sch.merge(outer, "i0_1")


def test_merge_rows(rng):
    """relu then a row reduction: merged serially (no barrier outside kernels)."""
    module = tprog(lambda b, x: b.reduce("sum", b.relu(x), [1]), (4, 8))
    sch = Schedule(module)
    assert str(sch.merge("i0", "i0_1")) == "i0"
    assert "gpu.barrier" not in str(sch)
    assert len([o for o in sch.fn.regions[0].blocks[0].operations if nest.is_loop(o)]) == 1
    x = f32(rng, 4, 8)
    np.testing.assert_allclose(strata.simulate(module, x)[0], np.maximum(x, 0).sum(1), rtol=1e-5)


# --- the whole path to PTX -------------------------------------------------------------------


@pytest.mark.skipif(ptxas_path() is None, reason="ptxas (CUDA toolkit) not installed")
@pytest.mark.parametrize(
    "build,shapes,dtype,rows",
    [
        (lambda b, x: b.softmax(x, axis=-1), [(33, 1000)], "f32", 33),
        (lambda b, x, g, c: b.layer_norm(x, g, c), [(7, 100), (100,), (100,)], "f32", 7),
        (lambda b, x: b.log_softmax(x, axis=1), [(3, 100, 5)], "f32", 15),
        (lambda b, x: b.reduce("max", x, [1]), [(4, 64, 3)], "f32", 12),
        (lambda b, x: b.softmax(x, axis=-1), [(8, 128)], "f16", 8),
    ],
)
def test_compiles_to_cubin(build, shapes, dtype, rows):
    """The whole path: one launch of a block per row; ptxas accepts the kernel."""
    b = strata.GraphBuilder("f")
    module = b.finish(build(b, *[b.input(s, dtype) for s in shapes]))
    artifact = strata.compile(module, target="cuda", chip="sm_80", cubin=True)
    assert artifact.cubins["kernels"][:4] == b"\x7fELF"
    (launch,) = [s for s in artifact.manifest["steps"] if s["op"] == "launch"]
    assert launch["grid"] == [rows, 1, 1]
    ptx = artifact.ptx["kernels"]
    assert "bar.sync" in ptx and ".shared" in ptx
