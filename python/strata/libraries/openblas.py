"""OpenBLAS from the `scipy-openblas32` wheel (32-bit integers, symbols prefixed `scipy_`)."""

from __future__ import annotations

from pathlib import Path

from strata.libraries.cblas import accepts_matmul, matmul_emitter, matmul_reference
from strata.libraries.registry import Library, LibraryFunction, register


def _locate() -> Path | None:
    try:
        import scipy_openblas32
    except ImportError:
        return None
    path = Path(scipy_openblas32.get_lib_dir()) / "libscipy_openblas.so"
    return path if path.is_file() else None


OPENBLAS = Library("openblas", _locate, install_hint="pip install scipy-openblas32")

SGEMM = register(
    LibraryFunction(
        name="openblas.sgemm",
        op="libcall.matmul",
        library=OPENBLAS,
        symbol="scipy_cblas_sgemm",
        accepts=accepts_matmul("f32"),
        emit=matmul_emitter(batch_symbol="scipy_cblas_sgemm_batch_strided"),
        reference=matmul_reference,
        convention="cblas_sgemm (row-major, i32 sizes; transposed views as Trans; batches through "
        "cblas_sgemm_batch_strided)",
        extra_symbols=("scipy_cblas_sgemm_batch_strided",),
    )
)
