"""The library registry: one place that declares every native function a `libcall` op can call.

An entry names the `libcall` op it implements, the shared library and symbol, how it accepts
operands (shapes, element types) and how a call is emitted (its argument convention). The JIT
loads the shared libraries of the entries a module uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlir import ir


@dataclass(frozen=True)
class Library:
    name: str
    locate: Callable[[], Path | None]  # the shared library, or None when not installed

    def path(self) -> Path | None:
        return self.locate()


@dataclass(frozen=True)
class LibraryFunction:
    name: str  # the `callee` attribute, e.g. "openblas.sgemm"
    op: str  # the libcall op it implements, e.g. "libcall.matmul"
    library: Library
    symbol: str
    accepts: Callable[[ir.Operation], str | None]  # None, or why the operands are not accepted
    emit: Callable[[ir.Operation, LibraryFunction], None]  # replace the op by the native call


_FUNCTIONS: dict[str, LibraryFunction] = {}
_BUILTIN_MODULES = ("strata.libraries.openblas",)
_loaded = False


def register(function: LibraryFunction) -> LibraryFunction:
    _FUNCTIONS[function.name] = function
    return function


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


def shared_libraries(module: ir.Operation) -> list[str]:
    """The shared libraries a module in the LLVM dialect needs, found by the symbols it declares."""
    _ensure_builtin()
    declared = set()
    for op in module.regions[0].blocks[0].operations:
        op = op.operation
        if op.name in ("llvm.func", "func.func") and not op.regions[0].blocks:
            declared.add(ir.StringAttr(op.attributes["sym_name"]).value)
    paths = []
    for function in _FUNCTIONS.values():
        if function.symbol in declared:
            path = function.library.path()
            if path is not None and str(path) not in paths:
                paths.append(str(path))
    return paths
