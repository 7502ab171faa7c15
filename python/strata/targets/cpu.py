"""The CPU target: host features, the lowering to the LLVM dialect, and the JIT."""

from __future__ import annotations

import functools
import os
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
# Parallel loops run on OpenMP threads (LLVM's libomp from the cmeel-libomp wheel). Memrefs are
# lowered before scf-to-cf: scf-to-openmp wraps bodies in memref.alloca_scope, which must not
# hold several blocks.
TO_LLVM = [
    "func.func(scf-forall-to-parallel)",
    "convert-scf-to-openmp",
    "func.func(convert-vector-to-scf{full-unroll=true})",
    "convert-linalg-to-loops",
    "lower-affine",
    "expand-strided-metadata",
    "lower-affine",
    "finalize-memref-to-llvm",
    "convert-scf-to-cf",
    "convert-vector-to-llvm",
    "convert-openmp-to-llvm",
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


def openmp_library() -> Path | None:
    """LLVM's OpenMP runtime (libomp, the `__kmpc_*` ABI MLIR's OpenMP lowering calls)."""
    import sysconfig

    for root in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]):
        path = Path(root) / "cmeel.prefix" / "lib" / "libomp.so"
        if path.is_file():
            return path
    return None


def uses_openmp(module) -> bool:
    """True when `module` holds OpenMP ops (translated to `__kmpc_*` runtime calls)."""
    from strata.irutil import walk

    return any(op.name.startswith("omp.") for op in walk(module))


# Feature sets named by `strata-lower-to-llvm{cpu=...}`, for cross-compiling (names as in
# /proc/cpuinfo).
CPU_PRESETS = {
    "avx512-vnni": frozenset({"avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx2", "fma"}),
    "avx512": frozenset({"avx512f", "avx512bw", "avx512vl", "avx2", "fma"}),
    "avx2": frozenset({"avx2", "fma"}),
    "sse": frozenset({"sse4_2"}),
}


class CPUTarget:
    """x86-64 CPU: AVX-512 where the host has it, else AVX2, else SSE-width vectors; int8
    matmuls use AVX-512 VNNI where present. `cpu` names a feature preset (CPU_PRESETS) instead
    of the host's, for cross-compiling."""

    name = "cpu"

    def __init__(
        self,
        features: frozenset[str] | None = None,
        vector_width: int | None = None,
        cpu: str | None = None,
    ):
        if cpu and cpu != "host":
            if cpu not in CPU_PRESETS:
                raise ValueError(f"unknown cpu '{cpu}'; valid: host, {', '.join(CPU_PRESETS)}")
            features = CPU_PRESETS[cpu]
        self.features = host_cpu_flags() if features is None else features
        self._vector_width = vector_width  # an override, for cross-compiling

    @property
    def vnni(self) -> bool:
        """int8 dot products (vpdpbusd) on 512-bit vectors."""
        return self.vector_width == 16 and "avx512_vnni" in self.features

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
            options = f"vector-width={self.vector_width} vnni={str(self.vnni).lower()}"
            elements += make_element("convert-tprog-to-hwprim", options)
        elements += make_element("tprog-parallelize")
        elements += make_element("convert-tprog-to-scf")
        elements += make_element("convert-hwprim-to-vector")
        elements += make_element("convert-libcall-to-func")
        return elements

    def runtime_libraries(self, module) -> list[str]:
        """Shared libraries the JIT must load for `module` (in the LLVM dialect) beyond the
        registry's libraries: the OpenMP runtime when parallel loops were lowered to threads."""
        if not uses_openmp(module):
            return []
        # libomp workers spin for 200 ms after a parallel region by default and slow down
        # whatever runs next on the same cores (numpy, another library): 1 ms keeps back-to-back
        # regions warm without that. Read when libomp starts; a user's setting wins.
        os.environ.setdefault("KMP_BLOCKTIME", "1")
        path = openmp_library()
        if path is None:
            raise RuntimeError("parallel loops need libomp: pip install cmeel-libomp")
        return [str(path)]

    def lower_to_llvm(self) -> list[Element]:
        return [
            *BUFFERIZE,
            *make_element("func-emit-c-interface"),
            *TO_LLVM,
        ]
