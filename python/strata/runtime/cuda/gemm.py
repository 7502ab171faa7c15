"""A row-major gemm step as cuBLAS's column-major cublasGemmEx / cublasGemmStridedBatchedEx
call (no GPU needed: the mapping is checked when the manifest is read)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ArtifactError
from .schema import INT32_MAX, BufferRef, Gemm, GemmOperand

CUBLAS_OP_N, CUBLAS_OP_T = 0, 1
CUDA_DATA_TYPES = {"float32": 0, "float16": 2, "bfloat16": 14}  # cudaDataType_t
CUBLAS_COMPUTE = {"float32": 68, "tf32": 77}  # CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_32F_FAST_TF32
CUBLAS_GEMM_DEFAULT = -1


@dataclass(frozen=True)
class GemmCall:
    """The arguments of one cublasGemmEx call (cublasGemmStridedBatchedEx when `batch` > 1), in
    cuBLAS's column-major terms: C (m x n, ldc) = alpha * op(A) (m x k) . op(B) (k x n) +
    beta * C. Pointers are (buffer id, byte offset); strides and leading dimensions in
    elements."""

    transa: int
    transb: int
    m: int
    n: int
    k: int
    a: BufferRef
    atype: int
    lda: int
    stride_a: int
    b: BufferRef
    btype: int
    ldb: int
    stride_b: int
    c: BufferRef
    ctype: int
    ldc: int
    stride_c: int
    batch: int
    compute: int
    alpha: float
    beta: float


def _column_major(operand: GemmOperand, rows: int, cols: int, where: str) -> tuple[bool, int]:
    """(is it column-major, leading dimension) of a rows x cols operand. A dimension of size 1
    has no stride that matters, so the leading dimension is then the smallest valid one."""
    rs, cs = operand.row_stride, operand.col_stride
    if (cs == 1 or cols == 1) and (rows == 1 or rs >= cols):
        return False, rs if rows > 1 else cols
    if (rs == 1 or rows == 1) and (cols == 1 or cs >= rows):
        return True, cs if cols > 1 else rows
    raise ArtifactError(
        where,
        f"a {rows}x{cols} operand needs unit-stride rows (col_stride 1, row_stride >= {cols}) "
        f"or columns (row_stride 1, col_stride >= {rows}); found row_stride {rs}, "
        f"col_stride {cs}",
    )


def gemm_call(step: Gemm, where: str = "gemm") -> GemmCall:
    """Map a row-major gemm step onto cuBLAS's column-major call. A row-major matrix read as
    column-major is its transpose, so a row-major C is computed as C^T = B^T . A^T (cuBLAS's A
    is our B); a column-major C (row_stride 1) as C = A . B. Raises `ArtifactError` when an
    operand's layout cannot be expressed (a leading dimension smaller than its rows, overlapping
    batches of C, sizes beyond 32-bit)."""
    m, n, k = step.m, step.n, step.k
    a_col, lda = _column_major(step.a, m, k, f"{where}.a")
    b_col, ldb = _column_major(step.b, k, n, f"{where}.b")
    c_col, ldc = _column_major(step.c, m, n, f"{where}.c")
    if step.batch > 1:
        c = step.c
        extent = (m - 1) * c.row_stride + (n - 1) * c.col_stride + 1
        if c.batch_stride < extent:
            raise ArtifactError(
                f"{where}.c.batch_stride",
                f"{c.batch_stride} makes the {step.batch} output matrices overlap (each spans "
                f"{extent} elements)",
            )
    for name, ld in (("a", lda), ("b", ldb), ("c", ldc)):
        if ld > INT32_MAX:
            raise ArtifactError(f"{where}.{name}", f"leading dimension {ld} exceeds 32 bits")
    in_type, out_type = CUDA_DATA_TYPES[step.dtype], CUDA_DATA_TYPES[step.out_dtype]

    def ref(op: GemmOperand) -> BufferRef:
        return BufferRef(op.buffer, op.offset)

    def trans(column_major: bool, want_column_major: bool) -> int:
        # stored column-major with ld = its own rows: op N gives the matrix as stored
        return CUBLAS_OP_N if column_major == want_column_major else CUBLAS_OP_T

    if c_col:  # C = A . B, operands as they are
        first = (trans(a_col, True), ref(step.a), lda, step.a.batch_stride)
        second = (trans(b_col, True), ref(step.b), ldb, step.b.batch_stride)
        dims = (m, n, k)
    else:  # C^T = B^T . A^T: a row-major X read column-major is X^T
        first = (trans(b_col, False), ref(step.b), ldb, step.b.batch_stride)
        second = (trans(a_col, False), ref(step.a), lda, step.a.batch_stride)
        dims = (n, m, k)
    batched = step.batch > 1
    return GemmCall(
        transa=first[0],
        transb=second[0],
        m=dims[0],
        n=dims[1],
        k=dims[2],
        a=first[1],
        atype=in_type,
        lda=first[2],
        stride_a=first[3] if batched else 0,
        b=second[1],
        btype=in_type,
        ldb=second[2],
        stride_b=second[3] if batched else 0,
        c=ref(step.c),
        ctype=out_type,
        ldc=ldc,
        stride_c=step.c.batch_stride if batched else 0,
        batch=step.batch,
        compute=CUBLAS_COMPUTE[step.compute],
        alpha=step.alpha,
        beta=step.beta,
    )
