"""The library registry: one place that declares every native function a `libcall` op can call.

An entry (`LibraryFunction`) names the `libcall` op it implements, the shared library and symbol,
the operands it accepts (shapes, element types, layouts), how a call is emitted (its argument
convention) and a numpy reference with the op's semantics, which the simulator runs instead of the
library. The JIT loads the shared libraries of the entries a module uses. Users add their own
entries with `register_function` (the course's `register_global_func`).

>>> from strata.libraries import register_function
>>> register_function("mine.sgemm", "libcall.matmul", library="/opt/lib/libmine.so",
...                   symbol="cblas_sgemm", convention="cblas_sgemm")
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mlir import ir


@dataclass(frozen=True)
class Library:
    """A shared library: `locate()` finds it (None when not installed); `requires()` lists the
    libraries that must be loaded before it (its own dependencies outside the system path)."""

    name: str
    locate: Callable[[], Path | None]
    requires: Callable[[], Sequence[Path]] = lambda: ()
    install_hint: str = ""  # how to install it, for the remark when it is missing

    def path(self) -> Path | None:
        return self.locate()

    def available(self) -> bool:
        return self.path() is not None


Reference = Callable[..., None]  # reference(*arrays, **attributes): writes the output in place


@dataclass(frozen=True)
class LibraryFunction:
    """One native function. `accepts(op)` returns why the libcall op's operands are not
    accepted (or None); `emit(op, function)` replaces the op by the native call; `reference(
    *arrays, **attributes)` is its numpy semantics: the op's operands as arrays (inputs, then the
    output, written in place) and its attributes other than `callee` as Python values."""

    name: str  # the `callee` attribute, e.g. "openblas.sgemm"
    op: str  # the libcall op it implements, e.g. "libcall.matmul"
    library: Library
    symbol: str
    accepts: Callable[[ir.Operation], str | None]
    emit: Callable[[ir.Operation, LibraryFunction], None]
    reference: Reference
    convention: str = ""  # the C argument convention, in one line
    extra_symbols: tuple[str, ...] = field(default=())  # other symbols `emit` may call

    @property
    def symbols(self) -> tuple[str, ...]:
        return (self.symbol, *self.extra_symbols)


_FUNCTIONS: dict[str, LibraryFunction] = {}
_BUILTIN_MODULES = (
    "strata.libraries.openblas",
    "strata.libraries.onednn",
    "strata.libraries.cublas",
)
_loaded = False


def register(function: LibraryFunction) -> LibraryFunction:
    _FUNCTIONS[function.name] = function
    return function


def unregister(name: str) -> None:
    """Remove a registered function (a user's; the built-in ones come back on restart)."""
    if name not in _FUNCTIONS:
        raise ValueError(f"library function '{name}' is not registered")
    del _FUNCTIONS[name]


def _ensure_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)


def lookup(name: str) -> LibraryFunction | None:
    _ensure_builtin()
    return _FUNCTIONS.get(name)


def names() -> list[str]:
    _ensure_builtin()
    return sorted(_FUNCTIONS)


def functions() -> list[LibraryFunction]:
    _ensure_builtin()
    return [_FUNCTIONS[name] for name in sorted(_FUNCTIONS)]


def implementing(op_name: str) -> list[str]:
    """Names of the registered functions that implement the libcall op `op_name`."""
    _ensure_builtin()
    return sorted(name for name, f in _FUNCTIONS.items() if f.op == op_name)


def check_call(op: ir.Operation) -> str | None:
    """Why `op`'s callee cannot take this call, or None when it can."""
    callee = ir.StringAttr(op.attributes["callee"]).value
    function = lookup(callee)
    if function is None:
        return f"unknown library function '{callee}'; registered: {', '.join(names())}"
    if function.op != op.name:
        return f"library function '{callee}' implements '{function.op}', not '{op.name}'"
    return function.accepts(op)


def attribute_values(op: ir.Operation) -> dict[str, Any]:
    """The op's attributes other than `callee` as Python values (for `reference`)."""
    values: dict[str, Any] = {}
    for name in op.attributes:
        if name != "callee":
            values[name] = _python_value(op.attributes[name])
    return values


def _python_value(attr: ir.Attribute) -> Any:
    if isinstance(attr, (ir.BoolAttr, ir.IntegerAttr, ir.FloatAttr, ir.StringAttr)):
        return attr.value
    if isinstance(attr, ir.DenseI64ArrayAttr):
        return list(attr)
    if isinstance(attr, ir.ArrayAttr):
        return [_python_value(x) for x in attr]
    return str(attr)


def run_reference(op: ir.Operation, arrays: Sequence[np.ndarray]) -> None:
    """Run the numpy reference of `op`'s callee on `arrays` (the operands; the output in place)."""
    error = check_call(op)
    if error is not None:
        raise ValueError(error)
    function = lookup(ir.StringAttr(op.attributes["callee"]).value)
    assert function is not None
    function.reference(*arrays, **attribute_values(op))


def shared_libraries(module: ir.Operation) -> list[str]:
    """The shared libraries a module in the LLVM dialect needs, found by the symbols it declares,
    each after the libraries it requires."""
    _ensure_builtin()
    declared = set()
    for op in module.regions[0].blocks[0].operations:
        op = op.operation
        if op.name in ("llvm.func", "func.func") and not op.regions[0].blocks:
            declared.add(ir.StringAttr(op.attributes["sym_name"]).value)
    paths: list[str] = []
    for function in _FUNCTIONS.values():
        if declared.isdisjoint(function.symbols):
            continue
        path = function.library.path()
        if path is None:
            continue
        for needed in [*function.library.requires(), path]:
            if str(needed) not in paths:
                paths.append(str(needed))
    return paths
