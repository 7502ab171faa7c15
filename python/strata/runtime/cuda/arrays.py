"""The model's arguments: numpy arrays, and GPU arrays another library holds (through
`__cuda_array_interface__` or DLPack), checked against the artifact's inputs."""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError
from .schema import DTYPES, Tensor


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


def as_argument(arg: Any, spec: Tensor, where: str, stream: int, ordinal: int) -> Any:
    """`arg` as a contiguous numpy array or a `DeviceArray` on GPU `ordinal`, checked against
    the input `spec` (an `InputError` beginning with `where` otherwise)."""
    result: Any
    view = device_view(arg, stream)
    if view is not None:
        result, shape, dtype = view, view.shape, view.dtype or "an unsupported type"
        problem = None
        if view.device_id not in (-1, ordinal):
            problem = f"is on GPU {view.device_id}, the model on GPU {ordinal}"
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


def release(arrays: Sequence[Any]) -> None:
    """Give the device arrays among `arrays` back to their producers."""
    for array in arrays:
        if isinstance(array, DeviceArray):
            array.release()
