"""graph.slice, concat, broadcast_to and gather compiled and as numpy references, and the numpy
references of reshape and transpose, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import strata
import torch
import torch.nn.functional as F
from strata.conversions.graph_ops import reference_for
from strata.irutil import walk

DTYPES = {np.float32: "f32", np.float16: "f16", np.int32: "i32", np.int64: "i64"}


def build_graph(build, arrays):
    b = strata.GraphBuilder("f")
    inputs = [b.input(a.shape, DTYPES[a.dtype.type]) for a in arrays]
    return b.finish(build(b, *inputs))


def references(module, name: str, arrays) -> np.ndarray:
    """Evaluate the graph's `name` ops with their numpy references (a chain of them, as
    GraphBuilder.concat builds), the function inputs bound to `arrays`."""
    fn = next(op for op in walk(module.operation) if op.name == "func.func")
    env = dict(zip(fn.regions[0].blocks[0].arguments, arrays))
    result = None
    for op in walk(module.operation):
        if op.name == name:
            result = reference_for(name)(op, *(env[v] for v in op.operands))
            env[op.results[0]] = result
    assert result is not None
    return result


def check(build, arrays, expected, op_name: str):
    """Compile `build(builder, *inputs)`, run its `op_name` ops' numpy references; both must
    equal `expected` exactly (data movement does no arithmetic)."""
    module = build_graph(build, arrays)
    reference = references(module, op_name, arrays)
    assert reference.dtype == expected.dtype
    np.testing.assert_array_equal(reference, expected)
    got = strata.compile(module)(*arrays)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "shape,offsets,sizes,strides",
    [
        ((2, 3, 5, 4), (1, 0, 1, 1), (1, 2, 2, 2), (1, 2, 3, 2)),
        ((16, 32), (3, 5), (4, 27), (3, 1)),
        ((7,), (6,), (1,), (1,)),
        ((1, 9, 1), (0, 1, 0), (1, 4, 1), (1, 2, 1)),
        ((5, 5), (0, 0), (5, 5), (1, 1)),
    ],
)
def test_slice(shape, offsets, sizes, strides, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    index = tuple(slice(o, o + (n - 1) * s + 1, s) for o, n, s in zip(offsets, sizes, strides))
    expected = torch.from_numpy(x)[index].numpy()
    check(lambda b, v: b.slice(v, offsets, sizes, strides), [x], expected, "graph.slice")


@pytest.mark.parametrize(
    "shapes,axis",
    [
        ([(2, 3, 5), (2, 4, 5)], 1),
        ([(2, 3, 5), (2, 3, 1), (2, 3, 7)], -1),
        ([(1, 4), (3, 4), (1, 4)], 0),
        ([(1,), (1,)], 0),
        ([(3, 1, 2), (3, 5, 2)], -2),
    ],
)
def test_concat(shapes, axis, rng):
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    expected = torch.cat([torch.from_numpy(a) for a in arrays], dim=axis).numpy()
    check(lambda b, *v: b.concat(v, axis), arrays, expected, "graph.concat")


@pytest.mark.parametrize(
    "shape,target",
    [
        ((3, 1, 4), (2, 3, 5, 4)),
        ((1,), (4, 6)),
        ((), (2, 3)),
        ((5, 1), (5, 1)),
        ((1, 1, 7), (3, 2, 7)),
        ((2, 1), (2, 9)),
    ],
)
def test_broadcast_to(shape, target, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    expected = torch.from_numpy(x).expand(*target).contiguous().numpy()
    check(lambda b, v: b.broadcast_to(v, target), [x], expected, "graph.broadcast_to")


@pytest.mark.parametrize("index_type", [np.int64, np.int32])
def test_embedding(index_type, rng):
    """gather(weight, ids, axis=0) is an embedding lookup; negative ids count from the end."""
    weight = rng.standard_normal((10, 6)).astype(np.float32)
    ids = np.array([[1, -1, 3], [0, 9, -10]], dtype=index_type)
    expected = F.embedding(torch.from_numpy(ids.astype(np.int64) % 10), torch.from_numpy(weight))
    np.testing.assert_array_equal(
        expected.numpy(), torch.from_numpy(weight)[torch.from_numpy(ids.astype(np.int64))].numpy()
    )
    check(lambda b, w, i: b.gather(w, i, 0), [weight, ids], expected.numpy(), "graph.gather")


@pytest.mark.parametrize(
    "shape,index_shape,axis",
    [
        ((4, 7, 3), (5,), 1),
        ((4, 7, 3), (2, 2), -1),
        ((6,), (), 0),
        ((6,), (3,), 0),
        ((3, 1, 2), (4,), 1),
        ((2, 5), (1, 3, 1), 0),
    ],
)
def test_gather(shape, index_shape, axis, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    size = shape[axis]
    indices = np.asarray(rng.integers(-size, size, index_shape), dtype=np.int64)
    flat = torch.from_numpy(indices.reshape(-1) % size)
    picked = torch.index_select(torch.from_numpy(x), axis, flat)
    a = axis % len(shape)
    expected = picked.reshape((*shape[:a], *index_shape, *shape[a + 1 :])).numpy()
    check(lambda b, v, i: b.gather(v, i, axis), [x, indices], expected, "graph.gather")


def test_gather_reference_rejects_out_of_range():
    b = strata.GraphBuilder("f")
    module = b.finish(b.gather(b.input((4, 2)), b.input((1,), "i64")))
    op = next(op for op in walk(module.operation) if op.name == "graph.gather")
    with pytest.raises(IndexError):
        reference_for("graph.gather")(op, np.zeros((4, 2), np.float32), np.array([4]))


def test_movement_chain(rng):
    """Token and position embeddings with a concatenated class token, as a ViT/BERT stem:
    gather, slice, broadcast_to, concat and an add in one graph."""
    vocab, seq, dim = 11, 5, 8
    tokens = rng.standard_normal((vocab, dim)).astype(np.float32)
    positions = rng.standard_normal((16, dim)).astype(np.float32)
    cls = rng.standard_normal((1, 1, dim)).astype(np.float32)
    ids = rng.integers(0, vocab, (2, seq)).astype(np.int64)
    b = strata.GraphBuilder("stem")
    i = b.input((2, seq), "i64")
    e = b.gather(b.constant(tokens, "tokens"), i, 0)
    p = b.slice(b.constant(positions, "positions"), (0, 0), (seq + 1, dim))
    c = b.broadcast_to(b.constant(cls, "cls"), (2, 1, dim))
    module = b.finish(b.add(b.concat([c, e], 1), p))
    expected = np.concatenate([np.broadcast_to(cls, (2, 1, dim)), tokens[ids]], 1)
    expected = expected + positions[: seq + 1]
    np.testing.assert_allclose(strata.compile(module)(ids), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "shape,new_shape", [((2, 3, 4), (6, 4)), ((5,), (1, 5, 1)), ((2, 6), (3, 4))]
)
def test_reshape_reference(shape, new_shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    expected = torch.from_numpy(x).reshape(new_shape).numpy()
    module = build_graph(lambda b, v: b.reshape(v, new_shape), [x])
    np.testing.assert_array_equal(references(module, "graph.reshape", [x]), expected)


@pytest.mark.parametrize("shape,permutation", [((3, 5), (1, 0)), ((2, 3, 4, 5), (3, 1, 0, 2))])
def test_transpose_reference(shape, permutation, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    expected = torch.from_numpy(x).permute(*permutation).contiguous().numpy()
    module = build_graph(lambda b, v: b.transpose(v, permutation), [x])
    np.testing.assert_array_equal(references(module, "graph.transpose", [x]), expected)
