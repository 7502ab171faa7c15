"""Shape rules of the `graph` ops, shared by the builders and the `graph-verify` pass."""

from __future__ import annotations

import math
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


def conv2d_shape(
    input: Sequence[int],
    weight: Sequence[int],
    strides: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    groups: int,
) -> list[int]:
    """Output shape of an NCHW convolution with an O x C/groups x KH x KW weight."""
    if len(input) != 4 or len(weight) != 4:
        raise ShapeError(
            f"conv2d takes a 4-D input and weight (NCHW, OIHW), "
            f"got {_fmt(input)} and {_fmt(weight)}"
        )
    if len(strides) != 2 or len(dilation) != 2 or len(padding) != 4:
        raise ShapeError(
            "conv2d needs 2 strides, 2 dilations and 4 paddings (top, left, bottom, right)"
        )
    if min(strides) < 1 or min(dilation) < 1 or min(padding) < 0 or groups < 1:
        raise ShapeError(
            "conv2d strides, dilations and groups must be positive, paddings not negative"
        )
    n, c, h, w = input
    o, cg, kh, kw = weight
    if c % groups or o % groups:
        raise ShapeError(f"groups {groups} must divide the {c} input and {o} output channels")
    if cg != c // groups:
        raise ShapeError(
            f"weight has {cg} input channels per group but the input has "
            f"{c} / {groups} = {c // groups}"
        )
    oh = (h + padding[0] + padding[2] - dilation[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (w + padding[1] + padding[3] - dilation[1] * (kw - 1) - 1) // strides[1] + 1
    if oh < 1 or ow < 1:
        raise ShapeError(
            f"conv2d output would be empty ({oh}x{ow}): the kernel is larger than the input"
        )
    return [n, o, oh, ow]


def normalized_axis(axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise ShapeError(f"axis {axis} is out of range for rank {rank}")
    return axis % rank


def layer_norm_check(input: Sequence[int], weight: Sequence[int], bias: Sequence[int]) -> None:
    k = len(weight)
    if not weight or list(weight) != list(input[len(input) - k :]) or list(bias) != list(weight):
        raise ShapeError(
            f"layer_norm weight {_fmt(weight)} and bias {_fmt(bias)} must equal the trailing "
            f"dimensions of the input {_fmt(input)}"
        )


def reshape_check(input: Sequence[int], output: Sequence[int]) -> None:
    if math.prod(input) != math.prod(output):
        raise ShapeError(
            f"reshape from {_fmt(input)} ({math.prod(input)} elements) to {_fmt(output)} "
            f"({math.prod(output)} elements) changes the number of elements"
        )


def transpose_shape(input: Sequence[int], permutation: Sequence[int]) -> list[int]:
    if sorted(permutation) != list(range(len(input))):
        raise ShapeError(
            f"permutation {list(permutation)} is not a permutation of the {len(input)} dimensions"
        )
    return [input[p] for p in permutation]
