"""Thread count of compiled code: OpenMP (parallel loops), OpenBLAS and oneDNN (library calls).

Both runtimes read their environment when first loaded (`OMP_NUM_THREADS`,
`OPENBLAS_NUM_THREADS`); `set_num_threads` changes them at run time, in this process.
"""

from __future__ import annotations

import ctypes
import os


def set_num_threads(n: int) -> None:
    """Run parallel loops and library calls of compiled code on `n` threads."""
    if n < 1:
        raise ValueError(f"the thread count must be at least 1, got {n}")
    from strata.libraries.openblas import OPENBLAS
    from strata.targets.cpu import openmp_library

    omp = openmp_library()
    if omp is not None:
        # libomp reads KMP_BLOCKTIME when it starts: 1 ms of spinning after a parallel region,
        # not 200 (see CPUTarget.runtime_libraries); a user's setting wins.
        os.environ.setdefault("KMP_BLOCKTIME", "1")
        ctypes.CDLL(str(omp), mode=ctypes.RTLD_GLOBAL).omp_set_num_threads(ctypes.c_int(n))
    blas = OPENBLAS.path()
    if blas is not None:
        ctypes.CDLL(str(blas), mode=ctypes.RTLD_GLOBAL).scipy_openblas_set_num_threads(
            ctypes.c_int(n)
        )
    _set_onednn_threads(n)


def _set_onednn_threads(n: int) -> None:
    """oneDNN's own count, when its shim is loaded already (it may run on libgomp's pool when
    torch loaded libgomp first); loaded later, it binds to libomp, whose count is set above."""
    from strata.libraries.onednn import SHIM

    try:
        shim = ctypes.CDLL(str(SHIM), mode=os.RTLD_NOLOAD | ctypes.RTLD_GLOBAL)
    except OSError:
        return
    shim.strata_onednn_set_num_threads(ctypes.c_int(n))
