"""The host side of a CUDA-compiled module, as a launch manifest.

After `strata-lower-to-llvm{target=cuda}` the entry function and the prim funcs it calls hold
only host work: device buffers (`memref.alloc`), weights (`memref.get_global`), views
(collapse/expand_shape, subview, transpose, casts), `memref.copy`, kernel launches
(`gpu.launch_func`) and library calls (`libcall.matmul` through cuBLAS). `HostTranslator` runs
that code symbolically, once: every memref becomes a reference into a device buffer (buffer id,
byte offset, shape, strides), and every launch, copy and call becomes a step of the manifest
(format in docs/architecture.md, "CUDA target"). Anything else on the host is refused with a
located error: the runtime that replays the manifest has no interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from mlir import ir

from strata.diagnostics import CompileError
from strata.irutil import callee_of, lookup_function, module_body, symbol_name

MANIFEST_FORMAT = "strata-cuda"
MANIFEST_VERSION = 1


def dtype_name(t: ir.Type) -> str:
    """The manifest's name of an element type (numpy's, and 'bfloat16' for bf16 bits)."""
    text = str(t)
    names = {
        "f32": "float32",
        "f16": "float16",
        "bf16": "bfloat16",
        "f64": "float64",
        "i8": "int8",
        "i16": "int16",
        "i32": "int32",
        "i64": "int64",
        "i1": "bool",
        "index": "int64",
    }
    if text not in names:
        raise CompileError(f"element type {text} cannot cross the host/device boundary")
    return names[text]


def itemsize(name: str) -> int:
    return 2 if name == "bfloat16" else np.dtype(name).itemsize


@dataclass
class Ref:
    """A memref on the device: a view into buffer `buffer`."""

    buffer: int
    offset: int  # bytes
    shape: tuple[int, ...]
    strides: tuple[int, ...]  # elements
    dtype: str

    def manifest(self) -> dict[str, int]:
        return {"buffer": self.buffer, "offset": self.offset}

    def described(self) -> dict[str, Any]:
        return {**self.manifest(), "shape": list(self.shape), "strides": list(self.strides)}

    @property
    def contiguous(self) -> bool:
        return self.strides == contiguous_strides(self.shape)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * itemsize(self.dtype)


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides: list[int] = []
    step = 1
    for size in reversed(shape):
        strides.insert(0, step)
        step *= size
    return tuple(strides)


def _layout(t: ir.MemRefType) -> tuple[list[int], int]:
    strides, offset = t.get_strides_and_offset()
    return list(strides), offset


@dataclass
class Manifest:
    chip: str
    entry: str
    buffers: list[int] = field(default_factory=list)
    constants: list[tuple[int, bytes]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)

    def new_buffer(self, nbytes: int) -> int:
        self.buffers.append(max(int(nbytes), 1))
        return len(self.buffers) - 1


class HostTranslator:
    """Runs the host code of `entry` symbolically into a `Manifest`."""

    def __init__(
        self, module: ir.Operation, entry: str, chip: str, n_inputs: int, *, tf32: bool = False
    ):
        self.module = module
        self.tf32 = tf32  # library gemms on f32 may use TF32 TensorCores
        self.manifest = Manifest(chip=chip, entry=entry)
        self.globals: dict[str, Ref] = {}
        fn = lookup_function(module, entry)
        if fn is None:
            raise CompileError(f"no function '{entry}' to compile")
        args = []
        for i, arg in enumerate(fn.regions[0].blocks[0].arguments):
            t = self._memref_type(arg.type, fn.location, "an argument of the entry function")
            ref = self._new_ref(t)
            args.append(ref)
            entry_ = {
                "name": f"arg{i}" if i < n_inputs else f"result{i - n_inputs}",
                "buffer": ref.buffer,
                "offset": 0,
                "shape": list(ref.shape),
                "dtype": ref.dtype,
            }
            (self.manifest.inputs if i < n_inputs else self.manifest.outputs).append(entry_)
        returned = self.call(fn, args)
        for value in returned:  # results the bufferization did not turn into out-params
            self.manifest.outputs.append(
                {
                    "name": f"result{len(self.manifest.outputs)}",
                    **value.manifest(),
                    "shape": list(value.shape),
                    "dtype": value.dtype,
                }
            )

    # --- values ----------------------------------------------------------------------------------

    def _memref_type(self, t: ir.Type, loc: ir.Location, what: str) -> ir.MemRefType:
        if not isinstance(t, ir.MemRefType) or not ir.MemRefType(t).has_static_shape:
            raise CompileError(
                f"{what} must be a memref of static shape on the cuda target, found {t}", loc
            )
        return ir.MemRefType(t)

    def _new_ref(self, t: ir.MemRefType) -> Ref:
        dtype = dtype_name(t.element_type)
        shape = tuple(t.shape)
        nbytes = int(np.prod(shape, dtype=np.int64)) * itemsize(dtype)
        return Ref(self.manifest.new_buffer(nbytes), 0, shape, contiguous_strides(shape), dtype)

    # --- functions -------------------------------------------------------------------------------

    def call(self, fn: ir.Operation, args: list[Any]) -> list[Any]:
        env: dict[Any, Any] = {}
        block = fn.regions[0].blocks[0]
        for arg, value in zip(block.arguments, args):
            env[arg] = value
        for op in block.operations:
            op = op.operation
            if op.name == "func.return":
                return [env[v] for v in op.operands]
            self.step(op, env)
        return []

    def _get(self, env: dict[Any, Any], value: ir.Value, op: ir.Operation) -> Any:
        if value in env:
            return env[value]
        raise CompileError(
            f"'{op.name}' on the host uses a value the launch manifest cannot compute", op.location
        )

    def step(self, op: ir.Operation, env: dict[Any, Any]) -> None:
        name = op.name
        results = list(op.results)
        if name == "arith.constant":
            attr = op.attributes["value"]
            if isinstance(attr, ir.IntegerAttr):
                env[results[0]] = ir.IntegerAttr(attr).value
            elif isinstance(attr, ir.FloatAttr):
                env[results[0]] = ir.FloatAttr(attr).value
            return  # dense vector constants are only for kernels (outlining sinks them)
        if name in ("memref.alloc", "memref.alloca"):
            env[results[0]] = self._new_ref(
                self._memref_type(results[0].type, op.location, "a host buffer")
            )
            return
        if name == "memref.get_global":
            env[results[0]] = self._global(ir.FlatSymbolRefAttr(op.attributes["name"]).value, op)
            return
        if name in ("memref.collapse_shape", "memref.expand_shape", "memref.reshape"):
            src = self._get(env, op.operands[0], op)
            if not src.contiguous:
                raise CompileError(f"'{name}' of a non-contiguous view on the host", op.location)
            t = ir.MemRefType(results[0].type)
            env[results[0]] = Ref(
                src.buffer,
                src.offset,
                tuple(t.shape),
                contiguous_strides(tuple(t.shape)),
                src.dtype,
            )
            return
        if name in ("memref.subview", "memref.reinterpret_cast", "memref.cast", "memref.transpose"):
            src = self._get(env, op.operands[0], op)
            env[results[0]] = self._derived_view(op, src)
            return
        if name in ("memref.dealloc", "memref.assume_alignment") and not results:
            return
        if name == "memref.copy":
            src, dst = (self._get(env, v, op) for v in op.operands)
            if not (src.contiguous and dst.contiguous) or src.nbytes != dst.nbytes:
                raise CompileError(
                    "memref.copy between non-contiguous views on the host", op.location
                )
            self.manifest.steps.append(
                {"op": "copy", "src": src.manifest(), "dst": dst.manifest(), "bytes": src.nbytes}
            )
            return
        if name == "func.call":
            callee = lookup_function(self.module, callee_of(op))
            if callee is None or not callee.regions[0].blocks:
                raise CompileError(
                    f"call of '{callee_of(op)}', which has no body: the cuda "
                    "target cannot call host functions",
                    op.location,
                )
            values = [self._get(env, v, op) for v in op.operands]
            for result, value in zip(results, self.call(callee, values)):
                env[result] = value
            return
        if name == "gpu.launch_func":
            self._launch(op, env)
            return
        if name.startswith("libcall."):
            self._libcall(op, env)
            return
        raise CompileError(
            f"'{name}' runs on the host, where the cuda target runs only kernel launches, "
            "copies and library calls (is a loop nest missing its GPU binding?)",
            op.location,
        )

    def _derived_view(self, op: ir.Operation, src: Ref) -> Ref:
        t = ir.MemRefType(op.results[0].type)
        strides, offset = _layout(t)
        if any(ir.ShapedType.is_dynamic_stride_or_offset(s) for s in [*strides, offset]):
            raise CompileError(
                f"'{op.name}' with dynamic strides or offset on the host", op.location
            )
        # Layout offsets are relative to the allocation: rebase on the source's own offset.
        src_strides, src_offset = _layout(ir.MemRefType(op.operands[0].type))
        base = src.offset - src_offset * itemsize(src.dtype)
        return Ref(
            src.buffer,
            base + offset * itemsize(src.dtype),
            tuple(t.shape),
            tuple(strides),
            src.dtype,
        )

    def _global(self, name: str, op: ir.Operation) -> Ref:
        if name in self.globals:
            return self.globals[name]
        from strata.interpreter.memory import global_array

        glob = next(
            (
                g.operation
                for g in module_body(self.module).operations
                if g.operation.name == "memref.global" and symbol_name(g) == name
            ),
            None,
        )
        if glob is None:
            raise CompileError(f"no memref.global '{name}'", op.location)
        t = self._memref_type(
            ir.TypeAttr(glob.attributes["type"]).value, op.location, f"global '{name}'"
        )
        ref = self._new_ref(t)
        data = np.ascontiguousarray(global_array(glob)).tobytes()
        self.manifest.constants.append((ref.buffer, data))
        self.globals[name] = ref
        return ref

    def _launch(self, op: ir.Operation, env: dict[Any, Any]) -> None:
        view = op.opview

        def const(value: ir.Value | None, default: int = 1) -> int:
            if value is None:
                return default
            v = self._get(env, value, op)
            if not isinstance(v, int):
                raise CompileError("a launch dimension that is not a constant", op.location)
            return v

        if list(view.asyncDependencies) or view.clusterSizeX is not None:
            raise CompileError(
                "async launches and clusters are not supported by the manifest", op.location
            )
        parts = str(op.attributes["kernel"]).replace("@", "").split("::")
        args: list[dict[str, Any]] = []
        for value in view.kernelOperands:
            v = self._get(env, value, op)
            t = value.type
            if isinstance(v, Ref):
                mt = ir.MemRefType(t)
                strides, offset = _layout(mt)
                if offset != 0 or tuple(strides) != contiguous_strides(tuple(mt.shape)):
                    raise CompileError(
                        f"kernel argument of type {t}: kernels take buffers with "
                        "the identity layout (bare pointers)",
                        op.location,
                    )
                args.append({"ptr": v.manifest()})
            elif isinstance(t, ir.IndexType) or str(t) == "i64":
                args.append({"i64": int(v)})
            elif str(t) == "i32":
                args.append({"i32": int(v)})
            elif str(t) == "f32":
                args.append({"f32": float(v)})
            else:
                raise CompileError(
                    f"kernel argument of type {t} is not supported by the launch manifest",
                    op.location,
                )
        self.manifest.steps.append(
            {
                "op": "launch",
                "module": parts[0],
                "kernel": parts[-1],
                "grid": [const(view.gridSizeX), const(view.gridSizeY), const(view.gridSizeZ)],
                "block": [const(view.blockSizeX), const(view.blockSizeY), const(view.blockSizeZ)],
                "shared_bytes": const(view.dynamicSharedMemorySize, 0),
                "args": args,
            }
        )

    def _libcall(self, op: ir.Operation, env: dict[Any, Any]) -> None:
        from strata.libraries.registry import lookup

        callee = ir.StringAttr(op.attributes["callee"]).value
        function = lookup(callee)
        step = getattr(function, "manifest_step", None) if function is not None else None
        if step is None:
            raise CompileError(
                f"library function '{callee}' cannot run on the cuda target "
                "(it has no GPU launch step)",
                op.location,
            )
        refs = [self._get(env, v, op) for v in op.operands]
        self.manifest.steps.append(step(op, *[r.described() for r in refs], allow_tf32=self.tf32))
