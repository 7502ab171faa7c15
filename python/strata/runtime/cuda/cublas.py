"""cuBLAS through ctypes: where the library is, and a handle that runs prepared gemm calls."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import CudaError
from .gemm import CUBLAS_GEMM_DEFAULT, GemmCall
from .libcuda import _PTR, _c_int_p, _c_void_pp
from .schema import BufferRef

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
