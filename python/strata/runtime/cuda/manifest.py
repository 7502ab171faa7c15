"""Reading `manifest.json`: every field, reference and kernel signature checked without a GPU;
`ArtifactError` names the first bad field (`steps[2].grid`)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ArtifactError
from .gemm import gemm_call
from .ptx import PTXModule, check_launch, parse_ptx
from .schema import (
    DTYPES,
    FORMAT,
    GEMM_COMPUTE,
    GEMM_DTYPES,
    INT32_MAX,
    LAUNCH_ARGS,
    MANIFEST,
    VERSION,
    BufferRef,
    Constant,
    Copy,
    Gemm,
    GemmOperand,
    Launch,
    Manifest,
    Memset,
    ModuleFiles,
    Step,
    Tensor,
    chip_capability,
)


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
        check_launch(self.ptx[module], self.files[module].ptx, kernel, block, args, where)

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
