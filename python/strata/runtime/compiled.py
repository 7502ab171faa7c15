"""Compiled modules: JIT-compiled functions called with numpy arrays.

The ABI is the one `strata-lower-to-llvm` produces: each public function takes its inputs and then
one caller-allocated buffer per result, through its `_mlir_ciface_` wrapper. Signatures are read
from the graph-level function before lowering, so arguments are checked against the model's types.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from mlir import ir

_DTYPES = {
    "f32": np.float32,
    "f16": np.float16,
    "f64": np.float64,
    "i8": np.int8,
    "i32": np.int32,
    "i64": np.int64,
}


@dataclass(frozen=True)
class TensorSpec:
    shape: tuple[int, ...]
    dtype: np.dtype

    @classmethod
    def from_type(cls, t: ir.Type) -> TensorSpec:
        element = str(t.element_type)
        if element not in _DTYPES:
            raise TypeError(f"no numpy dtype for element type {element}")
        return cls(tuple(t.shape), np.dtype(_DTYPES[element]))

    def __str__(self) -> str:
        return f"{'x'.join(map(str, self.shape)) or 'scalar'} {self.dtype}"


@dataclass(frozen=True)
class Signature:
    name: str
    inputs: tuple[TensorSpec, ...]
    results: tuple[TensorSpec, ...]

    @classmethod
    def from_func(cls, fn: ir.Operation) -> Signature:
        ftype = ir.TypeAttr(fn.attributes["function_type"]).value
        return cls(
            ir.StringAttr(fn.attributes["sym_name"]).value,
            tuple(TensorSpec.from_type(t) for t in ftype.inputs),
            tuple(TensorSpec.from_type(t) for t in ftype.results),
        )


@functools.cache
def _descriptor_type(rank: int) -> type[ctypes.Structure]:
    """The memref descriptor struct of `rank`, one class per rank: ctypes caches the pointer type
    of every Structure class forever, so a class per compiled function would leak."""
    fields = [
        ("allocated", ctypes.c_void_p),
        ("aligned", ctypes.c_void_p),
        ("offset", ctypes.c_longlong),
    ]
    if rank:
        fields += [("shape", ctypes.c_longlong * rank), ("strides", ctypes.c_longlong * rank)]
    return type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})


class CompiledFunction:
    """One public function: `f(*arrays)` returns an array, or a tuple for several results."""

    def __init__(self, engine, signature: Signature):
        self.signature = signature
        self._engine = engine
        self._entry = engine.lookup(signature.name)
        specs = [*signature.inputs, *signature.results]
        # Argument packing is prepared once: descriptor structs, and the void** array pointing at
        # pointers to them (the packed `_mlir_ciface_` calling convention).
        self._descs = [_descriptor_type(len(s.shape))() for s in specs]
        for desc, spec in zip(self._descs, specs):
            if spec.shape:
                strides = np.empty(spec.shape, spec.dtype).strides
                desc.shape[:] = spec.shape
                desc.strides[:] = [s // spec.dtype.itemsize for s in strides]
        self._desc_ptrs = [ctypes.pointer(d) for d in self._descs]
        self._packed = (ctypes.c_void_p * len(specs))(
            *[ctypes.cast(ctypes.pointer(p), ctypes.c_void_p) for p in self._desc_ptrs]
        )

    def __call__(self, *args: np.ndarray):
        sig = self.signature
        if len(args) != len(sig.inputs):
            raise TypeError(
                f"{sig.name}() takes {len(sig.inputs)} arrays but {len(args)} were given"
            )
        keep = []
        for i, (arg, spec) in enumerate(zip(args, sig.inputs)):
            array = np.asarray(arg)
            if array.shape != spec.shape:
                raise ValueError(
                    f"{sig.name}(): argument {i} has shape {array.shape}, expected {spec.shape}"
                )
            array = np.ascontiguousarray(array, dtype=spec.dtype)
            keep.append(array)
        outs = [np.empty(spec.shape, spec.dtype) for spec in sig.results]
        for desc, array in zip(self._descs, [*keep, *outs]):
            address = array.ctypes.data
            desc.allocated = address
            desc.aligned = address
        self._entry(self._packed)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def __repr__(self) -> str:
        ins = ", ".join(map(str, self.signature.inputs))
        outs = ", ".join(map(str, self.signature.results))
        return f"<compiled {self.signature.name}({ins}) -> ({outs})>"


class CompiledModule:
    """The result of `strata.compile`: callable when there is one public function, and
    indexable by function name (`cm["mlp"]`)."""

    def __init__(self, engine, signatures: Sequence[Signature], llvm_module: ir.Module):
        self._engine = engine
        self.llvm_module = llvm_module  # the LLVM-dialect module that was JIT-compiled
        self.functions = {s.name: CompiledFunction(engine, s) for s in signatures}

    def __getitem__(self, name: str) -> CompiledFunction:
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(
                f"no public function '{name}'; have: {', '.join(self.functions)}"
            ) from None

    def __call__(self, *args: np.ndarray):
        if len(self.functions) != 1:
            raise TypeError(
                f"module has {len(self.functions)} public functions ({', '.join(self.functions)}); "
                "pick one by name: compiled['name'](...)"
            )
        return next(iter(self.functions.values()))(*args)
