"""The CUDA driver API on libcuda.so.1 through ctypes: the process's driver and its devices."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

from .errors import CudaError

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
