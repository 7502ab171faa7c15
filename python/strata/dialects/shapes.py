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


def batch_norm_check(input: Sequence[int], *params: Sequence[int]) -> None:
    if len(input) < 2:
        raise ShapeError(f"batch_norm takes an N x C x ... input, got {_fmt(input)}")
    for p in params:
        if list(p) != [input[1]]:
            raise ShapeError(
                f"batch_norm weight, bias, mean and var must have shape {input[1]} (the channels "
                f"of the input {_fmt(input)}), found {_fmt(p)}"
            )


def reduce_shape(input: Sequence[int], axes: Sequence[int], keepdim: bool) -> list[int]:
    """The shape of a reduction of `input` over `axes`."""
    rank = len(input)
    normalized = [normalized_axis(a, rank) for a in axes]
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"reduction axes {list(axes)} repeat a dimension")
    if keepdim:
        return [1 if d in normalized else n for d, n in enumerate(input)]
    return [n for d, n in enumerate(input) if d not in normalized]


def _window_output(
    size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int, dilation: int
) -> int:
    return (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1


def pool2d_shape(
    input: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int] = (1, 1),
) -> list[int]:
    """Output shape of a 2-D pooling window over an NCHW input."""
    if len(input) != 4:
        raise ShapeError(f"pooling takes a 4-D (NCHW) input, got {_fmt(input)}")
    if len(kernel) != 2 or len(strides) != 2 or len(dilation) != 2 or len(padding) != 4:
        raise ShapeError(
            "pooling needs 2 kernel sizes, 2 strides, 2 dilations and 4 paddings "
            "(top, left, bottom, right)"
        )
    if min(kernel) < 1 or min(strides) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ShapeError("pooling kernel, strides and dilations must be positive, paddings >= 0")
    if max(padding[0], padding[2]) * 2 > kernel[0] or max(padding[1], padding[3]) * 2 > kernel[1]:
        raise ShapeError(
            f"pooling padding {list(padding)} must be at most half the kernel {list(kernel)}"
        )
    n, c, h, w = input
    oh = _window_output(h, kernel[0], strides[0], padding[0], padding[2], dilation[0])
    ow = _window_output(w, kernel[1], strides[1], padding[1], padding[3], dilation[1])
    if oh < 1 or ow < 1:
        raise ShapeError(f"pooling output would be empty ({oh}x{ow}): the window is too large")
    return [n, c, oh, ow]


def adaptive_pool_check(input: Sequence[int], output: Sequence[int]) -> None:
    if len(input) != 4 or len(output) != 4 or list(input[:2]) != list(output[:2]):
        raise ShapeError(
            f"adaptive_avg_pool2d maps N x C x H x W to N x C x OH x OW, "
            f"got {_fmt(input)} to {_fmt(output)}"
        )
    if min(output[2:]) < 1:
        raise ShapeError(f"adaptive_avg_pool2d output size must be positive, got {_fmt(output)}")


def slice_shape(
    input: Sequence[int], offsets: Sequence[int], sizes: Sequence[int], strides: Sequence[int]
) -> list[int]:
    rank = len(input)
    if not len(offsets) == len(sizes) == len(strides) == rank:
        raise ShapeError(
            f"slice needs one offset, size and stride per dimension of {_fmt(input)} "
            f"(rank {rank}), got {len(offsets)}, {len(sizes)} and {len(strides)}"
        )
    for d, (n, o, s, st) in enumerate(zip(input, offsets, sizes, strides)):
        if o < 0 or s < 1 or st < 1 or o + (s - 1) * st >= n:
            raise ShapeError(
                f"slice dimension {d}: offset {o}, size {s}, stride {st} does not fit "
                f"in {n} elements"
            )
    return list(sizes)


def concat_shape(lhs: Sequence[int], rhs: Sequence[int], axis: int) -> list[int]:
    if len(lhs) != len(rhs):
        raise ShapeError(f"concat operands have different ranks: {_fmt(lhs)} and {_fmt(rhs)}")
    a = normalized_axis(axis, len(lhs))
    for d, (x, y) in enumerate(zip(lhs, rhs)):
        if d != a and x != y:
            raise ShapeError(
                f"concat operands {_fmt(lhs)} and {_fmt(rhs)} differ in dimension {d}, "
                f"not only in the concatenation axis {a}"
            )
    out = list(lhs)
    out[a] = lhs[a] + rhs[a]
    return out


def broadcast_to_check(input: Sequence[int], output: Sequence[int]) -> None:
    ok = len(output) >= len(input)
    if ok:
        tail = output[len(output) - len(input) :]
        ok = all(i in (1, o) for i, o in zip(input, tail))
    if not ok:
        raise ShapeError(f"cannot broadcast {_fmt(input)} to {_fmt(output)}")


def gather_shape(input: Sequence[int], indices: Sequence[int], axis: int) -> list[int]:
    if not input:
        raise ShapeError("gather needs an input of rank >= 1")
    a = normalized_axis(axis, len(input))
    return [*input[:a], *indices, *input[a + 1 :]]
