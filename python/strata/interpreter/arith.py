"""Semantics of `arith` and `math`: scalars and vectors.

Floats compute in their own type (np.float32 for f32), as MLIR does; bf16 goes through f32 and is
rounded back. Integer scalars are Python ints wrapped to their width after each op (index is not
wrapped: it never overflows in practice); integer vectors compute element by element through the
same scalar functions.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
from mlir import ir

from strata.dialects.constants import read_constants
from strata.interpreter.core import Constant, Kernel, OpContext, semantics
from strata.interpreter.values import (
    bf16_to_f32,
    bit_width,
    dense_bf16,
    element_kind,
    f32_to_bf16,
    is_shaped,
    shape_of,
    storage_dtype,
    unsigned,
    wrapper,
)

# ---- floats ------------------------------------------------------------------------------------


def _through_f32(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` for bf16 operands: computed in f32, rounded back to bf16 bits."""
    return lambda *xs: f32_to_bf16(fn(*[bf16_to_f32(x) for x in xs]))


def _libm(fn: Callable[[float], float]) -> Callable[[Any], Any]:
    """A float64 `math` function applied in the operand's type (numpy lacks erf)."""

    def apply(x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return np.array([fn(float(v)) for v in x.ravel()], x.dtype).reshape(x.shape)
        return x.dtype.type(fn(float(x)))

    return apply


def _round(x: Any) -> Any:
    """math.round: halfway cases away from zero (numpy's round is to even)."""
    return np.copysign(np.floor(np.abs(np.float64(x)) + 0.5), x).astype(x.dtype)


def _rsqrt(x: Any) -> Any:
    return x.dtype.type(1) / np.sqrt(x)


def fused_multiply_add(a: Any, b: Any, c: Any) -> Any:
    """a * b + c rounded once, as an FMA instruction does: f16/f32 products are exact in f64."""
    dtype = np.result_type(a, b, c)
    if dtype.itemsize >= 8:
        return a * b + c
    return (np.float64(a) * np.float64(b) + np.float64(c)).astype(dtype)


_FLOAT_OPS: dict[str, Callable[..., Any]] = {
    "arith.addf": operator.add,
    "arith.subf": operator.sub,
    "arith.mulf": operator.mul,
    "arith.divf": operator.truediv,
    "arith.remf": np.fmod,
    "arith.negf": operator.neg,
    "arith.maximumf": np.maximum,
    "arith.minimumf": np.minimum,
    "arith.maxnumf": np.fmax,
    "arith.minnumf": np.fmin,
    "math.absf": np.abs,
    "math.ceil": np.ceil,
    "math.floor": np.floor,
    "math.trunc": np.trunc,
    "math.round": _round,
    "math.roundeven": np.rint,
    "math.sqrt": np.sqrt,
    "math.rsqrt": _rsqrt,
    "math.cbrt": np.cbrt,
    "math.exp": np.exp,
    "math.exp2": np.exp2,
    "math.expm1": np.expm1,
    "math.log": np.log,
    "math.log2": np.log2,
    "math.log10": np.log10,
    "math.log1p": np.log1p,
    "math.sin": np.sin,
    "math.cos": np.cos,
    "math.tan": np.tan,
    "math.asin": np.arcsin,
    "math.acos": np.arccos,
    "math.atan": np.arctan,
    "math.sinh": np.sinh,
    "math.cosh": np.cosh,
    "math.tanh": np.tanh,
    "math.erf": _libm(math.erf),
    "math.erfc": _libm(math.erfc),
    "math.powf": np.power,
    "math.atan2": np.arctan2,
    "math.copysign": np.copysign,
    "math.fma": fused_multiply_add,
}


@semantics(*_FLOAT_OPS)
def _float_op(op: OpContext) -> Kernel:
    fn = _FLOAT_OPS[op.name]
    return _through_f32(fn) if element_kind(op.operand_types[0]) == "bf16" else fn


_FLOAT_TESTS = {"math.isnan": np.isnan, "math.isinf": np.isinf, "math.isfinite": np.isfinite}


@semantics(*_FLOAT_TESTS)
def _float_test(op: OpContext) -> Kernel:
    fn = _FLOAT_TESTS[op.name]
    return (lambda x: fn(bf16_to_f32(x))) if element_kind(op.operand_types[0]) == "bf16" else fn


# Predicates of arith.cmpf, by their enum value: scalar and vector forms (NaN is unordered).
_CMPF_SCALAR: list[Callable[[Any, Any], Any]] = [
    lambda a, b: False,
    lambda a, b: a == b,
    lambda a, b: a > b,
    lambda a, b: a >= b,
    lambda a, b: a < b,
    lambda a, b: a <= b,
    lambda a, b: a < b or a > b,
    lambda a, b: a == a and b == b,
    lambda a, b: not (a < b or a > b),
    lambda a, b: not (a <= b),
    lambda a, b: not (a < b),
    lambda a, b: not (a >= b),
    lambda a, b: not (a > b),
    lambda a, b: a != b,
    lambda a, b: a != a or b != b,
    lambda a, b: True,
]
_CMPF_VECTOR: list[Callable[[Any, Any], Any]] = [
    lambda a, b: np.zeros(np.broadcast(a, b).shape, bool),
    operator.eq,
    operator.gt,
    operator.ge,
    operator.lt,
    operator.le,
    lambda a, b: (a < b) | (a > b),
    lambda a, b: (a == a) & (b == b),
    lambda a, b: ~((a < b) | (a > b)),
    lambda a, b: ~(a <= b),
    lambda a, b: ~(a < b),
    lambda a, b: ~(a >= b),
    lambda a, b: ~(a > b),
    operator.ne,
    lambda a, b: (a != a) | (b != b),
    lambda a, b: np.ones(np.broadcast(a, b).shape, bool),
]


@semantics("arith.cmpf")
def _cmpf(op: OpContext) -> Kernel:
    table = _CMPF_VECTOR if is_shaped(op.operand_types[0]) else _CMPF_SCALAR
    fn = table[op.attr("predicate")]
    if element_kind(op.operand_types[0]) == "bf16":
        return lambda a, b: fn(bf16_to_f32(a), bf16_to_f32(b))
    return fn


# ---- integers ---------------------------------------------------------------------------------


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _int_ops(width: int, wrap: Callable[[int], Any]) -> dict[str, Callable[[int, int], Any]]:
    """Scalar kernels of the binary integer ops for one width (signed Python ints)."""

    def u(x: int) -> int:
        return unsigned(x, width)

    def shifted(fn: Callable[[int, int], Any]) -> Callable[[int, int], Any]:
        return lambda a, b: fn(a, b) if 0 <= b < width else 0  # MLIR: poison

    return {
        "arith.addi": lambda a, b: wrap(a + b),
        "arith.subi": lambda a, b: wrap(a - b),
        "arith.muli": lambda a, b: wrap(a * b),
        "arith.andi": operator.and_,
        "arith.ori": operator.or_,
        "arith.xori": operator.xor,
        "arith.maxsi": max,
        "arith.minsi": min,
        "arith.maxui": lambda a, b: a if u(a) >= u(b) else b,
        "arith.minui": lambda a, b: a if u(a) <= u(b) else b,
        "arith.divsi": lambda a, b: wrap(_trunc_div(a, b)),
        "arith.divui": lambda a, b: wrap(u(a) // u(b)),
        "arith.remsi": lambda a, b: wrap(a - b * _trunc_div(a, b)),
        "arith.remui": lambda a, b: wrap(u(a) % u(b)),
        "arith.floordivsi": lambda a, b: wrap(a // b),
        "arith.ceildivsi": lambda a, b: wrap(-(-a // b)),
        "arith.ceildivui": lambda a, b: wrap(-(-u(a) // u(b))),
        "arith.shli": shifted(lambda a, b: wrap(a << b)),
        "arith.shrsi": shifted(operator.rshift),
        "arith.shrui": shifted(lambda a, b: wrap(u(a) >> b)),
    }


_INT_OPS = list(_int_ops(64, int))
_INDEX_FAST = {"arith.addi": operator.add, "arith.subi": operator.sub, "arith.muli": operator.mul}


def _elementwise(fn: Callable[..., Any], dtype: np.dtype) -> Callable[..., Any]:
    """A scalar integer kernel applied element by element to vectors."""

    def apply(*xs: Any) -> Any:
        arrays = np.broadcast_arrays(*xs)
        flat = [[int(v) for v in a.ravel()] for a in arrays]
        out = [fn(*vs) for vs in zip(*flat)]
        return np.array(out, dtype).reshape(arrays[0].shape)

    return apply


def _int_kernel(op: OpContext, name: str, t: ir.Type) -> Kernel:
    kind, width = element_kind(t), bit_width(t)
    if kind == "index" and name in _INDEX_FAST:
        fn = _INDEX_FAST[name]
    else:
        fn = _int_ops(width, wrapper(width))[name]
    if is_shaped(op.result_types[0]):
        return _elementwise(fn, storage_dtype(op.result_types[0]))
    return fn


@semantics(*_INT_OPS)
def _int_op(op: OpContext) -> Kernel:
    return _int_kernel(op, op.name, op.result_types[0])


_CMPI = ["eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"]
_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


@semantics("arith.cmpi")
def _cmpi(op: OpContext) -> Kernel:
    predicate = _CMPI[op.attr("predicate")]
    compare = _COMPARE[predicate[-2:]]
    width = bit_width(op.operand_types[0])
    if predicate.startswith("u"):
        scalar = lambda a, b: compare(unsigned(a, width), unsigned(b, width))  # noqa: E731
    else:
        scalar = compare
    if is_shaped(op.result_types[0]):
        return _elementwise(scalar, np.dtype(np.bool_))
    return scalar


@semantics("arith.select")
def _select(op: OpContext) -> Kernel:
    if is_shaped(op.operand_types[0]):
        return np.where
    return lambda c, a, b: a if c else b


# ---- casts ------------------------------------------------------------------------------------


def _cast(op: OpContext, scalar: Callable[[Any], Any]) -> Kernel:
    """A cast kernel from its scalar form (vectors element by element)."""
    if not is_shaped(op.result_types[0]):
        return scalar
    dtype = storage_dtype(op.result_types[0])
    kind = element_kind(op.operand_types[0])

    def apply(x: np.ndarray) -> np.ndarray:
        items = [int(v) if kind in ("int", "index") else v for v in x.ravel()]
        return np.array([scalar(v) for v in items], dtype).reshape(x.shape)

    return apply


def _float_maker(t: ir.Type) -> Callable[[Any], Any]:
    """Python/numpy number -> scalar of float type `t` (bf16 bits for bf16)."""
    if element_kind(t) == "bf16":
        return lambda x: f32_to_bf16(np.float32(x))
    return storage_dtype(t).type


def _float_reader(t: ir.Type) -> Callable[[Any], Any]:
    """Scalar of float type `t` -> a numpy float (bf16 bits decoded)."""
    return bf16_to_f32 if element_kind(t) == "bf16" else (lambda x: x)


@semantics("arith.extsi", "arith.extui", "arith.trunci", "arith.index_cast", "arith.index_castui")
def _int_cast(op: OpContext) -> Kernel:
    src, dst = op.operand_types[0], op.result_types[0]
    src_width, wrap = bit_width(src), wrapper(bit_width(dst))
    zero_extend = op.name in ("arith.extui", "arith.index_castui")
    if zero_extend:
        scalar = lambda x: wrap(unsigned(x, src_width))  # noqa: E731
    elif src_width == 1:  # sign extension of i1: true is -1
        scalar = lambda x: wrap(-int(bool(x)))  # noqa: E731
    else:
        scalar = wrap
    return _cast(op, scalar)


@semantics("arith.sitofp", "arith.uitofp")
def _int_to_float(op: OpContext) -> Kernel:
    make, width = _float_maker(op.result_types[0]), bit_width(op.operand_types[0])
    if op.name == "arith.uitofp":
        return _cast(op, lambda x: make(unsigned(x, width)))
    return _cast(op, make)


@semantics("arith.fptosi", "arith.fptoui")
def _float_to_int(op: OpContext) -> Kernel:
    read, width = _float_reader(op.operand_types[0]), bit_width(op.result_types[0])
    wrap = wrapper(width)
    signed = op.name == "arith.fptosi"
    lo, hi = (-(1 << (width - 1)), 1 << (width - 1)) if signed else (0, 1 << width)

    def convert(x: Any) -> Any:
        f = float(read(x))
        if not (lo <= f < hi):  # NaN and out of range: poison in MLIR; x86 gives INT_MIN
            return wrap(1 << (width - 1))
        return wrap(int(f))

    return _cast(op, convert)


@semantics("arith.extf", "arith.truncf")
def _float_cast(op: OpContext) -> Kernel:
    read, make = _float_reader(op.operand_types[0]), _float_maker(op.result_types[0])
    if is_shaped(op.result_types[0]):
        dtype = storage_dtype(op.result_types[0])
        if element_kind(op.result_types[0]) == "bf16":
            return lambda x: np.asarray(f32_to_bf16(read(x).astype(np.float32)))
        return lambda x: np.asarray(read(x)).astype(dtype)
    return lambda x: make(read(x))


@semantics("arith.bitcast")
def _bitcast(op: OpContext) -> Kernel:
    src, dst = op.operand_types[0], op.result_types[0]
    src_kind, dst_kind = element_kind(src), element_kind(dst)
    width = bit_width(dst)
    bits = np.dtype(f"i{width // 8}")
    dst_dtype = storage_dtype(dst)
    if is_shaped(dst):
        return lambda x: x.view(bits).view(dst_dtype) if x.dtype != bits else x.view(dst_dtype)
    if src_kind in ("int", "index") and dst_kind in ("int", "index"):
        return wrapper(width)
    if src_kind in ("int", "index"):  # int -> float
        return lambda x: np.array(x, bits).view(dst_dtype)[()]
    if dst_kind in ("int", "index"):  # float -> int
        return lambda x: int(np.asarray(x).view(bits))
    return lambda x: np.asarray(x).view(dst_dtype)[()]


# ---- constants --------------------------------------------------------------------------------


@semantics("arith.constant")
def _constant(op: OpContext) -> Constant:
    attr = op.op.attributes["value"]
    t = op.result_types[0]
    if is_shaped(t):
        array = read_constants([attr])[0]
        if array is None:
            array = dense_bf16(attr)
        if array is None:
            raise op.error(f"cannot read the elements of {t}")
        array = np.asarray(array, storage_dtype(t)).reshape(shape_of(t))
        array.setflags(write=False)  # values: never written in place
        return Constant(array)
    value = op.attr("value")
    if element_kind(t) in ("int", "index"):
        return Constant(bool(value) if bit_width(t) == 1 else int(value))
    return Constant(_float_maker(t)(value))


@semantics("ub.poison")
def _poison(op: OpContext) -> Constant:
    t = op.result_types[0]
    dtype = storage_dtype(t)
    fill: Any = np.nan if dtype.kind == "f" else 0
    if element_kind(t) == "bf16":
        fill = 0x7FC0
    if is_shaped(t):
        array = np.full(shape_of(t), fill, dtype)
        array.setflags(write=False)
        return Constant(array)
    return Constant(dtype.type(fill) if dtype.kind == "f" else int(fill))
