"""Shape rules of the `graph` ops, shared by the builders and the `graph-verify` pass."""

from __future__ import annotations

from collections.abc import Sequence


class ShapeError(ValueError):
    """A shape rule is violated; the message says what was expected and what was found."""


def _fmt(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape) if shape else "scalar"


def broadcast_shape(lhs: Sequence[int], rhs: Sequence[int]) -> list[int]:
    """numpy broadcasting of two shapes."""
    rank = max(len(lhs), len(rhs))
    a = [1] * (rank - len(lhs)) + list(lhs)
    b = [1] * (rank - len(rhs)) + list(rhs)
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and 1 not in (x, y):
            raise ShapeError(
                f"shapes {_fmt(lhs)} and {_fmt(rhs)} do not broadcast: dimension {i} is {x} vs {y}"
            )
        out.append(y if x == 1 else x)
    return out


def matmul_shape(lhs: Sequence[int], rhs: Sequence[int]) -> list[int]:
    """numpy.matmul: 1-D operands are promoted (the promoted dims dropped); batch dims broadcast."""
    if not lhs or not rhs:
        raise ShapeError("matmul operands must have rank >= 1, not scalars")
    a = [1, *lhs] if len(lhs) == 1 else list(lhs)
    b = [*rhs, 1] if len(rhs) == 1 else list(rhs)
    if a[-1] != b[-2]:
        raise ShapeError(
            f"contracting dimensions differ: lhs {_fmt(lhs)} has {a[-1]} columns "
            f"but rhs {_fmt(rhs)} has {b[-2]} rows"
        )
    try:
        batch = broadcast_shape(a[:-2], b[:-2])
    except ShapeError as e:
        raise ShapeError(f"matmul batch dimensions: {e}") from None
    out = [*batch, a[-2], b[-1]]
    if len(lhs) == 1:
        out.pop(-2)
    if len(rhs) == 1:
        out.pop(-1)
    return out
