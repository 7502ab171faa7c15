"""Thread count of compiled code: OpenMP (parallel loops) and OpenBLAS (library calls).

Both runtimes read their environment when first loaded (`OMP_NUM_THREADS`,
`OPENBLAS_NUM_THREADS`); `set_num_threads` changes them at run time, in this process.
"""

from __future__ import annotations

import ctypes


def set_num_threads(n: int) -> None:
    """Run parallel loops and library calls of compiled code on `n` threads."""
    if n < 1:
        raise ValueError(f"the thread count must be at least 1, got {n}")
    from strata.libraries.openblas import OPENBLAS
    from strata.targets.cpu import openmp_library

    omp = openmp_library()
    if omp is not None:
        ctypes.CDLL(str(omp), mode=ctypes.RTLD_GLOBAL).omp_set_num_threads(ctypes.c_int(n))
    blas = OPENBLAS.path()
    if blas is not None:
        ctypes.CDLL(str(blas), mode=ctypes.RTLD_GLOBAL).scipy_openblas_set_num_threads(
            ctypes.c_int(n)
        )
