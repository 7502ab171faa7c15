"""The CPU target: host features, the lowering to the LLVM dialect, and the JIT."""

from __future__ import annotations

import functools
from pathlib import Path

from strata.pipelines import Element, make_element

# Upstream passes from bufferized tensor programs down to the LLVM dialect.
BUFFERIZE = [
    "canonicalize",
    "cse",
    "one-shot-bufferize{bufferize-function-boundaries"
    " function-boundary-type-conversion=identity-layout-map}",
    # Results become caller-provided buffers: the runtime passes numpy arrays to write into.
    "buffer-results-to-out-params{hoist-static-allocs modify-public-functions}",
    "buffer-deallocation-pipeline",
    "canonicalize",
]
TO_LLVM = [
    "func.func(scf-forall-to-parallel)",
    "func.func(convert-vector-to-scf{full-unroll=true})",
    "convert-linalg-to-loops",
    "lower-affine",
    "convert-scf-to-cf",
    "expand-strided-metadata",
    "lower-affine",
    "convert-vector-to-llvm",
    "finalize-memref-to-llvm",
    "convert-to-llvm",
    "reconcile-unrealized-casts",
    "canonicalize",
    "cse",
]


@functools.cache
def host_cpu_flags() -> frozenset[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


class CPUTarget:
    """x86-64 CPU: AVX-512 where the host has it, else AVX2, else SSE-width vectors."""

    name = "cpu"

    def __init__(self, features: frozenset[str] | None = None, vector_width: int | None = None):
        self.features = host_cpu_flags() if features is None else features
        self._vector_width = vector_width  # an override, for cross-compiling

    @property
    def vector_width(self) -> int:
        """f32 lanes of one vector register."""
        if self._vector_width:
            return self._vector_width
        if "avx512f" in self.features:
            return 16
        if "avx2" in self.features:
            return 8
        return 4

    def lower_tensor_programs(self, *, tensorize: bool) -> list[Element]:
        elements: list[Element] = []
        if tensorize:
            elements += make_element("convert-tprog-to-hwprim", f"vector-width={self.vector_width}")
        elements += make_element("convert-tprog-to-scf")
        elements += make_element("convert-hwprim-to-vector")
        elements += make_element("convert-libcall-to-func")
        return elements

    def lower_to_llvm(self) -> list[Element]:
        return [*BUFFERIZE, *make_element("func-emit-c-interface"), *TO_LLVM]
