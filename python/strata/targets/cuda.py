"""The CUDA target: NVIDIA GPUs from sm_80 (Ampere) to sm_90a (Hopper), through NVVM to PTX.

Tensor programs get GPU schedules (TensorCore kernels for f16/bf16 matmuls, default bindings for
the rest), their bound nests become `gpu.launch` kernels, and the kernels go through upstream
NVVM to PTX inside a `gpu.binary`. The host side (the entry function and prim-func code outside
kernels) stays as func/memref/`gpu.launch_func`: `strata.targets.cuda_artifact` turns it into the
artifact's launch manifest, which `strata.runtime.cuda` replays with only the CUDA driver.
"""

from __future__ import annotations

import os
import shutil

from strata import passes as registry
from strata.pipelines import Element, make_element

CHIPS = ("sm_80", "sm_86", "sm_89", "sm_90", "sm_90a")
DEFAULT_CHIP = "sm_90a"
# PTX ISA 8.0 (CUDA 12.0) is the oldest with wgmma and sm_90a; every chip above accepts it.
PTX_FEATURES = "+ptx80"

# Host buffers: results become out-params (caller buffers), as on the CPU. No deallocation:
# the runtime owns every device buffer for the artifact's lifetime.
HOST_BUFFERIZE = [
    "canonicalize",
    "cse",
    "one-shot-bufferize{bufferize-function-boundaries"
    " function-boundary-type-conversion=identity-layout-map}",
    "buffer-results-to-out-params{hoist-static-allocs modify-public-functions}",
    "canonicalize",
]
# Inside each gpu.module, down to NVVM/LLVM. Kernel memrefs are passed as bare pointers: every
# buffer a kernel captures has a static shape and the identity layout.
DEVICE_TO_LLVM = (
    "gpu.module(expand-strided-metadata,lower-affine,convert-scf-to-cf,"
    "convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},convert-nvvm-to-llvm,"
    "canonicalize,cse,reconcile-unrealized-casts)"
)


def check_chip(chip: str) -> str:
    if chip not in CHIPS:
        raise ValueError(f"unknown chip '{chip}'; valid chips: {', '.join(CHIPS)}")
    return chip


def ptxas_path() -> str | None:
    """The CUDA assembler: $PATH, then $CUDA_HOME/bin, then /usr/local/cuda/bin."""
    found = shutil.which("ptxas")
    if found:
        return found
    for root in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if root and os.path.isfile(os.path.join(root, "bin", "ptxas")):
            return os.path.join(root, "bin", "ptxas")
    return None


class CUDATarget:
    """An NVIDIA GPU of compute capability `chip` (sm_80 ... sm_90a)."""

    name = "cuda"

    def __init__(self, chip: str = "", tf32: bool = False, **_: object):
        self.chip = check_chip(chip or DEFAULT_CHIP)
        self.tf32 = tf32  # f32 matmuls on TensorCores with TF32 operands

    # graph-dispatch-libcall options: matmuls go to cuBLAS; the CPU libraries' rules do not apply.
    dispatch_rules = " default-rules=false rules=graph.matmul:cublas.gemm"

    @property
    def wgmma(self) -> bool:
        """Hopper's warpgroup MMA (and its fences) exist only on the arch-specific sm_90a."""
        return self.chip == "sm_90a"

    def lower_tensor_programs(self, *, tensorize: bool) -> list[Element]:
        elements: list[Element] = []
        if tensorize and registry.get_pass("tprog-gpu-tensorize") is not None:
            options = f"chip={self.chip} tf32={str(self.tf32).lower()}"
            elements += make_element("tprog-gpu-tensorize", options)
        elements += make_element("tprog-gpu-schedule")
        elements += make_element("convert-tprog-to-scf")
        elements += make_element("convert-tprog-to-gpu")
        if registry.get_pass("convert-hwprim-to-nvvm") is not None:
            elements += make_element("convert-hwprim-to-nvvm", f"chip={self.chip}")
        return elements

    def lower_to_llvm(self) -> list[Element]:
        # Outline first: canonicalize hoists constant-like ops (llvm.mlir.undef of TensorCore
        # fragments too) out of a gpu.launch, which is not isolated from above, and the sink
        # pass brings back only some of them.
        return [
            "gpu-launch-sink-index-computations",
            "gpu-kernel-outlining",
            *HOST_BUFFERIZE,
            *make_element("gpu-merge-kernel-modules"),
            f"nvvm-attach-target{{chip={self.chip} features={PTX_FEATURES} O=3}}",
            DEVICE_TO_LLVM,
            "gpu-module-to-binary{format=isa}",
        ]
