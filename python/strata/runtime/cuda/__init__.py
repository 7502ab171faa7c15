"""Strata's CUDA runtime: runs a compiled GPU artifact with only the CUDA driver and numpy.

An artifact is a folder: `manifest.json` (format "strata-cuda", version 1: buffers, constants,
inputs, outputs and the launch steps), the PTX of each kernel module (and a cubin when ptxas was
present), the constants' files. `load(folder)` validates the manifest, loads each module (the
cubin when its chip is the device's, else the PTX through the driver's JIT), allocates every
buffer once and uploads the constants once; `model(*arrays)` copies the inputs in, replays the
steps on one stream (kernel launches, copies, memsets, cuBLAS gemms) and copies the outputs out.

This package imports only the standard library, ctypes and numpy (no MLIR, no other Strata
module; its modules import each other relatively), so it is copied into each artifact as
`strata_cuda/` with a `runtime.py` launcher (`copy_runtime`) and runs on a machine with a GPU:

    python -m strata.runtime.cuda ARTIFACT --inputs in.npz --compare expected.npz --repeat 20
    python ARTIFACT/runtime.py ARTIFACT --check      # where Strata is not installed

>>> with load("mlp.cuda") as model:
...     logits = model(x)  # a list when the model has several outputs
...     print(model.time(x, repeat=50))

Modules: `schema` (format constants, dtypes, the typed manifest), `errors`, `manifest`
(`parse_manifest`, `read_manifest`), `ptx` (kernel signatures), `gemm` (a gemm step as a cuBLAS
call), `libcuda` (the driver through ctypes), `cublas` (finding and calling cuBLAS), `arrays`
(arguments: numpy arrays, `__cuda_array_interface__`, DLPack), `model` (`Model`, `load`), `cli`
(the command line), `bundle` (the copy carried by an artifact).

bfloat16 tensors are held as their uint16 bits (numpy has no bfloat16), as in the rest of Strata.
"""

from .arrays import KDL_CPU, KDL_CUDA, DeviceArray, device_view, from_dlpack
from .bundle import copy_runtime
from .cli import compare, main, random_inputs, read_arrays
from .cublas import CUBLAS_SONAMES, CUBLAS_WHEEL_PATHS, Cublas, find_cublas
from .errors import ArtifactError, CudaError, InputError
from .gemm import (
    CUBLAS_COMPUTE,
    CUBLAS_GEMM_DEFAULT,
    CUBLAS_OP_N,
    CUBLAS_OP_T,
    CUDA_DATA_TYPES,
    GemmCall,
    gemm_call,
)
from .libcuda import (
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
    CU_EVENT_DEFAULT,
    CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
    CU_JIT_ERROR_LOG_BUFFER,
    CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
    LIBCUDA,
    Device,
    Driver,
    cuda_available,
    device,
    driver,
)
from .manifest import parse_manifest, read_manifest
from .model import Model, Timing, load
from .ptx import ARG_BYTES, PTXEntry, PTXModule, parse_ptx
from .schema import (
    DTYPES,
    FORMAT,
    GEMM_COMPUTE,
    GEMM_DTYPES,
    INT32_MAX,
    LAUNCH_ARGS,
    MANIFEST,
    STATIC_SHARED_LIMIT,
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
    bf16_bits,
    bf16_values,
    chip_capability,
)

__all__ = [
    # loading and running
    "load",
    "Model",
    "Timing",
    "cuda_available",
    "device",
    "Device",
    "driver",
    "Driver",
    "LIBCUDA",
    # the manifest
    "parse_manifest",
    "read_manifest",
    "Manifest",
    "BufferRef",
    "Constant",
    "Tensor",
    "ModuleFiles",
    "Launch",
    "Copy",
    "Memset",
    "Gemm",
    "GemmOperand",
    "Step",
    "chip_capability",
    "FORMAT",
    "VERSION",
    "MANIFEST",
    "DTYPES",
    "GEMM_DTYPES",
    "GEMM_COMPUTE",
    "LAUNCH_ARGS",
    "STATIC_SHARED_LIMIT",
    "INT32_MAX",
    "parse_ptx",
    "PTXEntry",
    "PTXModule",
    "ARG_BYTES",
    # errors
    "ArtifactError",
    "CudaError",
    "InputError",
    # cuBLAS
    "gemm_call",
    "GemmCall",
    "find_cublas",
    "Cublas",
    "CUBLAS_SONAMES",
    "CUBLAS_WHEEL_PATHS",
    "CUBLAS_OP_N",
    "CUBLAS_OP_T",
    "CUDA_DATA_TYPES",
    "CUBLAS_COMPUTE",
    "CUBLAS_GEMM_DEFAULT",
    # arrays
    "bf16_bits",
    "bf16_values",
    "DeviceArray",
    "from_dlpack",
    "device_view",
    "KDL_CPU",
    "KDL_CUDA",
    # the command line and artifacts
    "main",
    "compare",
    "read_arrays",
    "random_inputs",
    "copy_runtime",
    # driver constants
    "CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT",
    "CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR",
    "CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR",
    "CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN",
    "CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES",
    "CU_JIT_ERROR_LOG_BUFFER",
    "CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES",
    "CU_EVENT_DEFAULT",
]
