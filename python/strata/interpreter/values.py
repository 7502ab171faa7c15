"""How the simulator represents MLIR values in Python, and the conversions between them.

- index and integers: Python ints, signed, wrapped to their width by the ops (i1: bool);
- floats: numpy scalars of their type (np.float32 for f32), so arithmetic rounds as in MLIR;
  bf16, which numpy lacks, is held as its uint16 bits (as `read_constants` gives it);
- vectors and tensors: numpy arrays (values: never written in place once made);
- memrefs: numpy arrays, views of one allocation (a subview is a strided view, writes alias).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
from mlir import ir

_FLOAT_DTYPES: dict[str, np.dtype] = {
    "f16": np.dtype(np.float16),
    "f32": np.dtype(np.float32),
    "f64": np.dtype(np.float64),
    "bf16": np.dtype(np.uint16),  # the bits
}
_INT_DTYPES: dict[int, np.dtype] = {
    1: np.dtype(np.bool_),
    8: np.dtype(np.int8),
    16: np.dtype(np.int16),
    32: np.dtype(np.int32),
    64: np.dtype(np.int64),
}


class Trap(Exception):
    """Raised by a kernel when the program does something undefined (an access out of bounds);
    the interpreter reports it at the op that raised it."""


def element_type(t: ir.Type) -> ir.Type:
    """The element type of a shaped type, or `t` itself for a scalar."""
    return ir.ShapedType(t).element_type if isinstance(t, ir.ShapedType) else t


def is_shaped(t: ir.Type) -> bool:
    return isinstance(t, ir.ShapedType)


def element_kind(t: ir.Type) -> str:
    """ "float", "bf16", "int" or "index" for a scalar type or a shaped type's elements."""
    name = str(element_type(t))
    if name == "bf16":
        return "bf16"
    if name in _FLOAT_DTYPES:
        return "float"
    if name == "index":
        return "index"
    if name.startswith(("i", "si", "ui")) and name.lstrip("sui").isdigit():
        return "int"
    raise TypeError(f"the simulator has no representation for element type {name}")


def bit_width(t: ir.Type) -> int:
    """The width of an integer (index: 64) or float element type."""
    e = element_type(t)
    if str(e) == "index":
        return 64
    if isinstance(e, ir.IntegerType):
        return ir.IntegerType(e).width
    return {"f16": 16, "bf16": 16, "f32": 32, "f64": 64}[str(e)]


def storage_dtype(t: ir.Type) -> np.dtype:
    """The numpy dtype that holds elements of `t` (a scalar or shaped type) in an array."""
    e = element_type(t)
    name = str(e)
    if name in _FLOAT_DTYPES:
        return _FLOAT_DTYPES[name]
    if name == "index":
        return np.dtype(np.int64)
    if isinstance(e, ir.IntegerType):
        width = ir.IntegerType(e).width
        if width in _INT_DTYPES:
            unsigned = ir.IntegerType(e).is_unsigned and width > 1
            return np.dtype(f"u{width // 8}") if unsigned else _INT_DTYPES[width]
    raise TypeError(f"the simulator has no numpy dtype for element type {name}")


def shape_of(t: ir.Type) -> tuple[int, ...]:
    return tuple(ir.ShapedType(t).shape)


def is_dynamic(size: int) -> bool:
    return size == ir.ShapedType.get_dynamic_size()


# ---- integers ---------------------------------------------------------------------------------


@cache
def wrapper(width: int) -> Callable[[Any], Any]:
    """A function wrapping a Python int to a signed `width`-bit value (two's complement)."""
    if width == 1:
        return lambda x: bool(x & 1)
    half, mask = 1 << (width - 1), (1 << width) - 1
    return lambda x: ((x + half) & mask) - half


def unsigned(x: int, width: int) -> int:
    return int(x) & ((1 << width) - 1)


def to_scalar(value: Any, t: ir.Type) -> Any:
    """A numpy element (from an array) as the scalar representation of type `t`."""
    kind = element_kind(t)
    if kind in ("int", "index"):
        return bool(value) if bit_width(t) == 1 else int(value)
    return storage_dtype(t).type(value)


def scalar_converter(t: ir.Type) -> Callable[[Any], Any]:
    """`to_scalar` specialized to `t`."""
    kind = element_kind(t)
    if kind in ("int", "index"):
        return bool if bit_width(t) == 1 else int
    return storage_dtype(t).type


# ---- bf16 ------------------------------------------------------------------------------------


def bf16_to_f32(bits: Any) -> Any:
    """bf16 bits (uint16 scalar or array) -> float32 values."""
    widened = np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)
    result = widened.view(np.float32)
    return result[()] if result.ndim == 0 else result


def f32_to_bf16(value: Any) -> Any:
    """float32 values -> bf16 bits, rounded to nearest even (NaN stays a quiet NaN)."""
    bits = np.asarray(value, dtype=np.float32).view(np.uint32)
    rounded = bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))
    result = (rounded >> np.uint32(16)).astype(np.uint16)
    result = np.where(np.isnan(np.asarray(value, dtype=np.float32)), np.uint16(0x7FC0), result)
    return result[()] if result.ndim == 0 else result


# ---- attributes -------------------------------------------------------------------------------


def python_value(attr: ir.Attribute) -> Any:
    """An attribute as a Python value: bool, int, float, str, list, numpy array (dense
    elements), an `ir.Type` or `ir.AffineMap`; other attributes are returned as they are."""
    if isinstance(attr, ir.BoolAttr):
        return attr.value
    if isinstance(attr, ir.IntegerAttr):
        return attr.value
    if isinstance(attr, ir.FloatAttr):
        return attr.value
    if isinstance(attr, ir.StringAttr):
        return attr.value
    if isinstance(attr, ir.FlatSymbolRefAttr):
        return attr.value
    if isinstance(attr, ir.UnitAttr):
        return True
    if isinstance(
        attr,
        (
            ir.DenseI64ArrayAttr,
            ir.DenseI32ArrayAttr,
            ir.DenseI16ArrayAttr,
            ir.DenseI8ArrayAttr,
            ir.DenseBoolArrayAttr,
            ir.DenseF32ArrayAttr,
            ir.DenseF64ArrayAttr,
        ),
    ):
        return list(attr)
    if isinstance(attr, ir.ArrayAttr):
        return [python_value(a) for a in attr]
    if isinstance(attr, ir.TypeAttr):
        return attr.value
    if isinstance(attr, ir.AffineMapAttr):
        return attr.value
    if isinstance(attr, ir.DenseElementsAttr):
        from strata.dialects.constants import read_constants

        array = read_constants([attr])[0]
        return attr if array is None else array
    return attr


_BF16_TOKEN = re.compile(r"0x[0-9A-Fa-f]+|[-+]?(?:inf|nan|\d+\.?\d*(?:[eE][-+]?\d+)?)")


def dense_bf16(attr: ir.Attribute) -> np.ndarray | None:
    """The bits of a `dense` bf16 attribute, read from its text: the bindings cannot index one
    (MLIR prints the elements as decimals, special values as hex bits, large ones as hex)."""
    if not isinstance(attr, ir.DenseFPElementsAttr) or str(element_type(attr.type)) != "bf16":
        return None
    shape = shape_of(attr.type)
    text = str(attr)
    body = text[text.index("<") + 1 : text.rindex(":")].rstrip().removesuffix(">")
    if body.startswith('"0x'):
        bits = np.frombuffer(bytes.fromhex(body.strip('"')[2:]), "<u2")
    else:
        bits = np.array(
            [
                int(token, 16) if token.startswith("0x") else f32_to_bf16(np.float32(token))
                for token in _BF16_TOKEN.findall(body)
            ],
            np.uint16,
        )
    return np.broadcast_to(bits, shape).copy() if bits.size == 1 else bits.reshape(shape)
