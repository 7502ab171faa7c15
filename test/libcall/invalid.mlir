// RUN: strata-opt %s --split-input-file --verify-diagnostics

// The shapes must form out[MxN] = lhs[MxK] @ rhs[KxN].
func.func @shape(%a: memref<4x8xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) {
  // expected-error@+1 {{libcall.matmul shapes do not form out[..., M, N] = lhs[..., M, K] @ rhs[..., K, N]: lhs [4, 8], rhs [4, 4], out [4, 4]}}
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<4x8xf32>, memref<4x4xf32>, memref<4x4xf32>) -> ()
  return
}

// -----

// The output shape is checked too.
func.func @out_shape(%a: memref<4x8xf32>, %b: memref<8x2xf32>, %c: memref<4x4xf32>) {
  // expected-error@+1 {{libcall.matmul shapes do not form out[..., M, N] = lhs[..., M, K] @ rhs[..., K, N]: lhs [4, 8], rhs [8, 2], out [4, 4]}}
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<4x8xf32>, memref<8x2xf32>, memref<4x4xf32>) -> ()
  return
}

// -----

// Operands have rank 2 or more.
func.func @rank(%a: memref<8xf32>, %b: memref<8x4xf32>, %c: memref<4xf32>) {
  // expected-error@+1 {{libcall.matmul operands must be memrefs of rank >= 2}}
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<8xf32>, memref<8x4xf32>, memref<4xf32>) -> ()
  return
}

// -----

// The callee must be in the library registry.
func.func @unknown_callee(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>) {
  // expected-error@+1 {{unknown library function 'mkl.sgemm'; registered: cublas.gemm, onednn.conv2d, openblas.sgemm}}
  "libcall.matmul"(%a, %b, %c) {callee = "mkl.sgemm"} : (memref<4x8xf32>, memref<8x4xf32>, memref<4x4xf32>) -> ()
  return
}

// -----

// openblas.sgemm takes f32 only.
func.func @f64(%a: memref<4x8xf64>, %b: memref<8x4xf64>, %c: memref<4x4xf64>) {
  // expected-error@+1 {{openblas.sgemm takes f32 operands, found memref<4x8xf64>}}
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<4x8xf64>, memref<8x4xf64>, memref<4x4xf64>) -> ()
  return
}

// -----

// openblas.sgemm needs unit-stride rows or columns.
func.func @column_stride(%a: memref<4x8xf32, strided<[16, 2]>>, %b: memref<8x4xf32>, %c: memref<4x4xf32>) {
  // expected-error@+1 {{openblas.sgemm needs unit-stride rows or columns, found memref<4x8xf32, strided<[16, 2]>>}}
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<4x8xf32, strided<[16, 2]>>, memref<8x4xf32>, memref<4x4xf32>) -> ()
  return
}

// -----

// The output is written row-major.
func.func @transposed_out(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32, strided<[1, 4]>>) {
  // expected-error@+1 {{openblas.sgemm writes row-major outputs, found memref<4x4xf32, strided<[1, 4]>>}}
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<4x8xf32>, memref<8x4xf32>, memref<4x4xf32, strided<[1, 4]>>) -> ()
  return
}

// -----

// Batch dimensions broadcast like numpy's.
func.func @batch_mismatch(%a: memref<2x4x8xf32>, %b: memref<3x8x4xf32>, %c: memref<2x4x4xf32>) {
  // expected-error@+1 {{libcall.matmul shapes do not form out[..., M, N] = lhs[..., M, K] @ rhs[..., K, N]: lhs [2, 4, 8], rhs [3, 8, 4], out [2, 4, 4]}}
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<2x4x8xf32>, memref<3x8x4xf32>, memref<2x4x4xf32>) -> ()
  return
}

// -----

// Operands are memrefs (IRDL).
func.func @tensor(%a: tensor<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>) {
  // expected-error@+1 {{expected base type 'builtin.memref' but got 'builtin.tensor'}}
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (tensor<4x8xf32>, memref<8x4xf32>, memref<4x4xf32>) -> ()
  return
}

// -----

// The callee is a string (IRDL).
func.func @callee_kind(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>) {
  // expected-error@+1 {{expected base attribute 'builtin.string' but got 'builtin.symbol_ref'}}
  "libcall.matmul"(%a, %b, %c) {callee = @sgemm} : (memref<4x8xf32>, memref<8x4xf32>, memref<4x4xf32>) -> ()
  return
}
