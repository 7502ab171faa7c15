"""GPU schedules: bind and its legality rules, shared-memory and register caches, and the default
schedules of tprog-gpu-schedule, checked by simulating the scheduled programs (the sequential
reading of their bindings) against numpy."""

from __future__ import annotations

import re

import numpy as np
import pytest
import strata
from gpu_programs import SCHEDULE, graph, kernels, prim_funcs, tprog
from mlir import ir
from mlir.dialects import gpu
from numpy.lib.stride_tricks import sliding_window_view
from strata.irutil import symbol_name, walk
from strata.pipelines import Pipeline
from strata.transforms.tprog import bind, nest
from strata.transforms.tprog.gpu_schedule import default_schedule
from strata.transforms.tprog.nest import ScheduleError
from strata.transforms.tprog.schedule import Schedule
from strata.transforms.tprog.trace import Trace


def check(build, arrays, expected, *, rtol=1e-4, atol=1e-4):
    """Schedule the graph for the GPU, check its kernels, simulate it against `expected`."""
    module = graph(build, *(a.shape for a in arrays))
    Pipeline.parse(SCHEDULE).run(module)
    infos = kernels(module)
    assert infos
    (got,) = strata.simulate(module, *arrays)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    return module, infos


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# --- default schedules: numerics -------------------------------------------------------------


@pytest.mark.parametrize("m,k,n", [(70, 20, 90), (64, 16, 32)])
def test_matmul_bias_relu(m, k, n, rng):
    x, w, bias = f32(rng, m, k), f32(rng, k, n), f32(rng, n)
    module, infos = check(
        lambda b, x, w, c: b.relu(b.add(b.matmul(x, w), c)),
        [x, w, bias],
        np.maximum(x @ w + bias, 0),
    )
    # one kernel: 64x64 tiles, 16x16 threads, the A and B tiles in shared memory
    assert infos == [bind.KernelInfo((-(-n // 64), -(-m // 64), 1), (16, 16, 1), 4096)]
    text = str(module)
    assert "memref<16x16x4x4xf32>" in text and text.count("gpu.barrier") == 2


def test_small_matmul(rng):
    x, w, bias = f32(rng, 2, 50), f32(rng, 50, 30), f32(rng, 30)
    _, infos = check(
        lambda b, x, w, c: b.relu(b.add(b.matmul(x, w), c)),
        [x, w, bias],
        np.maximum(x @ w + bias, 0),
    )
    assert infos == [bind.KernelInfo((1, 1, 1), (60, 1, 1), 0)]


@pytest.mark.parametrize(
    "a,b", [((2, 3, 33, 9), (2, 3, 9, 40)), ((3, 40, 9), (9, 36)), ((1, 5, 7), (3, 7, 4))]
)
def test_batched_matmul(a, b, rng):
    x, w = f32(rng, *a), f32(rng, *b)
    check(lambda g, x, w: g.matmul(x, w), [x, w], x @ w)


def conv2d(x, w, bias, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(x, w.shape[2:], axis=(2, 3))  # n c oh ow kh kw
    return np.einsum("ncyxhw,ochw->noyx", windows, w) + bias[None, :, None, None]


def test_conv2d_bias_relu(rng):
    x, w, bias = f32(rng, 1, 3, 8, 8), f32(rng, 32, 3, 3, 3), f32(rng, 32)
    _, infos = check(
        lambda b, x, w, c: b.relu(
            b.add(b.conv2d(x, w, padding=(1, 1)), b.reshape(c, (1, 32, 1, 1)))
        ),
        [x, w, bias],
        np.maximum(conv2d(x, w, bias, 1), 0),
    )
    assert any(info.shared_bytes for info in infos)  # the im2col matmul is tiled


def softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def test_softmax(rng):
    x = f32(rng, 5, 13)
    check(lambda b, x: b.softmax(b.mul(x, x), axis=-1), [x], softmax(x * x, -1))


def test_log_softmax(rng):
    x = f32(rng, 3, 4, 6)
    check(lambda b, x: b.log_softmax(x, axis=1), [x], np.log(softmax(x, 1)))


def test_layer_norm(rng):
    x, g, c = f32(rng, 6, 10), f32(rng, 10), f32(rng, 10)
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    check(
        lambda b, x, g, c: b.layer_norm(x, g, c),
        [x, g, c],
        (x - mean) / np.sqrt(var + 1e-5) * g + c,
    )


@pytest.mark.parametrize(
    "kind,axes,keepdim",
    [("sum", [0, 1], False), ("mean", [0], False), ("max", [1], True), ("sum", [0, 2], True)],
)
def test_reductions(kind, axes, keepdim, rng):
    x = f32(rng, 4, 10, 3)
    expected = getattr(np, kind)(x, axis=tuple(axes), keepdims=keepdim)
    check(lambda b, x: b.reduce(kind, x, axes, keepdim=keepdim), [x], expected)


def test_full_reduction_runs_on_one_thread(rng):
    x = f32(rng, 4, 10)
    _, infos = check(lambda b, x: b.reduce("sum", x, [0, 1]), [x], x.sum())
    assert infos == [bind.KernelInfo((1, 1, 1), (1, 1, 1), 0)]


def test_elementwise_broadcast(rng):
    x, y = f32(rng, 3, 1, 5), f32(rng, 4, 1)
    _, infos = check(
        lambda b, x, y: b.sigmoid(b.mul(b.exp(x), y)), [x, y], 1 / (1 + np.exp(-np.exp(x) * y))
    )
    assert len(infos) == 1  # the chain is one kernel


def test_large_elementwise_grid(rng):
    x = f32(rng, 300, 100)
    _, infos = check(lambda b, x: b.relu(x), [x], np.maximum(x, 0))
    assert infos == [bind.KernelInfo((118, 1, 1), (256, 1, 1), 0)]


def test_transpose_reshape(rng):
    x = f32(rng, 4, 10)
    check(
        lambda b, x: b.reshape(b.transpose(b.exp(x), (1, 0)), (5, 8)),
        [x],
        np.exp(x).T.reshape(5, 8),
    )


def test_slice_concat(rng):
    x, y = f32(rng, 4, 10), f32(rng, 4, 3)
    check(
        lambda b, x, y: b.concat([b.slice(x, [1, 2], [3, 6]), b.slice(y, [0, 0], [3, 3])], 1),
        [x, y],
        np.concatenate([x[1:4, 2:8], y[0:3]], 1),
    )


def test_pooling(rng):
    x = f32(rng, 1, 2, 6, 6)
    check(
        lambda b, x: b.max_pool2d(x, (2, 2), strides=(2, 2)),
        [x],
        x.reshape(1, 2, 3, 2, 3, 2).max(axis=(3, 5)),
    )
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    check(
        lambda b, x: b.avg_pool2d(x, (3, 3), strides=(1, 1), padding=(1, 1)),
        [x],
        sliding_window_view(padded, (3, 3), axis=(2, 3)).mean(axis=(4, 5)),
    )
    check(lambda b, x: b.adaptive_avg_pool2d(x, (1, 1)), [x], x.mean(axis=(2, 3), keepdims=True))


def test_bound_nests_are_left_alone():
    module = tprog(lambda b, x: b.relu(x), (8, 8))
    sch = Schedule(module)
    (i0, i1) = sch.get_loops("relu")
    sch.bind(i0, "blockIdx.x")
    sch.bind(i1, "threadIdx.x")
    before = str(module)
    Pipeline.parse("tprog-gpu-schedule").run(module)
    assert str(module) == before


# --- traces ----------------------------------------------------------------------------------


def test_default_schedule_replays():
    build = lambda b, x, w, c: (  # noqa: E731
        b.relu(b.add(b.matmul(x, w), c)),
        b.softmax(x, axis=-1),
    )
    shapes = [(40, 16), (16, 36), (36,)]
    scheduled = tprog(build, *shapes)
    traces = [default_schedule(scheduled, symbol_name(f)).trace for f in prim_funcs(scheduled)]
    fresh = tprog(build, *shapes)
    for trace in traces:
        Trace.parse(str(trace)).apply(Schedule(fresh, trace.func_name))
    assert str(fresh) == str(scheduled)
    assert any(i.kind == "cooperative_fetch" for t in traces for i in t.instructions)


# --- bind: legality --------------------------------------------------------------------------


def matmul_schedule(m=16, k=64, n=32):
    return Schedule(tprog(lambda b, x, w: b.matmul(x, w), (m, k), (k, n)))


def test_bind_sets_the_kind():
    sch = matmul_schedule()
    sch.bind("i", "blockIdx.x")
    sch.bind("j", "threadIdx.x")
    assert 'tprog.kind = "blockIdx.x", tprog.loop = "i"' in str(sch)
    assert str(sch.trace).splitlines()[1] == 'sch.bind("i", thread_axis="blockIdx.x")'


@pytest.mark.parametrize(
    "steps,message",
    [
        ([("bind", "k", "threadIdx.x")], "loop 'k' carries a reduction variable of block 'matmul'"),
        ([("bind", "i", "warp.x")], "unknown thread axis 'warp.x'; expected one of blockIdx.x"),
        (
            [("bind", "i", "threadIdx.x"), ("bind", "j", "blockIdx.x")],
            "loop 'j' is inside loop 'i' bound to threadIdx.x: blockIdx loops enclose",
        ),
        (
            [("bind", "j", "blockIdx.x"), ("bind", "i", "threadIdx.x")],
            "loop 'i' encloses loop 'j' bound to blockIdx.x: threadIdx loops go inside",
        ),
        (
            [("bind", "i", "threadIdx.x"), ("bind", "j", "threadIdx.x")],
            "loop 'i', bound to threadIdx.x too, encloses it",
        ),
        (
            [("bind", "i", "blockIdx.x"), ("bind", "i", "blockIdx.y")],
            "is already bound to blockIdx.x",
        ),
        ([("parallel", "i"), ("bind", "i", "blockIdx.x")], "loop 'i' is parallel; only a serial"),
        ([("parallel", "i"), ("bind", "j", "blockIdx.x")], "is inside parallel loop 'i'"),
        ([("split", "j", [1, 100]), ("bind", "j_1", "threadIdx.z")], "over the limit of 64"),
        ([("split", "i", [70000, 1]), ("bind", "i_0", "blockIdx.y")], "over the limit of 65535"),
        (
            [
                ("split", "i", [None, 64]),
                ("split", "j", [None, 32]),
                ("reorder", "i_0", "j_0", "i_1", "j_1"),
                ("bind", "i_1", "threadIdx.y"),
                ("bind", "j_1", "threadIdx.x"),
            ],
            "the kernel would have 2048 threads per block (32x64x1), over the limit of 1024",
        ),
        (
            [("decompose_reduction", "matmul", "j"), ("bind", "j", "blockIdx.x")],
            "loop 'i' holds more than loop 'j'; blockIdx loops are perfectly nested",
        ),
        ([("bind", "i", "blockIdx.x"), ("split", "i", [None, 4])], "split: loop 'i' is bound"),
        ([("bind", "j", "threadIdx.x"), ("fuse", "i", "j")], "fuse: loop 'j' is bound"),
        ([("bind", "j", "threadIdx.x"), ("reorder", "j", "i")], "reorder: loop 'j' is bound"),
        ([("bind", "k", "blockIdx.x")], "carries a reduction variable"),
        ([("bind", "j", "threadIdx.x"), ("vectorize", "j")], "vectorize: loop 'j' is bound"),
    ],
)
def test_bind_refuses(steps, message):
    sch = matmul_schedule()
    *setup, (last, *args) = steps
    for name, *step_args in setup:
        getattr(sch, name)(*step_args)
    with pytest.raises(ScheduleError, match=re.escape(message)):
        getattr(sch, last)(*args)


def test_check_kernel():
    sch = matmul_schedule()
    i0, i1 = sch.split("i", [None, 8])
    sch.bind(i1, "blockIdx.x")  # allowed now: i_0 may be bound later
    top = bind.top_level(sch._loop_op(i0))
    with pytest.raises(ScheduleError, match="outermost loop is not bound"):
        bind.check_kernel(top)
    sch.bind(i0, "blockIdx.y")
    sch.bind("j", "threadIdx.x")
    assert bind.check_kernel(top) == bind.KernelInfo((8, 2, 1), (32, 1, 1), 0)
    with pytest.raises(ScheduleError, match="32 threads per block .* over the limit of 16"):
        bind.check_kernel(top, max_threads=16)
    thread_loop = sch._loop_op("j")
    with ir.InsertionPoint.at_block_begin(thread_loop.regions[0].blocks[0]), top.location:
        gpu.BarrierOp()
    with pytest.raises(ScheduleError, match="gpu.barrier is inside loop 'j' bound to threadIdx.x"):
        bind.check_kernel(top)


# --- caches ----------------------------------------------------------------------------------


def test_manual_tiled_matmul(rng):
    """The TVM recipe by hand: tiles, threads, a register accumulator, shared tiles."""
    m, k, n = 24, 20, 40
    module = tprog(lambda b, x, w: b.matmul(x, w), (m, k), (k, n))
    sch = Schedule(module)
    by, ty, ii = sch.split("i", [None, 4, 2])
    bx, tx, ji = sch.split("j", [None, 8, 2])
    ko, ki = sch.split("k", [None, 4])
    sch.reorder(by, bx, ko, ty, tx, ki, ii, ji)
    for loop, axis in (
        (by, "blockIdx.y"),
        (bx, "blockIdx.x"),
        (ty, "threadIdx.y"),
        (tx, "threadIdx.x"),
    ):
        sch.bind(loop, axis)
    sch.cache_write("matmul", 0, "local")
    for index in (0, 1):
        cache = sch.cache_read("matmul", index, "shared")
        sch.compute_at(cache, ko)
        sch.cooperative_fetch(cache)
    text = str(sch)
    assert "memref<8x4xf32, #gpu.address_space<workgroup>>" in text
    assert "memref<4x16xf32, #gpu.address_space<workgroup>>" in text
    assert "memref<4x8x2x2xf32>" in text
    x, w = f32(rng, m, k), f32(rng, k, n)
    (got,) = strata.simulate(module, x, w)
    np.testing.assert_allclose(got, x @ w, rtol=1e-4, atol=1e-4)
    fresh = tprog(lambda b, x, w: b.matmul(x, w), (m, k), (k, n))
    Trace.parse(str(sch.trace)).apply(Schedule(fresh))
    assert str(fresh) == str(module)


def test_cache_errors():
    sch = matmul_schedule()
    cache = sch.cache_read("matmul", 1, "shared")
    with pytest.raises(ScheduleError, match="bind the blockIdx loops first"):
        sch.compute_at(cache, "i")
    with pytest.raises(
        ScheduleError, match="unknown scope 'texture'; expected one of global, shared"
    ):
        sch.cache_read("matmul", 0, "texture")
    with pytest.raises(
        ScheduleError, match="unknown scope 'shared'; expected one of global, local"
    ):
        sch.cache_write("matmul", 0, "shared")
    with pytest.raises(ScheduleError, match="block 'matmul' is in no kernel"):
        sch.cache_write("matmul", 0, "local")
    with pytest.raises(ScheduleError, match="is in no loop bound to blockIdx"):
        sch.cooperative_fetch(cache)
    sch.bind("i", "blockIdx.y")
    sch.bind("j", "blockIdx.x")
    with pytest.raises(ScheduleError, match="compute it at loop 'j' .* or inside it, not at 'i'"):
        sch.compute_at(cache, "i")


def test_register_cache_needs_an_init():
    module = tprog(lambda b, x: b.max_pool2d(x, (2, 2), strides=(2, 2)), (1, 2, 6, 6))
    sch = Schedule(module)
    sch.bind("n_1", "blockIdx.x")
    with pytest.raises(ScheduleError, match="does not initialize buffer 0 in its init"):
        sch.cache_write("max_pool2d_rows", 0, "local")


def test_shared_tile_must_be_aligned():
    # rows i_0 * 4 + i_1 with i_1 outside: one block's rows are strided, 13 apart at most
    sch = matmul_schedule()
    i0, i1 = sch.split("i", [None, 4])
    sch.reorder(i1, i0)
    sch.bind(i1, "blockIdx.x")
    cache = sch.cache_read("matmul", 0, "shared")
    before = str(sch)
    with pytest.raises(ScheduleError, match="spans 13 elements but moves by 1 per iteration"):
        sch.compute_at(cache, i1)
    assert str(sch) == before  # refused before anything moved


def test_barriers_fence_the_fetch():
    module = tprog(lambda b, x, w: b.matmul(x, w), (64, 32), (32, 64))
    sch = default_schedule(module, "matmul")
    loop = sch._loop_op("k_0")
    ops = [o.name for o in nest.body_ops(loop)]
    assert ops[0] == "gpu.barrier" and ops[3] == "gpu.barrier" and ops.count("gpu.barrier") == 2
    kernel = bind.top_level(loop)
    assert [o.name for o in walk(kernel)].count("gpu.barrier") == 2


def test_drop_thread_dims():
    """In the parallel reading each thread keeps only its own slice of the accumulator."""
    from strata.transforms.tprog.gpu_registers import THREAD_DIMS, drop_thread_dims

    module = tprog(lambda b, x, w: b.matmul(x, w), (64, 32), (32, 64))
    sch = default_schedule(module, "matmul")
    assert THREAD_DIMS in str(module)
    drop_thread_dims(sch.fn)
    allocas = [op for op in walk(sch.fn) if op.name == "memref.alloca"]
    assert [str(op.results[0].type) for op in allocas] == ["memref<4x4xf32>"]
    users = [use.owner.operation for use in allocas[0].results[0].uses]
    assert {op.name for op in users} == {"memref.load", "memref.store"}
    assert all(len(list(op.operands)) == (3 if op.name == "memref.load" else 4) for op in users)


def test_transformer_layer():
    """A PyTorch encoder layer (attention: batched matmuls, softmax; layer norms, FFN)."""
    torch = pytest.importorskip("torch")
    from strata.frontends.torch_export import from_torch

    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(32, 2, 64, dropout=0.0, batch_first=True).eval()
    x = torch.randn(1, 40, 32)
    module = from_torch(layer, (x,))
    Pipeline.parse(f"graph-canonicalize,graph-cse,graph-dce,{SCHEDULE}").run(module)
    assert any(info.shared_bytes for info in kernels(module))
    (got,) = strata.simulate(module, x.numpy())
    with torch.no_grad():
        np.testing.assert_allclose(got, layer(x).numpy(), rtol=1e-4, atol=1e-4)
