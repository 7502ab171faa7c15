"""A loaded artifact on one GPU: modules, buffers and constants loaded once, each step prepared
once, then `model(*arrays)` copies the inputs in, replays the steps on one stream and copies the
outputs out; `Model.time` measures with CUDA events."""

from __future__ import annotations

import ctypes
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .arrays import DeviceArray, as_argument, release
from .cublas import Cublas
from .errors import ArtifactError, CudaError, InputError
from .gemm import gemm_call
from .libcuda import (
    _DEV,
    CU_EVENT_DEFAULT,
    CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
    CU_JIT_ERROR_LOG_BUFFER,
    CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
    device,
    driver,
)
from .manifest import read_manifest
from .schema import (
    STATIC_SHARED_LIMIT,
    BufferRef,
    Copy,
    Gemm,
    Launch,
    Manifest,
    Memset,
    ModuleFiles,
    Step,
    Tensor,
    chip_capability,
)


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
        device arrays' memory is held until `release`)."""
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
                where = f"{self.manifest.entry}(): argument {i} ({spec.name})"
                checked.append(as_argument(arg, spec, where, self._stream, self.device.ordinal))
        except BaseException:
            release(checked)
            raise
        return checked

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
            release(checked)
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
            release(checked)
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
