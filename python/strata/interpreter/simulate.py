"""`strata.simulate`: run a module in numpy, at any level the simulator has semantics for.

Arguments and results follow the JIT's `CompiledFunction`: tensor arguments are converted to the
function's element types (and copied: the caller's arrays are never written), results come back
as new numpy arrays. A memref argument is a buffer: the array given is used in place, so a tensor
program (`tprog.prim_func`, outputs last) can be simulated alone and its outputs read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from mlir import ir

from strata.interpreter.core import Function, Interpreter, SimulationError
from strata.interpreter.values import (
    element_kind,
    is_dynamic,
    is_shaped,
    shape_of,
    storage_dtype,
    to_scalar,
)
from strata.irutil import functions, is_declaration, is_public, symbol_name


def _module_and_function(
    module: ir.Module | ir.Operation | ir.OpView | str, function: str | None
) -> tuple[ir.Operation, str | None]:
    if isinstance(module, str):
        from strata.compiler import parse_module

        return parse_module(module), function
    if isinstance(module, ir.Module):
        return module.operation, function
    if isinstance(module, (ir.Operation, ir.OpView)):
        op = module.operation
        if op.name == "func.func" and op.parent is not None:  # a function of its module
            return op.parent, function or symbol_name(op)
        if op.name == "builtin.module":
            return op, function
        raise TypeError(f"strata.simulate takes a module or a func.func, not '{op.name}'")
    raise TypeError(
        f"strata.simulate takes an ir.Module, an operation or IR text, not {type(module).__name__}"
    )


def _default_function(module: ir.Operation) -> str:
    public = [symbol_name(f) for f in functions(module) if is_public(f) and not is_declaration(f)]
    if len(public) == 1:
        return public[0]
    if not public:
        raise SimulationError("the module has no public function to simulate")
    raise SimulationError(
        f"the module has {len(public)} public functions ({', '.join(public)}); pick one with "
        "function='name'"
    )


def _argument(name: str, i: int, value: Any, t: ir.Type) -> Any:
    if not is_shaped(t):
        return to_scalar(np.asarray(value).item(), t)
    array = np.asarray(value)
    expected = shape_of(t)
    if array.ndim != len(expected) or any(
        not is_dynamic(e) and e != s for e, s in zip(expected, array.shape)
    ):
        dims = ", ".join("?" if is_dynamic(e) else str(e) for e in expected)
        shape = f"({dims},)" if len(expected) == 1 else f"({dims})"  # as a tuple prints
        raise ValueError(f"{name}(): argument {i} has shape {array.shape}, expected {shape}")
    dtype = storage_dtype(t)
    if isinstance(t, ir.MemRefType):  # a buffer: written in place
        if not isinstance(value, np.ndarray) or value.dtype != dtype or not value.flags.writeable:
            raise TypeError(
                f"{name}(): argument {i} is a buffer ({t}): pass a writable numpy array of "
                f"dtype {dtype}, not {type(value).__name__}"
                + (f" of dtype {value.dtype}" if isinstance(value, np.ndarray) else "")
            )
        return value
    if element_kind(t) == "bf16" and array.dtype != np.uint16:
        raise TypeError(f"{name}(): argument {i} is bf16: pass its bits as a uint16 array")
    copied = np.array(array, dtype=dtype, order="C")
    copied.setflags(write=False)  # a tensor: a value
    return copied


def _result(value: Any, t: ir.Type) -> np.ndarray:
    if is_shaped(t):
        return np.array(value, dtype=storage_dtype(t), order="C")
    return np.asarray(value, dtype=storage_dtype(t))


def _function_type(op: ir.Operation) -> ir.FunctionType:
    return ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)


def _arguments(op: ir.Operation, arrays: Sequence[Any]) -> list[Any]:
    """The values `arrays` pass to the function `op`, checked as the JIT checks them."""
    name, inputs = symbol_name(op), list(_function_type(op).inputs)
    if len(arrays) != len(inputs):
        raise TypeError(f"{name}() takes {len(inputs)} arrays but {len(arrays)} were given")
    return [_argument(name, i, a, t) for i, (a, t) in enumerate(zip(arrays, inputs))]


def _call(function: Function, args: Sequence[Any]) -> list[np.ndarray]:
    with np.errstate(all="ignore"):  # inf and NaN are values here, as in compiled code
        values = function(*args)
    return [_result(v, t) for v, t in zip(values, _function_type(function.op).results)]


def run_function(function: Function, arrays: Sequence[Any]) -> list[np.ndarray]:
    """Call a function prepared by an `Interpreter` with arrays, as `simulate` does (to run a
    module many times without preparing it again)."""
    return _call(function, _arguments(function.op, arrays))


def simulate(
    module: ir.Module | ir.Operation | ir.OpView | str,
    *arrays: Any,
    function: str | None = None,
) -> list[np.ndarray]:
    """Run `function` of `module` on numpy arrays with the simulator and return its results.

    The module may be at any level with simulation semantics: tensor programs, after
    tensorization (`hwprim`) or library dispatch (`libcall`), after convert-tprog-to-scf and
    convert-hwprim-to-vector. `function` defaults to the single public function; naming one
    runs any function with a body (a tensor program: memref arguments are written in place).

    >>> y, = strata.simulate(module, x)            # compare with strata.compile(module)(x)

    Errors are `CompileError`s located at the op: an op without semantics, an access out of
    bounds; a wrong number or shape of arrays is a TypeError / ValueError, as for the JIT.
    """
    op, name = _module_and_function(module, function)
    if name is None:
        name = _default_function(op)
    defined = {symbol_name(f): f for f in functions(op) if not is_declaration(f)}
    if name not in defined:
        raise SimulationError(f"no function '@{name}' in the module; have: {', '.join(defined)}")
    args = _arguments(defined[name], arrays)  # wrong arrays: reported before preparing
    return _call(Interpreter(op).prepare(name), args)
