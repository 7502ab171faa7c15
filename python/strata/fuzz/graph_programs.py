"""Random `graph` programs for differential testing (`strata.fuzz.graphs` checks them).

A program is drawn op by op from the graph op set (shapes computed as it grows, an op whose
preconditions fail is not drawn), in patterns the fusion pass groups: matmul / conv + bias +
activation, elementwise chains, reductions with elementwise producers and consumers, layout ops
between. Values stay in safe ranges: `abs(x) + 0.5` before log, sqrt, rsqrt, a divisor and a
pow base, `tanh` before an exp or a pow exponent of large magnitude. `programs()` is the
hypothesis strategy; `program_for(seed, i)` depends only on the seed and `i`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from strata.dialects import shapes

UNARY = (
    *("relu", "gelu", "silu", "sigmoid", "tanh", "exp", "log", "erf", "sqrt", "rsqrt"),
    *("neg", "abs"),
)
BINARY = ("add", "sub", "mul", "div", "pow", "maximum", "minimum")
ACTIVATIONS = ("relu", "gelu", "silu", "sigmoid", "tanh")
NEEDS_POSITIVE = ("log", "sqrt", "rsqrt")
MAX_MAGNITUDE = 1e4  # a value estimated larger than this goes through tanh before the next op
INPUT_BOUND = 3.0  # inputs are standard normal values clipped to +-3

# --- choices: from a seeded Random (the command line) or a hypothesis draw (the tests) ----------


class Chooser(Protocol):
    def integer(self, lo: int, hi: int) -> int: ...  # inclusive

    def choice(self, options: Sequence[Any]) -> Any: ...

    def chance(self, p: float) -> bool: ...


class RandomChooser:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


class DrawChooser:
    """Choices drawn from hypothesis (so that failing programs shrink)."""

    def __init__(self, draw: Callable[[Any], Any]):
        from hypothesis import strategies as st

        self.draw = draw
        self.st = st

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(self.st.integers(lo, hi))

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.draw(self.st.integers(0, len(options) - 1))]

    def chance(self, p: float) -> bool:
        # Shrinks towards False; p is approximated by a draw in 0..99.
        return self.draw(self.st.integers(0, 99)) >= 100 - round(100 * p)


# --- programs -------------------------------------------------------------------------------


@dataclass
class Value:
    shape: tuple[int, ...]
    magnitude: float  # an estimated bound of |x|
    lower: float | None = None  # a bound x >= lower > 0 when known positive
    live: bool = True  # computed from the inputs (not a constant)


@dataclass
class Step:
    op: str  # a GraphBuilder method name, "const", or "unary"/"binary" with attrs["name"]
    args: tuple[int, ...]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Program:
    inputs: list[tuple[int, ...]]
    steps: list[Step]
    outputs: list[int]
    values: list[Value]
    data_seed: int

    @property
    def has_matmul(self) -> bool:
        return any(s.op in ("matmul", "conv2d") for s in self.steps)

    def build(self):
        """The program as a `graph` module (a new context)."""
        from strata.frontends.builder import GraphBuilder

        b = GraphBuilder("main")
        env = [b.input(s) for s in self.inputs]
        for step in self.steps:
            env.append(_emit(b, step, [env[a] for a in step.args]))
        return b.finish(*(env[o] for o in self.outputs))

    def arrays(self) -> list[np.ndarray]:
        rng = np.random.default_rng(self.data_seed)
        return [
            np.clip(rng.standard_normal(s), -INPUT_BOUND, INPUT_BOUND).astype(np.float32)
            for s in self.inputs
        ]

    def describe(self) -> str:
        lines = [f"inputs {[list(s) for s in self.inputs]}, data seed {self.data_seed}"]
        n = len(self.inputs)
        for i, s in enumerate(self.steps):
            attrs = {k: v for k, v in s.attrs.items() if k != "array"}
            if "array" in s.attrs:
                attrs["shape"] = list(s.attrs["array"].shape)
            lines.append(f"  %{n + i} = {s.op}{list(s.args)} {attrs}")
        lines.append(f"  return {self.outputs}")
        return "\n".join(lines)


def _emit(b, step: Step, args: list):
    a = step.attrs
    if step.op == "const":
        return b.constant(a["array"], "w")
    if step.op == "unary":
        return b.unary(a["name"], *args)
    if step.op == "binary":
        return b.binary(a["name"], *args)
    if step.op == "reduce":
        return b.reduce(a["kind"], *args, a["axes"], keepdim=a["keepdim"])
    if step.op == "concat":
        return b.concat(args, a["axis"])
    return getattr(b, step.op)(*args, **a)


class _Generator:
    def __init__(self, c: Chooser):
        self.c = c
        self.values: list[Value] = []
        self.steps: list[Step] = []
        self.inputs: list[tuple[int, ...]] = []

    # shapes
    def dim(self) -> int:
        return self.c.choice((1, 1, 2, 3, 3, 4, 5, 5, 7, 8, 9))

    def shape(self, lo: int = 1, hi: int = 4) -> tuple[int, ...]:
        return tuple(self.dim() for _ in range(self.c.integer(lo, hi)))

    def broadcast_partner(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """A shape that broadcasts with `shape` (to `shape`, or wider along its unit dims)."""
        drop = self.c.integer(0, len(shape)) if self.c.chance(0.5) else 0
        out = [
            (self.c.integer(2, 4) if self.c.chance(0.2) else 1)
            if d == 1
            else (1 if self.c.chance(0.3) else d)
            for d in shape[drop:]
        ]
        if not out and self.c.chance(0.7):
            out = [1]
        return tuple(out)

    # values
    def add(self, step: Step, value: Value) -> int:
        self.steps.append(step)
        self.values.append(value)
        return len(self.values) - 1

    def const(self, shape: Sequence[int], lo: float = -1.0, hi: float = 1.0) -> int:
        seed = self.c.integer(0, 2**31 - 1)
        array = np.random.default_rng(seed).uniform(lo, hi, tuple(shape)).astype(np.float32)
        bound = max(abs(lo), abs(hi))
        lower = lo if lo > 0 else None
        return self.add(
            Step("const", (), {"array": array}), Value(tuple(shape), bound, lower, False)
        )

    def unary(self, name: str, x: int) -> int:
        v = self.values[x]
        m, lower = v.magnitude, None
        if name in ("sigmoid", "tanh", "erf"):
            m = 1.0
        elif name == "exp":
            m, lower = math.exp(m), math.exp(-m)
        elif name == "log":
            m = max(abs(math.log(v.lower or 0.5)), math.log(max(m, 1.0))) + 1.0
        elif name == "sqrt":
            m, lower = math.sqrt(m), math.sqrt(v.lower or 0.0) or None
        elif name == "rsqrt":
            m, lower = 1.0 / math.sqrt(v.lower or 0.5), 1.0 / math.sqrt(max(v.magnitude, 1e-6))
        elif name == "abs":
            lower = v.lower
        elif name == "gelu" or name == "silu":
            m = m + 0.5
        return self.add(Step("unary", (x,), {"name": name}), Value(v.shape, m, lower))

    def binary(self, name: str, x: int, y: int) -> int:
        a, b = self.values[x], self.values[y]
        shape = tuple(shapes.broadcast_shape(a.shape, b.shape))
        lower = None
        if name in ("add", "sub"):
            m = a.magnitude + b.magnitude
            if name == "add" and a.lower and b.lower:
                lower = a.lower + b.lower
        elif name == "mul":
            m = a.magnitude * b.magnitude
            if a.lower and b.lower:
                lower = a.lower * b.lower
        elif name == "div":
            m = a.magnitude / (b.lower or 0.5)
        elif name == "pow":
            e = b.magnitude
            m = max(a.magnitude, 1.0 / (a.lower or 0.5)) ** e
            lower = min(a.lower or 0.5, 1.0) ** e / max(a.magnitude, 1.0) ** e
        else:
            m = max(a.magnitude, b.magnitude)
            if name == "maximum":
                lower = max(a.lower or 0, b.lower or 0) or None
            elif a.lower and b.lower:
                lower = min(a.lower, b.lower)
        live = a.live or b.live
        return self.add(Step("binary", (x, y), {"name": name}), Value(shape, m, lower, live))

    def positive(self, x: int) -> int:
        """`x`, or abs(x) + 0.5 where x is not known to be at least 0.25."""
        v = self.values[x]
        if v.lower is not None and v.lower >= 0.25:
            return x
        half = self.const((1,), 0.5, 0.5)
        return self.binary("add", self.unary("abs", x), half)

    def bounded(self, x: int, bound: float) -> int:
        return self.unary("tanh", x) if self.values[x].magnitude > bound else x

    def partner(self, x: int, *, fresh: float = 0.5) -> int:
        """A value that broadcasts with `x`: a live value (not x) when one fits, else a new
        constant."""
        shape = self.values[x].shape
        fits = [
            i
            for i, v in enumerate(self.values)
            if v.live and i != x and _broadcasts(v.shape, shape) and len(v.shape) <= 4
        ]
        if fits and not self.c.chance(fresh):
            return self.c.choice(fits)
        if self.c.chance(0.15):
            return x
        return self.const(self.broadcast_partner(shape))

    # ops; each returns the new focus, or None when its preconditions fail on x
    def op_unary(self, x: int, name: str | None = None) -> int:
        name = name or self.c.choice(UNARY)
        if name in NEEDS_POSITIVE:
            x = self.positive(x)
        if name == "exp":
            x = self.bounded(x, 8.0)
        return self.unary(name, x)

    def op_binary(self, x: int, name: str | None = None) -> int:
        name = name or self.c.choice(BINARY)
        y = self.partner(x)
        if self.c.chance(0.3):
            x, y = y, x
        if len(shapes.broadcast_shape(self.values[x].shape, self.values[y].shape)) > 4:
            return x
        if name == "div":
            y = self.positive(y)
        elif name == "pow":
            x = self.positive(x)
            y = self.bounded(y, 2.0)
            if self.values[y].magnitude > 2.0 or self.values[x].magnitude > 100:
                return self.binary("mul", x, y)
        return self.binary(name, x, y)

    def op_matmul(self, x: int) -> int | None:
        s = self.values[x].shape
        k = s[-1]
        n = self.dim() if self.c.chance(0.6) else self.c.integer(10, 40)
        form = self.c.choice(("2d", "2d", "batched", "vector"))
        rhs: tuple[int, ...]
        if form == "vector":
            rhs = (k,)
        elif form == "batched" and len(s) >= 3:
            rhs = (*self.broadcast_partner(s[:-2]), k, n)
        else:
            rhs = (k, n)
        # A live value of the right shape (two inputs multiplied) or a weight.
        live = [i for i, v in enumerate(self.values) if v.live and v.shape == rhs and i != x]
        y = self.c.choice(live) if live and self.c.chance(0.7) else self.const(rhs)
        if self.c.chance(0.15) and len(s) >= 2:  # x as the right operand: lhs (m, s[-2])
            lhs = (*s[:-2], self.dim(), s[-2])
            if len(lhs) <= 4:
                x, y = self.const(lhs), x
        a, b = self.values[x], self.values[y]
        try:
            out = tuple(shapes.matmul_shape(a.shape, b.shape))
        except shapes.ShapeError:
            return None
        if not out or len(out) > 4:
            return None
        m = a.magnitude * b.magnitude * a.shape[-1]
        return self.add(Step("matmul", (x, y)), Value(out, m))

    def op_epilogue(self, x: int) -> int:
        """bias + activation, the matmul / conv epilogue."""
        s = self.values[x].shape
        bias_shape = (s[-1],) if len(s) != 4 or self.c.chance(0.5) else (s[1], 1, 1)
        if self.c.chance(0.7):
            x = self.binary("add", x, self.const(bias_shape))
        if self.c.chance(0.8):
            x = self.op_unary(x, self.c.choice(ACTIVATIONS))
        return x

    def op_conv2d(self, x: int) -> int | None:
        s = self.values[x].shape
        if len(s) != 4:
            return None
        n, c, h, w = s
        groups = self.c.choice([g for g in (1, 1, 2, 3, c) if c % g == 0])
        o = groups * self.c.integer(1, 3)
        kh, kw = self.c.integer(1, 3), self.c.integer(1, 3)
        strides = (self.c.integer(1, 2), self.c.integer(1, 2))
        dilation = (self.c.integer(1, 2), 1)
        padding: tuple[int, ...] = tuple(self.c.integer(0, 1) for _ in range(4))
        try:
            out = shapes.conv2d_shape(
                s, (o, c // groups, kh, kw), strides, padding, dilation, groups
            )
        except shapes.ShapeError:
            return None
        weight = self.const((o, c // groups, kh, kw))
        attrs = {"strides": strides, "padding": padding, "dilation": dilation, "groups": groups}
        m = self.values[x].magnitude * c // groups * kh * kw
        y = self.add(Step("conv2d", (x, weight), attrs), Value(tuple(out), m))
        if self.c.chance(0.2):  # batch_norm after a conv with constant weights: folded
            channels = (out[1],)
            params = [self.const(channels), self.const(channels), self.const(channels)]
            var = self.const(channels, 0.5, 2.0)
            y = self.add(Step("batch_norm", (y, *params, var)), Value(tuple(out), m * 2 + 1))
        return y

    def op_norm(self, x: int) -> int:
        v = self.values[x]
        kind = self.c.choice(("softmax", "log_softmax", "layer_norm"))
        rank = len(v.shape)
        if kind == "layer_norm":
            k = self.c.integer(1, min(rank, 2))
            trailing = v.shape[rank - k :]
            weight, bias = self.const(trailing), self.const(trailing)
            m = math.sqrt(math.prod(trailing)) + 1
            return self.add(Step("layer_norm", (x, weight, bias)), Value(v.shape, m))
        axis = self.c.integer(-rank, rank - 1)
        m = 1.0 if kind == "softmax" else 2 * v.magnitude + math.log(v.shape[axis]) + 1
        lower = 1e-30 if kind == "softmax" else None
        return self.add(Step(kind, (x,), {"axis": axis}), Value(v.shape, m, lower))

    def op_reduce(self, x: int) -> int:
        v = self.values[x]
        rank = len(v.shape)
        axes = [d for d in range(rank) if self.c.chance(0.4)] or [self.c.integer(0, rank - 1)]
        axes = [a - rank if self.c.chance(0.3) else a for a in axes]
        if self.c.chance(0.3):
            axes.reverse()
        keepdim = self.c.chance(0.4)
        if len(axes) == rank and not keepdim and not self.c.chance(0.2):
            keepdim = True  # a rank-0 result now and then
        kind = self.c.choice(("sum", "mean", "max"))
        out = tuple(shapes.reduce_shape(v.shape, axes, keepdim))
        count = math.prod(v.shape) // max(math.prod(out), 1)
        m = v.magnitude * (count if kind == "sum" else 1)
        lower = v.lower if kind != "sum" else None
        attrs = {"kind": kind, "axes": axes, "keepdim": keepdim}
        return self.add(Step("reduce", (x,), attrs), Value(out, m, lower))

    def op_pool(self, x: int) -> int | None:
        v = self.values[x]
        if len(v.shape) != 4:
            return None
        kind = self.c.choice(("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"))
        if kind == "adaptive_avg_pool2d":
            size = (self.c.integer(1, v.shape[2]), self.c.integer(1, v.shape[3]))
            adaptive = (*v.shape[:2], *size)
            return self.add(Step(kind, (x,), {"output_size": size}), Value(adaptive, v.magnitude))
        kernel = (self.c.integer(1, 3), self.c.integer(1, 3))
        strides = (self.c.integer(1, 2), self.c.integer(1, 2)) if self.c.chance(0.6) else None
        padding = tuple(self.c.integer(0, kernel[i % 2] // 2) for i in range(4))
        dilation = (self.c.integer(1, 2), 1) if kind == "max_pool2d" else (1, 1)
        try:
            pooled = shapes.pool2d_shape(v.shape, kernel, strides or kernel, padding, dilation)
        except shapes.ShapeError:
            return None
        out = tuple(pooled)
        attrs: dict[str, Any] = {"kernel": kernel, "strides": strides, "padding": padding}
        if kind == "max_pool2d":
            attrs["dilation"] = dilation
        else:
            attrs["count_include_pad"] = self.c.chance(0.5)
        return self.add(Step(kind, (x,), attrs), Value(tuple(out), v.magnitude))

    def op_layout(self, x: int) -> int | None:
        v = self.values[x]
        s, rank = v.shape, len(v.shape)
        kind = self.c.choice(("reshape", "transpose", "slice", "concat", "broadcast_to", "gather"))
        if kind == "reshape":
            out = self.reshaped(s)
            return self.view("reshape", x, {"shape": list(out)}, out)
        if kind == "transpose":
            perm = list(range(rank))
            for i in range(rank - 1, 0, -1):
                j = self.c.integer(0, i)
                perm[i], perm[j] = perm[j], perm[i]
            out = tuple(shapes.transpose_shape(s, perm))
            return self.view("transpose", x, {"permutation": perm}, out)
        if kind == "slice":
            offsets, sizes, strides = [], [], []
            for n in s:
                stride = self.c.choice((1, 1, 2, 3))
                offset = self.c.integer(0, n - 1)
                size = self.c.integer(1, (n - 1 - offset) // stride + 1)
                offsets.append(offset)
                sizes.append(size)
                strides.append(stride)
            attrs = {"offsets": offsets, "sizes": sizes, "strides": strides}
            return self.add(Step("slice", (x,), attrs), Value(tuple(sizes), v.magnitude, v.lower))
        if kind == "concat":
            axis = self.c.integer(-rank, rank - 1)
            other = list(s)
            other[axis] = self.dim()
            fits = [
                i
                for i, w in enumerate(self.values)
                if w.live and len(w.shape) == rank and _concat_fits(s, w.shape, axis)
            ]
            y = self.c.choice(fits) if fits and self.c.chance(0.5) else self.const(other)
            if self.c.chance(0.3):
                x, y = y, x
            out = tuple(shapes.concat_shape(self.values[x].shape, self.values[y].shape, axis))
            m = max(v.magnitude, self.values[y].magnitude)
            return self.add(Step("concat", (x, y), {"axis": axis}), Value(out, m))
        if kind == "broadcast_to":
            lead = tuple(self.c.integer(1, 3) for _ in range(self.c.integer(0, 4 - rank)))
            out = lead + tuple(self.c.integer(1, 4) if d == 1 else d for d in s)
            return self.view("broadcast_to", x, {"shape": list(out)}, out)
        # gather: constant indices along an axis (negative ones count from the end).
        axis = self.c.integer(-rank, rank - 1)
        index_shape = tuple(self.c.integer(1, 4) for _ in range(self.c.integer(0, 2)))
        if rank - 1 + len(index_shape) > 4 or rank - 1 + len(index_shape) == 0:
            return None
        n = s[axis]
        seed = self.c.integer(0, 2**31 - 1)
        idx = np.random.default_rng(seed).integers(-n, n, index_shape).astype(np.int64)
        self.steps.append(Step("const", (), {"array": idx}))
        self.values.append(Value(index_shape, 0.0, None, False))
        out = tuple(shapes.gather_shape(s, index_shape, axis))
        gathered = Value(out, v.magnitude, v.lower)
        return self.add(Step("gather", (x, len(self.values) - 1), {"axis": axis}), gathered)

    def view(self, op: str, x: int, attrs: dict[str, Any], shape: tuple[int, ...]) -> int:
        """A layout op: the values of `x` moved (their bounds kept)."""
        v = self.values[x]
        return self.add(Step(op, (x,), attrs), Value(shape, v.magnitude, v.lower))

    def reshaped(self, s: tuple[int, ...]) -> tuple[int, ...]:
        """A random shape of the same size: its prime factors dealt into 1-4 dims, unit dims
        added now and then."""
        factors = _prime_factors(math.prod(s))
        rank = self.c.integer(1, 4)
        dims = [1] * rank
        for f in factors:
            dims[self.c.integer(0, rank - 1)] *= f
        return tuple(dims)

    def program(self) -> Program:
        n_inputs = self.c.integer(1, 3)
        first = self.shape()
        self.inputs.append(first)
        for _ in range(n_inputs - 1):
            how = self.c.choice(("broadcast", "matmul", "same", "random"))
            if how == "broadcast":
                s = self.broadcast_partner(first) or (1,)
            elif how == "matmul":
                s = (first[-1], self.dim())
            elif how == "same":
                s = first
            else:
                s = self.shape()
            self.inputs.append(s)
        for s in self.inputs:
            self.values.append(Value(s, INPUT_BOUND))
        focus = self.c.integer(0, n_inputs - 1)
        n_ops = self.c.integer(1, 8)
        ops = 0
        tries = 0
        while ops < n_ops and tries < 4 * n_ops:
            tries += 1
            if self.values[focus].magnitude > MAX_MAGNITUDE:
                focus = self.unary("tanh", focus)
            kind = self.c.choice(
                ("matmul", "conv2d", "unary", "unary", "binary", "binary", "norm", "reduce")
                + ("pool", "layout", "layout", "switch")
            )
            if not self.values[focus].shape and kind not in ("unary", "binary", "switch"):
                continue  # a rank-0 value (a full reduction) takes elementwise ops only
            if kind == "switch":  # continue from another live value
                focus = self.c.choice([i for i, v in enumerate(self.values) if v.live])
                continue
            new = getattr(self, f"op_{kind}")(focus)
            if new is None:
                continue
            if kind in ("matmul", "conv2d") and self.c.chance(0.7):
                new = self.op_epilogue(new)
            focus = new
            ops += 1
        outputs = [focus]
        if self.c.chance(0.2):
            others = [i for i, v in enumerate(self.values[len(self.inputs) :], len(self.inputs))]
            others = [i for i in others if self.values[i].live and i != focus]
            if others:
                outputs.append(self.c.choice(others))
        if not self.steps or not self.values[focus].live:
            focus = self.op_unary(focus, "neg")
            outputs = [focus]
        if self.c.chance(0.05):  # a result returned twice, or an input returned as it is
            outputs.append(self.c.choice((focus, self.c.integer(0, n_inputs - 1))))
        data_seed = self.c.integer(0, 2**31 - 1)
        # Step arguments index `values`: the inputs, then one value per step.
        return Program(list(self.inputs), self.steps, outputs, self.values, data_seed)


def _broadcasts(a: Sequence[int], b: Sequence[int]) -> bool:
    try:
        shapes.broadcast_shape(a, b)
    except shapes.ShapeError:
        return False
    return True


def _concat_fits(a: Sequence[int], b: Sequence[int], axis: int) -> bool:
    axis %= len(a)
    return all(x == y for d, (x, y) in enumerate(zip(a, b)) if d != axis)


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


def generate(chooser: Chooser) -> Program:
    return _Generator(chooser).program()


def program_for(seed: int, index: int) -> Program:
    """Program `index` of the run with `seed` (independent of the other programs)."""
    return generate(RandomChooser(seed * 1_000_003 + index))


def programs():
    """A hypothesis strategy of random graph programs."""
    from hypothesis import strategies as st

    @st.composite
    def draw_program(draw):
        return generate(DrawChooser(draw))

    return draw_program()
