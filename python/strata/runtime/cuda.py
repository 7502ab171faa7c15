"""Strata's CUDA runtime: runs a compiled GPU artifact with only the CUDA driver and numpy.

An artifact is a folder: `manifest.json` (format "strata-cuda", version 1: buffers, constants,
inputs, outputs and the launch steps), the PTX of each kernel module (and a cubin when ptxas was
present), the constants' files. `load(folder)` validates the manifest, loads each module (the
cubin when its chip is the device's, else the PTX through the driver's JIT), allocates every
buffer once and uploads the constants once; `model(*arrays)` copies the inputs in, replays the
steps on one stream (kernel launches, copies, memsets, cuBLAS gemms) and copies the outputs out.

This module imports only the standard library, ctypes and numpy (no MLIR, no other Strata
module), so it can be copied next to an artifact and run on a machine with a GPU:

    python cuda.py ARTIFACT --inputs in.npz --compare expected.npz --repeat 20

>>> with load("mlp.cuda") as model:
...     logits = model(x)  # a list when the model has several outputs
...     print(model.time(x, repeat=50))

bfloat16 tensors are held as their uint16 bits (numpy has no bfloat16), as in the rest of Strata.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import math
import os
import re
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "strata-cuda"
VERSION = 1
MANIFEST = "manifest.json"

# Element types of inputs and outputs (bfloat16: the uint16 bits).
DTYPES: dict[str, np.dtype] = {
    name: np.dtype(storage)
    for name, storage in {
        "float32": np.float32,
        "float16": np.float16,
        "bfloat16": np.uint16,
        "float64": np.float64,
        "int8": np.int8,
        "uint8": np.uint8,
        "int16": np.int16,
        "int32": np.int32,
        "int64": np.int64,
        "bool": np.bool_,
    }.items()
}
GEMM_DTYPES = ("float32", "float16", "bfloat16")
# The accumulation of a gemm step: "float32", or "tf32" (float32 operands only: TensorCores
# round the inputs to TF32, as torch's allow_tf32 does).
GEMM_COMPUTE = ("float32", "tf32")
LAUNCH_ARGS = ("ptr", "i32", "i64", "f32", "f64")
STATIC_SHARED_LIMIT = 48 * 1024  # beyond it a kernel must opt in (cuFuncSetAttribute)
INT32_MAX = 2**31 - 1


class ArtifactError(ValueError):
    """A malformed artifact: `field` names the manifest field (`steps[2].grid`), or the file."""

    def __init__(self, field: str, problem: str, source: str = MANIFEST):
        self.field = field
        self.problem = problem
        super().__init__(f"{source}: {field}: {problem}" if field else f"{source}: {problem}")


class CudaError(RuntimeError):
    """A CUDA driver or cuBLAS call failed: `call` is the function, `name` the error's name."""

    def __init__(self, call: str, code: int, name: str, description: str = ""):
        self.call, self.code, self.name = call, code, name
        detail = f": {description}" if description and description != name else ""
        number = f" ({code})" if code >= 0 else ""
        super().__init__(f"{call} failed with {name}{number}{detail}")


class InputError(ValueError):
    """An argument that does not match the artifact's inputs (count, shape or dtype)."""


# ---- the manifest -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BufferRef:
    buffer: int
    offset: int  # bytes


@dataclass(frozen=True)
class Constant:
    buffer: int
    file: str
    offset: int  # in the file
    bytes: int
    buffer_offset: int = 0  # where in the buffer (optional in the manifest)


@dataclass(frozen=True)
class Tensor:
    """An input or output: `shape` elements of `dtype` from byte `offset` of `buffer`."""

    name: str
    buffer: int
    offset: int
    shape: tuple[int, ...]
    dtype: str

    @property
    def storage(self) -> np.dtype:
        return DTYPES[self.dtype]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.storage.itemsize

    def __str__(self) -> str:
        return f"{self.name}: {'x'.join(map(str, self.shape)) or 'scalar'} {self.dtype}"


@dataclass(frozen=True)
class ModuleFiles:
    name: str
    ptx: str
    cubin: str | None


@dataclass(frozen=True)
class Launch:
    module: str
    kernel: str
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    shared_bytes: int
    args: tuple[tuple[str, Any], ...]  # (kind, value): ("ptr", BufferRef), ("i32", 7), ...


@dataclass(frozen=True)
class Copy:
    src: BufferRef
    dst: BufferRef
    bytes: int


@dataclass(frozen=True)
class Memset:
    dst: BufferRef
    bytes: int
    value: int


@dataclass(frozen=True)
class GemmOperand:
    """A row-major view: element [b, i, j] at `offset` + (b*batch_stride + i*row_stride +
    j*col_stride) elements; a transposed view has row_stride 1."""

    buffer: int
    offset: int
    row_stride: int
    col_stride: int
    batch_stride: int


@dataclass(frozen=True)
class Gemm:
    """C[b] (m x n) = alpha * A[b] (m x k) . B[b] (k x n) + beta * C[b], row-major."""

    dtype: str
    out_dtype: str
    compute: str
    m: int
    n: int
    k: int
    batch: int
    a: GemmOperand
    b: GemmOperand
    c: GemmOperand
    alpha: float
    beta: float
    library: str = "cublas"


Step = Launch | Copy | Memset | Gemm


@dataclass(frozen=True)
class Manifest:
    chip: str
    entry: str
    modules: tuple[ModuleFiles, ...]
    buffers: dict[int, int]  # id -> bytes
    constants: tuple[Constant, ...]
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    steps: tuple[Step, ...]


_CHIP = re.compile(r"sm_(\d+)(\d)([af]?)")


def chip_capability(chip: str) -> tuple[int, int, str] | None:
    """`sm_90a` -> (9, 0, "a"): compute capability and arch-specific suffix; None if malformed."""
    match = _CHIP.fullmatch(chip)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), match.group(3)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _fields(value: Any, where: str, required: Sequence[str], optional: Sequence[str] = ()):
    """`value` as an object with exactly these keys (all of `required`, some of `optional`)."""
    if not isinstance(value, dict):
        raise ArtifactError(where, f"expected an object, found {_kind(value)}")
    for key in required:
        if key not in value:
            raise ArtifactError(where, f"missing field '{key}'")
    unknown = [key for key in value if key not in required and key not in optional]
    if unknown:
        allowed = ", ".join([*required, *optional])
        raise ArtifactError(where, f"unknown field '{unknown[0]}' (expected: {allowed})")
    return value


def _int(value: Any, where: str, minimum: int = 0, maximum: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ArtifactError(where, f"expected an integer, found {_kind(value)} {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
        raise ArtifactError(where, f"expected an integer {bound}, found {value}")
    return value


def _float(value: Any, where: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ArtifactError(where, f"expected a finite number, found {value!r}")
    return float(value)


def _str(value: Any, where: str, choices: Sequence[str] = ()) -> str:
    if not isinstance(value, str) or not value:
        raise ArtifactError(where, f"expected a non-empty string, found {_kind(value)} {value!r}")
    if choices and value not in choices:
        raise ArtifactError(
            where, f"unknown value '{value}'; expected one of: {', '.join(choices)}"
        )
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise ArtifactError(where, f"expected a list, found {_kind(value)}")
    return value


def _file(name: str, where: str, folder: Path | None) -> str:
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise ArtifactError(where, f"'{name}' must be a path inside the artifact folder")
    if folder is not None and not (folder / name).is_file():
        raise ArtifactError(where, f"file '{name}' is not in the artifact folder {folder}")
    return name


ARG_BYTES = {"ptr": 8, "i32": 4, "i64": 8, "f32": 4, "f64": 8}


@dataclass(frozen=True)
class PTXEntry:
    params: tuple[int, ...]  # bytes of each parameter
    maxntid: tuple[int, int, int] | None  # missing dimensions are 1
    reqntid: tuple[int, int, int] | None


PTXModule = dict[str, PTXEntry]
_PTX_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_PTX_ENTRY = re.compile(r"\.entry\s+([\w$]+)\s*(?:\(([^)]*)\))?([^{]*)\{")
_PTX_TYPE = re.compile(r"\.[usbf](8|16|32|64)\b")
_PTX_ARRAY = re.compile(r"\[\s*(\d+)\s*\]")
_PTX_NTID = re.compile(r"\.(maxntid|reqntid)\s+(\d+)(?:\s*,\s*(\d+))?(?:\s*,\s*(\d+))?")


def parse_ptx(text: str) -> PTXModule:
    """The kernels (.entry) of a PTX module: parameter sizes and thread-count directives."""
    entries: PTXModule = {}
    for match in _PTX_ENTRY.finditer(_PTX_COMMENT.sub("", text)):
        params = []
        for decl in filter(str.strip, (match.group(2) or "").split(",")):
            kind = _PTX_TYPE.search(decl)
            count = _PTX_ARRAY.search(decl)
            size = int(kind.group(1)) // 8 if kind else 0
            params.append(size * (int(count.group(1)) if count else 1))
        ntid: dict[str, tuple[int, int, int]] = {}
        for directive in _PTX_NTID.finditer(match.group(3)):
            x, y, z = (int(d) if d else 1 for d in directive.groups()[1:])
            ntid[directive.group(1)] = (x, y, z)
        entries[match.group(1)] = PTXEntry(tuple(params), ntid.get("maxntid"), ntid.get("reqntid"))
    return entries


class _ManifestReader:
    """Reads a manifest object into a `Manifest`, checking every field and reference."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.buffers: dict[int, int] = {}
        self.ptx: dict[str, PTXModule] = {}  # module name -> its kernels (read when launched)
        self.files: dict[str, ModuleFiles] = {}

    def ref(self, value: Any, where: str, nbytes: int, extra: Sequence[str] = ()) -> BufferRef:
        fields = _fields(value, where, ("buffer", "offset"), extra)
        buffer = _int(fields["buffer"], f"{where}.buffer")
        offset = _int(fields["offset"], f"{where}.offset")
        self.in_range(buffer, offset, nbytes, where)
        return BufferRef(buffer, offset)

    def in_range(self, buffer: int, offset: int, nbytes: int, where: str) -> None:
        if buffer not in self.buffers:
            known = ", ".join(map(str, sorted(self.buffers))) or "none"
            raise ArtifactError(f"{where}.buffer", f"no buffer {buffer} (buffers: {known})")
        size = self.buffers[buffer]
        if offset + nbytes > size:
            raise ArtifactError(
                where,
                f"bytes {offset}..{offset + nbytes} are outside buffer {buffer} ({size} bytes)",
            )

    def manifest(self, data: Any) -> Manifest:
        top = _fields(
            data,
            "manifest",
            ("format", "version", "chip", "entry", "modules", "buffers", "inputs", "outputs"),
            ("constants", "steps"),
        )
        if top["format"] != FORMAT:
            raise ArtifactError("format", f"expected '{FORMAT}', found {top['format']!r}")
        if top["version"] != VERSION or isinstance(top["version"], bool):
            raise ArtifactError(
                "version", f"expected {VERSION}, found {top['version']!r} (a newer Strata?)"
            )
        chip = _str(top["chip"], "chip")
        if chip_capability(chip) is None:
            raise ArtifactError("chip", f"expected a chip like 'sm_80' or 'sm_90a', found '{chip}'")
        entry = _str(top["entry"], "entry")
        modules = self.modules(_list(top["modules"], "modules"))
        for i, item in enumerate(_list(top["buffers"], "buffers")):
            fields = _fields(item, f"buffers[{i}]", ("id", "bytes"))
            buffer = _int(fields["id"], f"buffers[{i}].id")
            if buffer in self.buffers:
                raise ArtifactError(f"buffers[{i}].id", f"buffer {buffer} is declared twice")
            self.buffers[buffer] = _int(fields["bytes"], f"buffers[{i}].bytes", 1)
        constants = tuple(
            self.constant(item, f"constants[{i}]")
            for i, item in enumerate(_list(top.get("constants", []), "constants"))
        )
        inputs = self.tensors(top["inputs"], "inputs")
        outputs = self.tensors(top["outputs"], "outputs")
        self.files = {m.name: m for m in modules}
        module_names = set(self.files)
        steps = tuple(
            self.step(item, f"steps[{i}]", module_names)
            for i, item in enumerate(_list(top.get("steps", []), "steps"))
        )
        return Manifest(chip, entry, modules, dict(self.buffers), constants, inputs, outputs, steps)

    def modules(self, items: list) -> tuple[ModuleFiles, ...]:
        result: list[ModuleFiles] = []
        for i, item in enumerate(items):
            where = f"modules[{i}]"
            fields = _fields(item, where, ("name", "ptx"), ("cubin",))
            name = _str(fields["name"], f"{where}.name")
            if any(m.name == name for m in result):
                raise ArtifactError(f"{where}.name", f"module '{name}' is declared twice")
            ptx = _file(_str(fields["ptx"], f"{where}.ptx"), f"{where}.ptx", self.folder)
            cubin = fields.get("cubin")
            if cubin is not None:
                cubin = _file(_str(cubin, f"{where}.cubin"), f"{where}.cubin", self.folder)
            result.append(ModuleFiles(name, ptx, cubin))
        return tuple(result)

    def constant(self, item: Any, where: str) -> Constant:
        fields = _fields(item, where, ("buffer", "file", "offset", "bytes"), ("buffer_offset",))
        name = _file(_str(fields["file"], f"{where}.file"), f"{where}.file", self.folder)
        offset = _int(fields["offset"], f"{where}.offset")
        nbytes = _int(fields["bytes"], f"{where}.bytes", 1)
        buffer = _int(fields["buffer"], f"{where}.buffer")
        buffer_offset = _int(fields.get("buffer_offset", 0), f"{where}.buffer_offset")
        self.in_range(buffer, buffer_offset, nbytes, where)
        if self.folder is not None:
            size = (self.folder / name).stat().st_size
            if offset + nbytes > size:
                raise ArtifactError(
                    where,
                    f"bytes {offset}..{offset + nbytes} are past the end of '{name}' "
                    f"({size} bytes)",
                )
        return Constant(buffer, name, offset, nbytes, buffer_offset)

    def tensors(self, value: Any, group: str) -> tuple[Tensor, ...]:
        result: list[Tensor] = []
        for i, item in enumerate(_list(value, group)):
            where = f"{group}[{i}]"
            fields = _fields(item, where, ("name", "buffer", "offset", "shape", "dtype"))
            name = _str(fields["name"], f"{where}.name")
            if any(t.name == name for t in result):
                raise ArtifactError(f"{where}.name", f"{group} name '{name}' is used twice")
            shape = tuple(
                _int(d, f"{where}.shape[{j}]")
                for j, d in enumerate(_list(fields["shape"], f"{where}.shape"))
            )
            dtype = _str(fields["dtype"], f"{where}.dtype", tuple(DTYPES))
            tensor = Tensor(name, _int(fields["buffer"], f"{where}.buffer"), 0, shape, dtype)
            offset = _int(fields["offset"], f"{where}.offset")
            if offset % tensor.storage.itemsize:
                raise ArtifactError(f"{where}.offset", f"{offset} is not aligned to {dtype}")
            self.in_range(tensor.buffer, offset, tensor.nbytes, where)
            result.append(Tensor(name, tensor.buffer, offset, shape, dtype))
        return tuple(result)

    def step(self, item: Any, where: str, module_names: set[str]) -> Step:
        if not isinstance(item, dict) or "op" not in item:
            raise ArtifactError(where, "expected an object with an 'op' field")
        op = _str(item["op"], f"{where}.op", ("launch", "copy", "memset", "gemm"))
        if op == "launch":
            return self.launch(item, where, module_names)
        if op == "copy":
            fields = _fields(item, where, ("op", "src", "dst", "bytes"))
            nbytes = _int(fields["bytes"], f"{where}.bytes")
            src = self.ref(fields["src"], f"{where}.src", nbytes)
            dst = self.ref(fields["dst"], f"{where}.dst", nbytes)
            if src.buffer == dst.buffer and abs(src.offset - dst.offset) < nbytes:
                raise ArtifactError(where, "source and destination overlap")
            return Copy(src, dst, nbytes)
        if op == "memset":
            fields = _fields(item, where, ("op", "dst", "bytes", "value"))
            nbytes = _int(fields["bytes"], f"{where}.bytes")
            value = _int(fields["value"], f"{where}.value", 0, 255)
            return Memset(self.ref(fields["dst"], f"{where}.dst", nbytes), nbytes, value)
        return self.gemm(item, where)

    def launch(self, item: dict, where: str, module_names: set[str]) -> Launch:
        fields = _fields(
            item, where, ("op", "module", "kernel", "grid", "block", "args"), ("shared_bytes",)
        )
        module = _str(fields["module"], f"{where}.module")
        if module not in module_names:
            known = ", ".join(sorted(module_names)) or "none"
            raise ArtifactError(f"{where}.module", f"no module '{module}' (modules: {known})")
        kernel = _str(fields["kernel"], f"{where}.kernel")
        dims = {}
        for key, limits in (("grid", (INT32_MAX, 65535, 65535)), ("block", (1024, 1024, 64))):
            value = _list(fields[key], f"{where}.{key}")
            if len(value) != 3:
                raise ArtifactError(f"{where}.{key}", f"expected 3 integers, found {value}")
            dims[key] = tuple(
                _int(v, f"{where}.{key}[{j}]", 1, limit)
                for j, (v, limit) in enumerate(zip(value, limits))
            )
        if math.prod(dims["block"]) > 1024:
            raise ArtifactError(
                f"{where}.block",
                f"{dims['block']} is {math.prod(dims['block'])} threads; at most 1024",
            )
        shared = _int(fields.get("shared_bytes", 0), f"{where}.shared_bytes", 0, INT32_MAX)
        args: list[tuple[str, Any]] = []
        for j, arg in enumerate(_list(fields["args"], f"{where}.args")):
            here = f"{where}.args[{j}]"
            if not isinstance(arg, dict) or len(arg) != 1:
                raise ArtifactError(
                    here, f"expected one of {{{'|'.join(LAUNCH_ARGS)}: value}}, found {arg!r}"
                )
            ((kind, value),) = arg.items()
            if kind not in LAUNCH_ARGS:
                raise ArtifactError(
                    here,
                    f"unknown argument kind '{kind}'; expected one of: {', '.join(LAUNCH_ARGS)}",
                )
            if kind == "ptr":
                args.append((kind, self.ref(value, f"{here}.ptr", 0)))
            elif kind in ("i32", "i64"):
                bits = 32 if kind == "i32" else 64
                low, high = -(2 ** (bits - 1)), 2**bits - 1  # signed or unsigned bit patterns
                args.append((kind, _int(value, f"{here}.{kind}", low, high)))
            else:
                args.append((kind, _float(value, f"{here}.{kind}")))
        grid, block = dims["grid"], dims["block"]
        if self.folder is not None:
            self.check_kernel(module, kernel, block, args, where)
        return Launch(module, kernel, grid, block, shared, tuple(args))  # type: ignore[arg-type]

    def check_kernel(
        self, module: str, kernel: str, block: tuple, args: list[tuple[str, Any]], where: str
    ) -> None:
        """The launch against the kernel's PTX signature: the kernel exists, the arguments
        match its parameters in number and size, the block fits its .maxntid / .reqntid."""
        assert self.folder is not None
        if module not in self.ptx:
            name = self.files[module].ptx
            try:
                self.ptx[module] = parse_ptx((self.folder / name).read_text())
            except UnicodeDecodeError:
                raise ArtifactError(f"{where}.module", f"'{name}' is not PTX text") from None
        entries = self.ptx[module]
        name = self.files[module].ptx
        if kernel not in entries:
            known = ", ".join(sorted(entries)) or "none"
            raise ArtifactError(f"{where}.kernel", f"no kernel '{kernel}' in {name} ({known})")
        entry = entries[kernel]
        if len(args) != len(entry.params):
            raise ArtifactError(
                f"{where}.args",
                f"kernel '{kernel}' takes {len(entry.params)} parameters, found {len(args)} "
                "arguments",
            )
        for j, ((kind, _), size) in enumerate(zip(args, entry.params)):
            if ARG_BYTES[kind] != size:
                raise ArtifactError(
                    f"{where}.args[{j}]",
                    f"parameter {j} of kernel '{kernel}' is {size} bytes, {kind} is "
                    f"{ARG_BYTES[kind]}",
                )
        threads = math.prod(block)
        if entry.reqntid is not None and tuple(block) != entry.reqntid:
            raise ArtifactError(
                f"{where}.block", f"kernel '{kernel}' requires a block of {list(entry.reqntid)}"
            )
        if entry.maxntid is not None and threads > math.prod(entry.maxntid):
            raise ArtifactError(
                f"{where}.block",
                f"{threads} threads; kernel '{kernel}' allows at most "
                f"{math.prod(entry.maxntid)} (.maxntid)",
            )

    def gemm(self, item: dict, where: str) -> Gemm:
        keys = ("op", "library", "dtype", "out_dtype", "compute", "m", "n", "k", "batch")
        fields = _fields(item, where, (*keys, "a", "b", "c", "alpha", "beta"))
        _str(fields["library"], f"{where}.library", ("cublas",))
        dtype = _str(fields["dtype"], f"{where}.dtype", GEMM_DTYPES)
        out_choices = (dtype,) if dtype == "float32" else (dtype, "float32")
        out_dtype = _str(fields["out_dtype"], f"{where}.out_dtype", out_choices)
        compute = _str(fields["compute"], f"{where}.compute", GEMM_COMPUTE)
        if compute == "tf32" and dtype != "float32":
            raise ArtifactError(f"{where}.compute", f"tf32 is for float32 operands, not {dtype}")
        m, n, k, batch = (
            _int(fields[key], f"{where}.{key}", 1, INT32_MAX) for key in ("m", "n", "k", "batch")
        )
        operands = {}
        for key in ("a", "b", "c"):
            here = f"{where}.{key}"
            op = _fields(
                fields[key],
                here,
                ("buffer", "offset", "row_stride", "col_stride", "batch_stride"),
            )
            values = [_int(op[f], f"{here}.{f}") for f in ("buffer", "offset")]
            strides = [
                _int(op[f], f"{here}.{f}", 0, 2**62)
                for f in ("row_stride", "col_stride", "batch_stride")
            ]
            operands[key] = GemmOperand(*values, *strides)  # type: ignore[arg-type]
        step = Gemm(
            dtype,
            out_dtype,
            compute,
            m,
            n,
            k,
            batch,
            operands["a"],
            operands["b"],
            operands["c"],
            _float(fields["alpha"], f"{where}.alpha"),
            _float(fields["beta"], f"{where}.beta"),
        )
        gemm_call(step, where)  # the layouts map onto cuBLAS
        shapes = {"a": (m, k), "b": (k, n), "c": (m, n)}
        for key, (rows, cols) in shapes.items():
            operand: GemmOperand = getattr(step, key)
            element = DTYPES[out_dtype if key == "c" else dtype].itemsize
            if operand.offset % element:
                raise ArtifactError(f"{where}.{key}.offset", f"{operand.offset} is not aligned")
            last = (batch - 1) * operand.batch_stride
            last += (rows - 1) * operand.row_stride + (cols - 1) * operand.col_stride
            self.in_range(operand.buffer, operand.offset, (last + 1) * element, f"{where}.{key}")
        return step


def parse_manifest(data: Any, folder: str | Path | None = None) -> Manifest:
    """Check a manifest (the parsed JSON) and return it; `folder`, when given, is the artifact
    folder, whose files must exist. Raises `ArtifactError` naming the first bad field. Needs no
    GPU."""
    return _ManifestReader(None if folder is None else Path(folder)).manifest(data)


def read_manifest(folder: str | Path) -> Manifest:
    """The validated manifest of the artifact in `folder` (see `parse_manifest`)."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ArtifactError("", f"no artifact folder {folder}", source=str(folder))
    try:
        text = path.read_text()
    except OSError as e:
        raise ArtifactError("", f"cannot read the manifest: {e.strerror}", source=str(path)) from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ArtifactError(
            "", f"not JSON: {e.msg} at line {e.lineno} column {e.colno}", source=str(path)
        ) from e
    return parse_manifest(data, folder)


# ---- cuBLAS: the row-major gemm step as a column-major call -----------------------------------

CUBLAS_OP_N, CUBLAS_OP_T = 0, 1
CUDA_DATA_TYPES = {"float32": 0, "float16": 2, "bfloat16": 14}  # cudaDataType_t
CUBLAS_COMPUTE = {"float32": 68, "tf32": 77}  # CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_32F_FAST_TF32
CUBLAS_GEMM_DEFAULT = -1


@dataclass(frozen=True)
class GemmCall:
    """The arguments of one cublasGemmEx call (cublasGemmStridedBatchedEx when `batch` > 1), in
    cuBLAS's column-major terms: C (m x n, ldc) = alpha * op(A) (m x k) . op(B) (k x n) +
    beta * C. Pointers are (buffer id, byte offset); strides and leading dimensions in
    elements."""

    transa: int
    transb: int
    m: int
    n: int
    k: int
    a: BufferRef
    atype: int
    lda: int
    stride_a: int
    b: BufferRef
    btype: int
    ldb: int
    stride_b: int
    c: BufferRef
    ctype: int
    ldc: int
    stride_c: int
    batch: int
    compute: int
    alpha: float
    beta: float


def _column_major(operand: GemmOperand, rows: int, cols: int, where: str) -> tuple[bool, int]:
    """(is it column-major, leading dimension) of a rows x cols operand. A dimension of size 1
    has no stride that matters, so the leading dimension is then the smallest valid one."""
    rs, cs = operand.row_stride, operand.col_stride
    if (cs == 1 or cols == 1) and (rows == 1 or rs >= cols):
        return False, rs if rows > 1 else cols
    if (rs == 1 or rows == 1) and (cols == 1 or cs >= rows):
        return True, cs if cols > 1 else rows
    raise ArtifactError(
        where,
        f"a {rows}x{cols} operand needs unit-stride rows (col_stride 1, row_stride >= {cols}) "
        f"or columns (row_stride 1, col_stride >= {rows}); found row_stride {rs}, "
        f"col_stride {cs}",
    )


def gemm_call(step: Gemm, where: str = "gemm") -> GemmCall:
    """Map a row-major gemm step onto cuBLAS's column-major call. A row-major matrix read as
    column-major is its transpose, so a row-major C is computed as C^T = B^T . A^T (cuBLAS's A
    is our B); a column-major C (row_stride 1) as C = A . B. Raises `ArtifactError` when an
    operand's layout cannot be expressed (a leading dimension smaller than its rows, overlapping
    batches of C, sizes beyond 32-bit)."""
    m, n, k = step.m, step.n, step.k
    a_col, lda = _column_major(step.a, m, k, f"{where}.a")
    b_col, ldb = _column_major(step.b, k, n, f"{where}.b")
    c_col, ldc = _column_major(step.c, m, n, f"{where}.c")
    if step.batch > 1:
        c = step.c
        extent = (m - 1) * c.row_stride + (n - 1) * c.col_stride + 1
        if c.batch_stride < extent:
            raise ArtifactError(
                f"{where}.c.batch_stride",
                f"{c.batch_stride} makes the {step.batch} output matrices overlap (each spans "
                f"{extent} elements)",
            )
    for name, ld in (("a", lda), ("b", ldb), ("c", ldc)):
        if ld > INT32_MAX:
            raise ArtifactError(f"{where}.{name}", f"leading dimension {ld} exceeds 32 bits")
    in_type, out_type = CUDA_DATA_TYPES[step.dtype], CUDA_DATA_TYPES[step.out_dtype]

    def ref(op: GemmOperand) -> BufferRef:
        return BufferRef(op.buffer, op.offset)

    def trans(column_major: bool, want_column_major: bool) -> int:
        # stored column-major with ld = its own rows: op N gives the matrix as stored
        return CUBLAS_OP_N if column_major == want_column_major else CUBLAS_OP_T

    if c_col:  # C = A . B, operands as they are
        first = (trans(a_col, True), ref(step.a), lda, step.a.batch_stride)
        second = (trans(b_col, True), ref(step.b), ldb, step.b.batch_stride)
        dims = (m, n, k)
    else:  # C^T = B^T . A^T: a row-major X read column-major is X^T
        first = (trans(b_col, False), ref(step.b), ldb, step.b.batch_stride)
        second = (trans(a_col, False), ref(step.a), lda, step.a.batch_stride)
        dims = (n, m, k)
    batched = step.batch > 1
    return GemmCall(
        transa=first[0],
        transb=second[0],
        m=dims[0],
        n=dims[1],
        k=dims[2],
        a=first[1],
        atype=in_type,
        lda=first[2],
        stride_a=first[3] if batched else 0,
        b=second[1],
        btype=in_type,
        ldb=second[2],
        stride_b=second[3] if batched else 0,
        c=ref(step.c),
        ctype=out_type,
        ldc=ldc,
        stride_c=step.c.batch_stride if batched else 0,
        batch=step.batch,
        compute=CUBLAS_COMPUTE[step.compute],
        alpha=step.alpha,
        beta=step.beta,
    )


# ---- the driver ---------------------------------------------------------------------------------

_c_int_p = ctypes.POINTER(ctypes.c_int)
_c_void_pp = ctypes.POINTER(ctypes.c_void_p)
_SIZE, _PTR, _DEV = ctypes.c_size_t, ctypes.c_void_p, ctypes.c_uint64  # CUdeviceptr: 64 bits

# name: argument types (every function returns CUresult); a tuple of names tries each in turn.
_DRIVER: dict[str, tuple[Any, ...]] = {
    "cuInit": (ctypes.c_uint,),
    "cuDriverGetVersion": (_c_int_p,),
    "cuDeviceGetCount": (_c_int_p,),
    "cuDeviceGet": (_c_int_p, ctypes.c_int),
    "cuDeviceGetName": (ctypes.c_char_p, ctypes.c_int, ctypes.c_int),
    "cuDeviceGetAttribute": (_c_int_p, ctypes.c_int, ctypes.c_int),
    "cuDevicePrimaryCtxRetain": (_c_void_pp, ctypes.c_int),
    "cuDevicePrimaryCtxRelease_v2": (ctypes.c_int,),
    "cuCtxSetCurrent": (_PTR,),
    "cuCtxSynchronize": (),
    "cuModuleLoadDataEx": (_c_void_pp, _PTR, ctypes.c_uint, _c_int_p, _c_void_pp),
    "cuModuleGetFunction": (_c_void_pp, _PTR, ctypes.c_char_p),
    "cuModuleUnload": (_PTR,),
    "cuFuncSetAttribute": (_PTR, ctypes.c_int, ctypes.c_int),
    "cuMemAlloc_v2": (ctypes.POINTER(_DEV), _SIZE),
    "cuMemFree_v2": (_DEV,),
    "cuMemcpyHtoD_v2": (_DEV, _PTR, _SIZE),
    "cuMemcpyHtoDAsync_v2": (_DEV, _PTR, _SIZE, _PTR),
    "cuMemcpyDtoHAsync_v2": (_PTR, _DEV, _SIZE, _PTR),
    "cuMemcpyDtoDAsync_v2": (_DEV, _DEV, _SIZE, _PTR),
    "cuMemsetD8Async": (_DEV, ctypes.c_ubyte, _SIZE, _PTR),
    "cuLaunchKernel": (_PTR, *[ctypes.c_uint] * 7, _PTR, _c_void_pp, _c_void_pp),
    "cuStreamCreate": (_c_void_pp, ctypes.c_uint),
    "cuStreamDestroy_v2": (_PTR,),
    "cuStreamSynchronize": (_PTR,),
    "cuEventCreate": (_c_void_pp, ctypes.c_uint),
    "cuEventDestroy_v2": (_PTR,),
    "cuEventRecord": (_PTR, _PTR),
    "cuEventSynchronize": (_PTR,),
    "cuEventElapsedTime_v2": (ctypes.POINTER(ctypes.c_float), _PTR, _PTR),
    "cuGetErrorName": (ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)),
    "cuGetErrorString": (ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)),
}
_FALLBACK_SYMBOLS = {  # the names drivers older than CUDA 13's headers export
    "cuDevicePrimaryCtxRelease_v2": "cuDevicePrimaryCtxRelease",
    "cuEventElapsedTime_v2": "cuEventElapsedTime",
}
CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76
CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97
CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8
CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 5, 6
CU_EVENT_DEFAULT = 0

LIBCUDA = "libcuda.so.1"


class Driver:
    """The CUDA driver API through ctypes: `driver.call("cuInit", 0)` raises `CudaError` on any
    CUresult but CUDA_SUCCESS."""

    def __init__(self, library: str | None = None):
        library = library or LIBCUDA
        try:
            self.lib = ctypes.CDLL(library)
        except OSError as e:
            message = f"no NVIDIA driver here ({e})"
            raise CudaError(f"loading {library}", -1, "CUDA_DRIVER_NOT_FOUND", message) from None
        self._functions: dict[str, Any] = {}

    def function(self, name: str) -> Any:
        fn = self._functions.get(name)
        if fn is None:
            symbol = name
            if not hasattr(self.lib, symbol) and name in _FALLBACK_SYMBOLS:
                symbol = _FALLBACK_SYMBOLS[name]
            try:
                fn = getattr(self.lib, symbol)
            except AttributeError:
                raise CudaError(name, -1, "CUDA_ERROR_NOT_FOUND", "the driver lacks it") from None
            fn.argtypes, fn.restype = _DRIVER[name], ctypes.c_int
            self._functions[name] = fn
        return fn

    def call(self, name: str, *args: Any) -> None:
        code = self.function(name)(*args)
        if code != 0:
            raise CudaError(name, code, *self.describe(code))

    def describe(self, code: int) -> tuple[str, str]:
        name, text = ctypes.c_char_p(), ctypes.c_char_p()
        try:
            self.function("cuGetErrorName")(code, ctypes.byref(name))
            self.function("cuGetErrorString")(code, ctypes.byref(text))
        except CudaError:
            pass
        return (
            (name.value or b"CUDA_ERROR_UNKNOWN").decode(),
            (text.value or b"").decode(errors="replace"),
        )

    def get_int(self, name: str, *args: Any) -> int:
        value = ctypes.c_int()
        self.call(name, ctypes.byref(value), *args)
        return value.value

    def get_handle(self, name: str, *args: Any) -> int:
        handle = ctypes.c_void_p()
        self.call(name, ctypes.byref(handle), *args)
        return handle.value or 0


_driver: Driver | None = None


def driver() -> Driver:
    """The process's driver, initialized once (raises `CudaError` without one)."""
    global _driver
    if _driver is None:
        candidate = Driver()
        candidate.call("cuInit", 0)
        _driver = candidate
    return _driver


def cuda_available() -> bool:
    """True when libcuda.so.1 loads, initializes and sees at least one device."""
    try:
        return driver().get_int("cuDeviceGetCount") > 0
    except CudaError:
        return False


@dataclass(frozen=True)
class Device:
    ordinal: int
    handle: int
    name: str
    capability: tuple[int, int]
    multiprocessors: int
    shared_optin: int  # bytes of shared memory a block may opt in to

    @property
    def chip(self) -> str:
        return f"sm_{self.capability[0]}{self.capability[1]}"


def device(ordinal: int = 0) -> Device:
    """The properties of GPU `ordinal` (raises `CudaError` when there is none)."""
    drv = driver()
    count = drv.get_int("cuDeviceGetCount")
    if not 0 <= ordinal < count:
        raise CudaError("cuDeviceGet", 101, "CUDA_ERROR_INVALID_DEVICE", f"{count} device(s)")
    handle = drv.get_int("cuDeviceGet", ordinal)
    name = ctypes.create_string_buffer(256)
    drv.call("cuDeviceGetName", name, 256, handle)

    def attribute(code: int) -> int:
        return drv.get_int("cuDeviceGetAttribute", code, handle)

    return Device(
        ordinal,
        handle,
        name.value.decode(errors="replace"),
        (
            attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
            attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
        ),
        attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
        attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
    )


# ---- cuBLAS -----------------------------------------------------------------------------------

CUBLAS_SONAMES = ("libcublas.so.13", "libcublas.so.12")
# Where the nvidia-cublas wheels put it, under a site-packages folder (CUDA 13, then 12).
CUBLAS_WHEEL_PATHS = (
    "nvidia/cu13/lib/libcublas.so.13",
    "nvidia/cublas/lib/libcublas.so.13",
    "nvidia/cu12/lib/libcublas.so.12",
    "nvidia/cublas/lib/libcublas.so.12",
)


def find_cublas() -> str | None:
    """Where cuBLAS is: $STRATA_CUBLAS, then the nvidia-cublas wheel in a folder of sys.path,
    then $CUDA_HOME / $CUDA_PATH / /usr/local/cuda (lib64), then the loader's search path (its
    soname, when ldconfig knows it). None when not found."""
    explicit = os.environ.get("STRATA_CUBLAS")
    if explicit:
        return explicit
    for folder in sys.path:
        for relative in CUBLAS_WHEEL_PATHS:
            path = Path(folder or ".") / relative
            if path.is_file():
                return str(path)
    roots = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"]
    for root in filter(None, roots):
        for lib in ("lib64", "lib", "targets/x86_64-linux/lib"):
            for soname in CUBLAS_SONAMES:
                if (Path(root) / lib / soname).is_file():
                    return str(Path(root) / lib / soname)
    found = ctypes.util.find_library("cublas")
    return found or None


_CUBLAS: dict[str, tuple[Any, ...]] = {
    "cublasCreate_v2": (_c_void_pp,),
    "cublasDestroy_v2": (_PTR,),
    "cublasSetStream_v2": (_PTR, _PTR),
    "cublasGetVersion_v2": (_PTR, _c_int_p),
    "cublasGemmEx": (
        *(_PTR, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int),
        *(_PTR, _PTR, ctypes.c_int, ctypes.c_int),  # alpha, A, Atype, lda
        *(_PTR, ctypes.c_int, ctypes.c_int),  # B, Btype, ldb
        *(_PTR, _PTR, ctypes.c_int, ctypes.c_int),  # beta, C, Ctype, ldc
        *(ctypes.c_int, ctypes.c_int),  # computeType, algo
    ),
    "cublasGemmStridedBatchedEx": (
        *(_PTR, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int),
        *(_PTR, _PTR, ctypes.c_int, ctypes.c_int, ctypes.c_longlong),  # alpha, A, ..., strideA
        *(_PTR, ctypes.c_int, ctypes.c_int, ctypes.c_longlong),  # B, Btype, ldb, strideB
        *(_PTR, _PTR, ctypes.c_int, ctypes.c_int, ctypes.c_longlong),  # beta, C, ..., strideC
        *(ctypes.c_int, ctypes.c_int, ctypes.c_int),  # batchCount, computeType, algo
    ),
}


class Cublas:
    """A cuBLAS handle bound to one stream (created once per Model, destroyed by `close`)."""

    def __init__(self, stream: int, library: str | None = None):
        path = library or find_cublas()
        if path is None:
            raise CudaError(
                "loading cuBLAS",
                -1,
                "CUBLAS_NOT_FOUND",
                "the artifact has gemm steps and no cuBLAS was found; pip install nvidia-cublas "
                "(or set STRATA_CUBLAS to libcublas.so)",
            )
        try:
            self.lib = ctypes.CDLL(path)
        except OSError as e:
            raise CudaError(f"loading {path}", -1, "CUBLAS_NOT_FOUND", str(e)) from None
        self.path = path
        for name, argtypes in _CUBLAS.items():
            fn = getattr(self.lib, name)
            fn.argtypes, fn.restype = argtypes, ctypes.c_int
        for name in ("cublasGetStatusName", "cublasGetStatusString"):
            fn = getattr(self.lib, name)
            fn.argtypes, fn.restype = (ctypes.c_int,), ctypes.c_char_p
        handle = ctypes.c_void_p()
        self.call("cublasCreate_v2", ctypes.byref(handle))
        self.handle: int | None = handle.value
        self.call("cublasSetStream_v2", self.handle, stream)
        version = ctypes.c_int()
        self.call("cublasGetVersion_v2", self.handle, ctypes.byref(version))
        self.version = version.value

    def call(self, name: str, *args: Any) -> None:
        status = getattr(self.lib, name)(*args)
        if status != 0:
            status_name = (self.lib.cublasGetStatusName(status) or b"CUBLAS_STATUS_?").decode()
            text = (self.lib.cublasGetStatusString(status) or b"").decode(errors="replace")
            raise CudaError(name, status, status_name, text)

    def prepare(self, call: GemmCall, pointer: Callable[[BufferRef], int]) -> Callable[[], None]:
        """The gemm as a function of no arguments; its ctypes arguments are built once."""
        scalars = (ctypes.c_float(call.alpha), ctypes.c_float(call.beta))
        alpha, beta = (ctypes.cast(ctypes.pointer(s), ctypes.c_void_p) for s in scalars)
        head = (self.handle, call.transa, call.transb, call.m, call.n, call.k, alpha)
        a, b, c = pointer(call.a), pointer(call.b), pointer(call.c)
        args: tuple[Any, ...]
        if call.batch == 1:
            name = "cublasGemmEx"
            args = (
                *head,
                *(a, call.atype, call.lda, b, call.btype, call.ldb, beta),
                *(c, call.ctype, call.ldc, call.compute, CUBLAS_GEMM_DEFAULT),
            )
        else:
            name = "cublasGemmStridedBatchedEx"
            args = (
                *head,
                *(a, call.atype, call.lda, call.stride_a, b, call.btype, call.ldb, call.stride_b),
                *(beta, c, call.ctype, call.ldc, call.stride_c, call.batch),
                *(call.compute, CUBLAS_GEMM_DEFAULT),
            )

        def run() -> None:
            scalars  # noqa: B018 (kept alive with the closure)
            self.call(name, *args)

        return run

    def close(self) -> None:
        if self.handle is not None:
            handle, self.handle = self.handle, None
            self.call("cublasDestroy_v2", handle)


# ---- device arrays given as inputs --------------------------------------------------------------


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", _DLDevice),
        ("ndim", ctypes.c_int32),
        ("dtype", _DLDataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


class _DLManagedTensor(ctypes.Structure):
    pass


_DLManagedTensor._fields_ = [
    ("dl_tensor", _DLTensor),
    ("manager_ctx", ctypes.c_void_p),
    ("deleter", ctypes.CFUNCTYPE(None, ctypes.POINTER(_DLManagedTensor))),
]
KDL_CPU, KDL_CUDA = 1, 2
_DL_DTYPES = {
    (2, 32): "float32",
    (2, 16): "float16",
    (4, 16): "bfloat16",
    (2, 64): "float64",
    (0, 8): "int8",
    (1, 8): "uint8",
    (0, 16): "int16",
    (0, 32): "int32",
    (0, 64): "int64",
    (6, 8): "bool",
    (1, 16): "bfloat16",  # uint16 bits stand for bfloat16 in Strata
}


@dataclass
class DeviceArray:
    """A view of memory another library holds: `pointer` to `shape` elements of `dtype`
    (a DTYPES name; None when it has none), `contiguous` in row-major order."""

    pointer: int
    shape: tuple[int, ...]
    dtype: str | None
    contiguous: bool
    device_type: int
    device_id: int
    release: Callable[[], None] = lambda: None
    stream: int | None = None  # a stream to synchronize with before reading


def _contiguous(shape: Sequence[int], strides: Sequence[int] | None) -> bool:
    """Row-major contiguity of `strides` in elements (None: contiguous); size-1 dims are free."""
    if strides is None:
        return True
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def from_dlpack(obj: Any, stream: int | None = None) -> DeviceArray:
    """Read `obj.__dlpack__()`'s DLTensor (legacy, unversioned capsule). The capsule is
    consumed; `release()` gives the memory back to its producer."""
    kwargs = {} if stream is None else {"stream": stream}
    try:
        capsule = obj.__dlpack__(**kwargs)
    except TypeError:
        capsule = obj.__dlpack__()
    api = ctypes.pythonapi
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = (ctypes.py_object, ctypes.c_char_p)
    api.PyCapsule_SetName.restype = ctypes.c_int
    api.PyCapsule_SetName.argtypes = (ctypes.py_object, ctypes.c_char_p)
    address = api.PyCapsule_GetPointer(capsule, b"dltensor")
    managed = ctypes.cast(address, ctypes.POINTER(_DLManagedTensor))
    tensor = managed.contents.dl_tensor
    shape = tuple(tensor.shape[i] for i in range(tensor.ndim))
    strides = None if not tensor.strides else [tensor.strides[i] for i in range(tensor.ndim)]
    dtype = _DL_DTYPES.get((tensor.dtype.code, tensor.dtype.bits))
    if tensor.dtype.lanes != 1:
        dtype = None
    api.PyCapsule_SetName(capsule, b"used_dltensor")  # now ours: its destructor leaves it alone

    released = False

    def release() -> None:
        nonlocal released
        deleter = managed.contents.deleter
        if deleter and not released:
            released = True
            deleter(managed)

    return DeviceArray(
        (tensor.data or 0) + tensor.byte_offset,
        shape,
        dtype,
        _contiguous(shape, strides),
        tensor.device.device_type,
        tensor.device.device_id,
        release,
    )


def _from_cuda_array_interface(iface: dict[str, Any]) -> DeviceArray:
    shape = tuple(iface["shape"])
    dtype = np.dtype(iface["typestr"])
    strides = iface.get("strides")
    if strides is not None:
        if any(s % dtype.itemsize for s in strides):
            return DeviceArray(0, shape, None, False, KDL_CUDA, -1)
        strides = [s // dtype.itemsize for s in strides]
    name = "bfloat16" if dtype == np.uint16 else dtype.name if dtype.name in DTYPES else None
    stream = iface.get("stream")
    return DeviceArray(
        int(iface["data"][0]),
        shape,
        name,
        _contiguous(shape, strides),
        KDL_CUDA,
        -1,
        stream=stream if isinstance(stream, int) else None,
    )


def device_view(obj: Any, stream: int | None = None) -> DeviceArray | None:
    """`obj` as a view of GPU memory, through `__cuda_array_interface__` or else DLPack; None
    for host data (numpy arrays, CPU tensors)."""
    try:
        iface = obj.__cuda_array_interface__  # torch raises TypeError for bf16: try DLPack
    except Exception:
        iface = None
    if isinstance(iface, dict):
        return _from_cuda_array_interface(iface)
    if hasattr(obj, "__dlpack__") and hasattr(obj, "__dlpack_device__"):
        try:
            on_gpu = obj.__dlpack_device__()[0] == KDL_CUDA
        except Exception:
            return None
        if on_gpu:
            return from_dlpack(obj, stream)
    return None


# ---- the model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """GPU time of repeated calls (CUDA events), in seconds."""

    samples_s: tuple[float, ...]

    @property
    def median_s(self) -> float:
        return statistics.median(self.samples_s)

    @property
    def min_s(self) -> float:
        return min(self.samples_s)

    def __str__(self) -> str:
        return (
            f"{self.median_s * 1e3:.4f} ms per call (median of {len(self.samples_s)}, "
            f"min {self.min_s * 1e3:.4f} ms)"
        )


def bf16_bits(values: Any) -> np.ndarray:
    """float values -> bfloat16 bits (uint16), rounded to nearest even."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> 16
    nan = np.isnan(np.asarray(values, dtype=np.float32))
    return np.where(nan, np.uint16(0x7FC0), rounded.astype(np.uint16))


def bf16_values(bits: Any) -> np.ndarray:
    """bfloat16 bits (uint16) -> float32 values."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


class Model:
    """A loaded artifact: `model(*arrays)` runs it (see `load`)."""

    def __init__(self, manifest: Manifest, folder: str | Path, *, ordinal: int = 0):
        self.manifest = manifest
        self.folder = Path(folder)
        self._closed = False
        self._buffers: dict[int, int] = {}
        self._modules: dict[str, int] = {}
        self._stream = 0
        self._events: list[int] = []
        self._ctx = 0  # the device's primary context, retained while the model lives
        self.cublas: Cublas | None = None
        self.loaded_from: dict[str, str] = {}  # module name -> "cubin" or "ptx"
        self.driver = driver()
        self.device = device(ordinal)
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        return self.manifest.inputs

    @property
    def outputs(self) -> tuple[Tensor, ...]:
        return self.manifest.outputs

    def _start(self) -> None:
        drv, dev = self.driver, self.device
        self._ctx = drv.get_handle("cuDevicePrimaryCtxRetain", dev.handle)
        drv.call("cuCtxSetCurrent", self._ctx)
        self._stream = drv.get_handle("cuStreamCreate", 0)
        self._check_chip()
        for module in self.manifest.modules:
            self._modules[module.name] = self._load_module(module)
        for buffer, nbytes in self.manifest.buffers.items():
            pointer = _DEV()
            drv.call("cuMemAlloc_v2", ctypes.byref(pointer), nbytes)
            self._buffers[buffer] = pointer.value
        for constant in self.manifest.constants:
            with open(self.folder / constant.file, "rb") as f:
                f.seek(constant.offset)
                data = f.read(constant.bytes)
            dst = self._buffers[constant.buffer] + constant.buffer_offset
            drv.call("cuMemcpyHtoD_v2", dst, data, len(data))
        if any(isinstance(s, Gemm) for s in self.manifest.steps):
            self.cublas = Cublas(self._stream)
        self._steps = [self._prepare(step, i) for i, step in enumerate(self.manifest.steps)]

    def _check_chip(self) -> None:
        chip = self.manifest.chip
        capability = chip_capability(chip)
        assert capability is not None  # parse_manifest checked it
        major, minor, suffix = capability
        have = self.device.capability
        where = f"{self.device.name} (compute capability {have[0]}.{have[1]})"
        if suffix and (major, minor) != have:
            raise ArtifactError(
                "chip",
                f"the artifact is for {chip}, which runs only on compute capability "
                f"{major}.{minor}; this GPU is {where}: compile with chip={self.device.chip}",
            )
        if (major, minor) > have:
            raise ArtifactError("chip", f"the artifact is for {chip}, newer than this GPU, {where}")

    def _load_module(self, module: ModuleFiles) -> int:
        major, minor, _ = chip_capability(self.manifest.chip)  # type: ignore[misc]
        use_cubin = module.cubin is not None and (major, minor) == self.device.capability
        name = module.cubin if use_cubin else module.ptx
        assert name is not None
        image = (self.folder / name).read_bytes()
        if not use_cubin:
            image += b"\0"  # PTX is text, NUL-terminated
        log = ctypes.create_string_buffer(8192)
        options = (ctypes.c_int * 2)(CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
        values = (ctypes.c_void_p * 2)(ctypes.addressof(log), len(log))
        try:
            handle = self.driver.get_handle(
                "cuModuleLoadDataEx", ctypes.c_char_p(image), 2, options, values
            )
        except CudaError as e:
            detail = log.value.decode(errors="replace").strip()
            kind = "cubin" if use_cubin else "PTX"
            raise CudaError(
                f"cuModuleLoadDataEx ({kind} of module '{module.name}', {name})",
                e.code,
                e.name,
                detail,
            ) from None
        self.loaded_from[module.name] = "cubin" if use_cubin else "ptx"
        return handle

    def _pointer(self, ref: BufferRef) -> int:
        return self._buffers[ref.buffer] + ref.offset

    def _prepare(self, step: Step, index: int) -> Callable[[], None]:
        drv, stream = self.driver, self._stream
        if isinstance(step, Launch):
            return self._prepare_launch(step, index)
        if isinstance(step, Copy):
            src, dst, nbytes = self._pointer(step.src), self._pointer(step.dst), step.bytes
            return lambda: drv.call("cuMemcpyDtoDAsync_v2", dst, src, nbytes, stream)
        if isinstance(step, Memset):
            dst, value, nbytes = self._pointer(step.dst), step.value, step.bytes
            return lambda: drv.call("cuMemsetD8Async", dst, value, nbytes, stream)
        assert self.cublas is not None
        return self.cublas.prepare(gemm_call(step, f"steps[{index}]"), self._pointer)

    def _prepare_launch(self, step: Launch, index: int) -> Callable[[], None]:
        drv = self.driver
        function = drv.get_handle(
            "cuModuleGetFunction", self._modules[step.module], step.kernel.encode()
        )
        if step.shared_bytes > STATIC_SHARED_LIMIT:
            if step.shared_bytes > self.device.shared_optin:
                raise ArtifactError(
                    f"steps[{index}].shared_bytes",
                    f"{step.shared_bytes} bytes of shared memory; {self.device.name} allows "
                    f"{self.device.shared_optin} per block",
                )
            drv.call(
                "cuFuncSetAttribute",
                function,
                CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                step.shared_bytes,
            )
        ctypes_of = {
            "ptr": _DEV,
            "i32": ctypes.c_int32,
            "i64": ctypes.c_int64,
            "f32": ctypes.c_float,
            "f64": ctypes.c_double,
        }
        values: list[Any] = []
        for kind, value in step.args:
            if kind == "ptr":
                values.append(_DEV(self._pointer(value)))
            elif kind in ("i32", "i64"):
                bits = 32 if kind == "i32" else 64
                signed = value - (1 << bits) if value >= 1 << (bits - 1) else value
                values.append(ctypes_of[kind](signed))
            else:
                values.append(ctypes_of[kind](value))
        params = (ctypes.c_void_p * max(len(values), 1))(*[ctypes.addressof(v) for v in values])
        launch = (function, *step.grid, *step.block, step.shared_bytes, self._stream, params, None)

        def run() -> None:
            values  # noqa: B018 (the parameters stay alive with the closure)
            drv.call("cuLaunchKernel", *launch)

        return run

    # -- calls

    def _check(self, args: Sequence[Any]) -> list[Any]:
        """The arguments as numpy arrays or `DeviceArray`s, checked against the inputs (the
        device arrays' memory is held until `_release`)."""
        inputs = self.manifest.inputs
        if len(args) != len(inputs):
            names = ", ".join(map(str, inputs))
            raise InputError(
                f"{self.manifest.entry}() takes {len(inputs)} arrays ({names}) but "
                f"{len(args)} were given"
            )
        checked: list[Any] = []
        try:
            for i, (arg, spec) in enumerate(zip(args, inputs)):
                checked.append(self._check_one(arg, spec, i))
        except BaseException:
            self._release(checked)
            raise
        return checked

    def _check_one(self, arg: Any, spec: Tensor, i: int) -> Any:
        where = f"{self.manifest.entry}(): argument {i} ({spec.name})"
        result: Any
        view = device_view(arg, self._stream)
        if view is not None:
            result, shape, dtype = view, view.shape, view.dtype or "an unsupported type"
            problem = None
            if view.device_id not in (-1, self.device.ordinal):
                problem = f"is on GPU {view.device_id}, the model on GPU {self.device.ordinal}"
            elif not view.contiguous:
                problem = "is not contiguous on the GPU: make it contiguous first"
            if problem is not None:
                view.release()
                raise InputError(f"{where} {problem}")
        else:
            try:
                array = np.asarray(arg)
            except Exception as e:
                raise InputError(f"{where} is not an array: {e}") from None
            if array.dtype.name == "bfloat16":  # ml_dtypes' type
                array = array.view(np.uint16)
            result = np.ascontiguousarray(array)
            shape = array.shape
            dtype = "bfloat16" if array.dtype == np.uint16 else array.dtype.name
        problem = None
        if tuple(shape) != spec.shape:
            problem = f"has shape {tuple(shape)}, expected {spec.shape}"
        elif dtype != spec.dtype:
            bits = " (bfloat16 is passed as uint16 bits)" if spec.dtype == "bfloat16" else ""
            problem = f"has dtype {dtype}, expected {spec.dtype}{bits}"
        if problem is not None:
            if isinstance(result, DeviceArray):
                result.release()
            raise InputError(f"{where} {problem}")
        return result

    @staticmethod
    def _release(arrays: Sequence[Any]) -> None:
        for array in arrays:
            if isinstance(array, DeviceArray):
                array.release()

    def _copy_in(self, arrays: Sequence[Any]) -> None:
        drv, stream = self.driver, self._stream
        for array, spec in zip(arrays, self.manifest.inputs):
            dst = self._buffers[spec.buffer] + spec.offset
            if spec.nbytes == 0:
                continue
            if isinstance(array, DeviceArray):
                if array.stream is not None:
                    drv.call("cuStreamSynchronize", array.stream)
                drv.call("cuMemcpyDtoDAsync_v2", dst, array.pointer, spec.nbytes, stream)
            else:
                drv.call("cuMemcpyHtoDAsync_v2", dst, array.ctypes.data, spec.nbytes, stream)

    def _copy_out(self) -> list[np.ndarray]:
        drv, stream = self.driver, self._stream
        outs = [np.empty(spec.shape, spec.storage) for spec in self.manifest.outputs]
        for out, spec in zip(outs, self.manifest.outputs):
            if spec.nbytes:
                src = self._buffers[spec.buffer] + spec.offset
                drv.call("cuMemcpyDtoHAsync_v2", out.ctypes.data, src, spec.nbytes, stream)
        return outs

    def _replay(self) -> None:
        for step in self._steps:
            step()

    def _live(self) -> None:
        if self._closed:
            raise InputError("the model is closed")
        self.driver.call("cuCtxSetCurrent", self._ctx)

    def run(self, *arrays: Any) -> list[np.ndarray]:
        """Run the artifact: inputs copied in, the steps, outputs copied out (numpy arrays)."""
        self._live()
        checked = self._check(arrays)
        try:
            self._copy_in(checked)
            self._replay()
            outs = self._copy_out()
            self.driver.call("cuStreamSynchronize", self._stream)
        finally:
            self._release(checked)
        return outs

    def __call__(self, *arrays: Any) -> np.ndarray | list[np.ndarray]:
        outs = self.run(*arrays)
        return outs[0] if len(outs) == 1 else outs

    def time(self, *arrays: Any, repeat: int = 20, warmup: int = 3, copies: bool = False) -> Timing:
        """GPU time per call, from CUDA events recorded around each replay of the steps (the
        inputs copied in once before; with `copies`, each call's copies in and out counted)."""
        if repeat < 1:
            raise InputError(f"repeat must be at least 1, got {repeat}")
        self._live()
        checked = self._check(arrays)
        drv, stream = self.driver, self._stream
        try:
            self._copy_in(checked)
            events = [drv.get_handle("cuEventCreate", CU_EVENT_DEFAULT) for _ in range(2 * repeat)]
            self._events.extend(events)
            for _ in range(warmup):
                self._replay()
            keep: list[list[np.ndarray]] = []
            for i in range(repeat):
                drv.call("cuEventRecord", events[2 * i], stream)
                if copies:
                    self._copy_in(checked)
                self._replay()
                if copies:
                    keep.append(self._copy_out())
                drv.call("cuEventRecord", events[2 * i + 1], stream)
            drv.call("cuEventSynchronize", events[-1])
            samples = []
            for i in range(repeat):
                ms = ctypes.c_float()
                start, end = events[2 * i], events[2 * i + 1]
                drv.call("cuEventElapsedTime_v2", ctypes.byref(ms), start, end)
                samples.append(ms.value / 1e3)
        finally:
            drv.call("cuStreamSynchronize", stream)
            self._release(checked)
            self._destroy_events()
        return Timing(tuple(samples))

    def _destroy_events(self) -> None:
        while self._events:
            self.driver.call("cuEventDestroy_v2", self._events.pop())

    def close(self) -> None:
        """Free the device memory, the modules, the stream and the cuBLAS handle."""
        if self._closed:
            return
        self._closed = True
        drv = self.driver
        errors: list[CudaError] = []

        def attempt(fn: Callable[..., None], *args: Any) -> None:
            try:
                fn(*args)
            except CudaError as e:
                errors.append(e)

        if self._ctx:
            attempt(drv.call, "cuCtxSetCurrent", self._ctx)
        if self._stream:
            attempt(drv.call, "cuStreamSynchronize", self._stream)
        if self.cublas is not None:
            attempt(self.cublas.close)
        attempt(self._destroy_events)
        for pointer in self._buffers.values():
            attempt(drv.call, "cuMemFree_v2", pointer)
        self._buffers.clear()
        for handle in self._modules.values():
            attempt(drv.call, "cuModuleUnload", handle)
        self._modules.clear()
        if self._stream:
            attempt(drv.call, "cuStreamDestroy_v2", self._stream)
            self._stream = 0
        if self._ctx:
            attempt(drv.call, "cuDevicePrimaryCtxRelease_v2", self.device.handle)
            self._ctx = 0
        if errors:
            raise errors[0]

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        ins = ", ".join(map(str, self.inputs))
        outs = ", ".join(map(str, self.outputs))
        return f"<strata cuda {self.manifest.entry}({ins}) -> ({outs}) on {self.device.name}>"


def load(folder: str | Path, *, device: int = 0) -> Model:
    """Load the artifact in `folder` onto GPU `device`: validated manifest, modules, buffers,
    constants. Raises `ArtifactError` for a bad artifact, `CudaError` without a usable GPU."""
    manifest = read_manifest(folder)
    return Model(manifest, folder, ordinal=device)


# ---- command line -----------------------------------------------------------------------------


def _as_float(array: np.ndarray, dtype: str) -> np.ndarray:
    return bf16_values(array) if dtype == "bfloat16" else np.asarray(array, dtype=np.float64)


def compare(
    outputs: Sequence[np.ndarray], expected: Sequence[np.ndarray], specs: Sequence[Tensor]
) -> list[tuple[str, float, float]]:
    """(name, max abs error, max rel error) per output; the relative error is the absolute one
    over the largest expected magnitude (elementwise ratios blow up near zero)."""
    rows = []
    for out, want, spec in zip(outputs, expected, specs):
        if tuple(np.shape(want)) != spec.shape:
            raise InputError(
                f"expected value of {spec.name} has shape {np.shape(want)}, the output {spec.shape}"
            )
        got, ref = _as_float(out, spec.dtype), _as_float(np.asarray(want), spec.dtype)
        error = float(np.max(np.abs(got - ref))) if got.size else 0.0
        scale = float(np.max(np.abs(ref))) if ref.size else 0.0
        rows.append((spec.name, error, error / scale if scale else error))
    return rows


def read_arrays(path: str | Path, specs: Sequence[Tensor], what: str) -> list[np.ndarray]:
    """Arrays for `specs` from an .npz file: by name, else in order (arr_0, arr_1, ...)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read {what} {path}: {e}") from e
    if all(spec.name in arrays for spec in specs):
        return [arrays[spec.name] for spec in specs]
    ordered = [f"arr_{i}" for i in range(len(specs))]
    if all(key in arrays for key in ordered):
        return [arrays[key] for key in ordered]
    names = ", ".join(spec.name for spec in specs)
    raise InputError(f"{what} {path} has arrays {sorted(arrays)}; expected {names} (or arr_0...)")


def random_inputs(specs: Sequence[Tensor], seed: int = 0) -> list[np.ndarray]:
    """Normal random values (small integers for integer inputs) of each input's shape."""
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in specs:
        if spec.dtype == "bfloat16":
            arrays.append(bf16_bits(rng.standard_normal(spec.shape, dtype=np.float32)))
        elif spec.storage.kind == "f":
            arrays.append(rng.standard_normal(spec.shape).astype(spec.storage))
        else:
            arrays.append(
                rng.integers(0, 2 if spec.dtype == "bool" else 8, spec.shape).astype(spec.storage)
            )
    return arrays


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(1)


def main(argv: Sequence[str] | None = None) -> int:
    # `python -m strata.runtime.cuda`, or a copy run as a script (`python runtime.py`)
    prog = __spec__.name if __spec__ is not None else Path(sys.argv[0]).name
    parser = _ArgumentParser(
        prog=prog,
        description="Run a Strata CUDA artifact: outputs, errors against expected values, time.",
    )
    parser.add_argument("artifact", help="the artifact folder (with manifest.json)")
    parser.add_argument(
        "--inputs", help=".npz of the inputs (default: ARTIFACT/inputs.npz, else random values)"
    )
    parser.add_argument(
        "--compare", help=".npz of the expected outputs (default: ARTIFACT/expected.npz if any)"
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed calls (0: no timing)")
    parser.add_argument("--device", type=int, default=0, help="GPU ordinal")
    parser.add_argument("--tolerance", type=float, help="fail when a relative error exceeds it")
    parser.add_argument("--check", action="store_true", help="validate the manifest only (no GPU)")
    args = parser.parse_args(argv)
    try:
        manifest = read_manifest(args.artifact)
        if args.check:
            print(f"{args.artifact}: valid ({len(manifest.steps)} steps, chip {manifest.chip})")
            return 0
        inputs_path = args.inputs or Path(args.artifact) / "inputs.npz"
        if args.inputs or Path(inputs_path).is_file():
            arrays = read_arrays(inputs_path, manifest.inputs, "inputs")
        else:
            arrays = random_inputs(manifest.inputs)
        expected_path = args.compare or Path(args.artifact) / "expected.npz"
        expected = []
        if args.compare or Path(expected_path).is_file():
            expected = read_arrays(expected_path, manifest.outputs, "expected")
        with Model(manifest, args.artifact, ordinal=args.device) as model:
            images = ", ".join(f"{m}: {how}" for m, how in model.loaded_from.items())
            print(f"{model.device.name} ({model.device.chip}); modules: {images or 'none'}")
            outputs = model.run(*arrays)
            for spec, out in zip(manifest.outputs, outputs):
                finite = bool(np.all(np.isfinite(_as_float(out, spec.dtype))))
                print(f"{spec}{'' if finite else ' (not all finite)'}")
            failed = False
            for name, abs_error, rel_error in compare(outputs, expected, manifest.outputs):
                bad = args.tolerance is not None and not rel_error <= args.tolerance
                failed |= bad
                mark = "  FAIL" if bad else ""
                print(f"{name}: max abs error {abs_error:.3e}, max rel error {rel_error:.3e}{mark}")
            if args.repeat > 0:
                print(f"time: {model.time(*arrays, repeat=args.repeat)}")
        return 1 if failed else 0
    except (ArtifactError, CudaError, InputError, OSError) as e:
        if os.environ.get("STRATA_DEBUG"):
            raise
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
