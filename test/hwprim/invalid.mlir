// RUN: strata-opt %s --split-input-file --verify-diagnostics

// Operands are 2-D.
func.func @rank(%a: memref<4xf32>, %b: memref<4x8xf32>, %c: memref<8xf32>) {
  // expected-error@+1 {{fma_microkernel operands must be 2-D memrefs}}
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 8 : i64} : (memref<4xf32>, memref<4x8xf32>, memref<8xf32>) -> ()
  return
}

// -----

// The shapes must form acc[MxN] += lhs[MxK] * rhs[KxN].
func.func @shape(%a: memref<4x2xf32>, %b: memref<3x8xf32>, %c: memref<4x8xf32>) {
  // expected-error@+1 {{fma_microkernel shapes do not form acc[MxN] += lhs[MxK] * rhs[KxN]: lhs [4, 2], rhs [3, 8], acc [4, 8]}}
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 8 : i64} : (memref<4x2xf32>, memref<3x8xf32>, memref<4x8xf32>) -> ()
  return
}

// -----

// The micro-kernel works on f32.
func.func @f16(%a: memref<4x2xf16>, %b: memref<2x8xf16>, %c: memref<4x8xf16>) {
  // expected-error@+1 {{fma_microkernel works on f32 memrefs}}
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 8 : i64} : (memref<4x2xf16>, memref<2x8xf16>, memref<4x8xf16>) -> ()
  return
}

// -----

// Operands are memrefs (IRDL).
func.func @tensor(%a: memref<4x2xf32>, %b: memref<2x8xf32>, %c: tensor<4x8xf32>) {
  // expected-error@+1 {{expected base type 'builtin.memref' but got 'builtin.tensor'}}
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 8 : i64} : (memref<4x2xf32>, memref<2x8xf32>, tensor<4x8xf32>) -> ()
  return
}

// -----

// vector_width is an integer attribute (IRDL).
func.func @width_kind(%a: memref<4x2xf32>, %b: memref<2x8xf32>, %c: memref<4x8xf32>) {
  // expected-error@+1 {{expected base attribute 'builtin.integer' but got 'builtin.string'}}
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = "8"} : (memref<4x2xf32>, memref<2x8xf32>, memref<4x8xf32>) -> ()
  return
}
