"""Shape rules of the graph ops against numpy's own."""

from __future__ import annotations

import numpy as np
import pytest
from strata.dialects.shapes import ShapeError, broadcast_shape, matmul_shape

MATMUL_OK = [
    ((3, 4), (4, 5)),
    ((1, 1), (1, 1)),
    ((4,), (4,)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 6)),
    ((1, 3, 4), (7, 4, 2)),
    ((6, 1, 3, 4), (1, 5, 4, 2)),
    ((4,), (2, 3, 4, 5)),
    ((2, 3, 3, 4), (4,)),
    ((2, 3, 4), (1, 4, 5)),
    ((1, 2, 4), (3, 1, 4, 5)),
]

MATMUL_BAD = [
    ((3, 4), (5, 6)),  # contracting dims
    ((4,), (5,)),
    ((4,), (3, 5)),
    ((3, 4), (5,)),
    ((2, 3, 4), (3, 4, 5)),  # batch dims do not broadcast
    ((2, 1, 3, 4), (3, 4, 4, 5)),
    ((), (4,)),  # scalars
    ((4,), ()),
]


@pytest.mark.parametrize("lhs,rhs", MATMUL_OK)
def test_matmul_shape_matches_numpy(lhs, rhs) -> None:
    expected = np.matmul(np.zeros(lhs), np.zeros(rhs)).shape
    assert tuple(matmul_shape(lhs, rhs)) == expected


@pytest.mark.parametrize("lhs,rhs", MATMUL_BAD)
def test_matmul_shape_mismatch(lhs, rhs) -> None:
    with pytest.raises(ValueError):
        np.matmul(np.zeros(lhs), np.zeros(rhs))
    with pytest.raises(ShapeError):
        matmul_shape(lhs, rhs)


def test_matmul_messages() -> None:
    with pytest.raises(
        ShapeError,
        match="contracting dimensions differ: lhs 3x4 has 4 columns but rhs 5x6 has 5 rows",
    ):
        matmul_shape((3, 4), (5, 6))
    with pytest.raises(
        ShapeError, match="matmul batch dimensions: shapes 2 and 3 do not broadcast"
    ):
        matmul_shape((2, 3, 4), (3, 4, 5))
    with pytest.raises(ShapeError, match="rank >= 1"):
        matmul_shape((), (3,))


def test_shape_error_is_value_error() -> None:
    assert issubclass(ShapeError, ValueError)


BROADCAST_OK = [
    ((), ()),
    ((), (3,)),
    ((3,), ()),
    ((4, 1), (3,)),
    ((2, 3), (2, 3)),
    ((1,), (5,)),
    ((2, 1, 4), (3, 1)),
    ((8, 1, 6, 1), (7, 1, 5)),
    ((5, 4), (1,)),
    ((15, 3, 5), (15, 1, 5)),
    ((1, 1, 1), (2,)),
]

BROADCAST_BAD = [((3,), (4,)), ((2, 1), (8, 4, 3)), ((4, 3), (4,)), ((2, 3), (3, 2)), ((0,), (2,))]


@pytest.mark.parametrize("lhs,rhs", BROADCAST_OK)
def test_broadcast_matches_numpy(lhs, rhs) -> None:
    assert tuple(broadcast_shape(lhs, rhs)) == np.broadcast_shapes(lhs, rhs)
    assert tuple(broadcast_shape(rhs, lhs)) == np.broadcast_shapes(rhs, lhs)


@pytest.mark.parametrize("lhs,rhs", BROADCAST_BAD)
def test_broadcast_mismatch(lhs, rhs) -> None:
    with pytest.raises(ValueError):
        np.broadcast_shapes(lhs, rhs)
    with pytest.raises(ShapeError, match="do not broadcast"):
        broadcast_shape(lhs, rhs)


@pytest.mark.parametrize("lhs,rhs", [((0,), (1,)), ((1, 3), (0, 1))])
def test_broadcast_zero_size_dimension(lhs, rhs) -> None:
    assert tuple(broadcast_shape(lhs, rhs)) == np.broadcast_shapes(lhs, rhs)


def test_broadcast_message_names_the_dimension() -> None:
    with pytest.raises(
        ShapeError, match="shapes 4x3 and 4 do not broadcast: dimension 1 is 3 vs 4"
    ):
        broadcast_shape((4, 3), (4,))


def test_random_shapes_agree_with_numpy() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        lhs = tuple(int(d) for d in rng.integers(1, 4, size=rng.integers(1, 5)))
        rhs = tuple(int(d) for d in rng.integers(1, 4, size=rng.integers(1, 5)))
        try:
            expected = np.matmul(np.zeros(lhs), np.zeros(rhs)).shape
        except ValueError:
            with pytest.raises(ShapeError):
                matmul_shape(lhs, rhs)
        else:
            assert tuple(matmul_shape(lhs, rhs)) == expected, (lhs, rhs)
        try:
            expected = np.broadcast_shapes(lhs, rhs)
        except ValueError:
            with pytest.raises(ShapeError):
                broadcast_shape(lhs, rhs)
        else:
            assert tuple(broadcast_shape(lhs, rhs)) == expected, (lhs, rhs)
