"""PTX of hand-written TensorCore kernels for the ptxas tests: hwprim ops lowered per lane, then the
CUDA target's own device pipeline and assembler."""

from __future__ import annotations

import pytest
from mlir import ir
from mlir.passmanager import PassManager
from strata.conversions.hwprim_to_nvvm import ConvertHwprimToNvvmPass
from strata.targets.cuda import DEVICE_TO_LLVM, PTX_FEATURES, ptxas_path
from strata.targets.cuda_artifact import assemble, gpu_binaries

needs_ptxas = pytest.mark.skipif(ptxas_path() is None, reason="ptxas (CUDA toolkit) not found")


def kernel_ptx(module: ir.Operation, chip: str) -> str:
    """`module` (a gpu.module of hwprim kernels) lowered for `chip`, as PTX text."""
    pipeline = (
        f"builtin.module(nvvm-attach-target{{chip={chip} features={PTX_FEATURES} O=3}},"
        f"{DEVICE_TO_LLVM},gpu-module-to-binary{{format=isa}})"
    )
    with module.context:
        ConvertHwprimToNvvmPass(chip=chip).run(module)
        PassManager.parse(pipeline).run(module)
    ((_, ptx),) = gpu_binaries(module)
    return ptx


def assembles(ptx: str, chip: str) -> None:
    """ptxas accepts `ptx` for `chip` (a CompileError with its message otherwise)."""
    assert assemble(ptx, chip)[:4] == b"\x7fELF"
