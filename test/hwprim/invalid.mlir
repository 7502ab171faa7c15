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

// -----

// The int8 kernel's packed rhs is K/4 x 4N.
func.func @dot_i8_shapes(%a: memref<4x8xi8>, %b: memref<8x32xi8>, %c: memref<4x32xi32>) {
  // expected-error@+1 {{dot_i8_microkernel shapes do not form acc[MxN] += lhs[MxK] * rhs[K/4 x 4N] (K a multiple of 4): lhs [4, 8], rhs [8, 32], acc [4, 32]}}
  "hwprim.dot_i8_microkernel"(%a, %b, %c) {vector_width = 16 : i64} : (memref<4x8xi8>, memref<8x32xi8>, memref<4x32xi32>) -> ()
  return
}

// -----

// It multiplies bytes into i32 accumulators.
func.func @dot_i8_types(%a: memref<4x8xf32>, %b: memref<2x128xi8>, %c: memref<4x32xi32>) {
  // expected-error@+1 {{dot_i8_microkernel takes i8 lhs and rhs and an i32 accumulator}}
  "hwprim.dot_i8_microkernel"(%a, %b, %c) {vector_width = 16 : i64} : (memref<4x8xf32>, memref<2x128xi8>, memref<4x32xi32>) -> ()
  return
}

// -----

// Accumulator columns fill whole vectors.
func.func @dot_i8_width(%a: memref<4x8xi8>, %b: memref<2x80xi8>, %c: memref<4x20xi32>) {
  // expected-error@+1 {{dot_i8_microkernel accumulator columns (20) must be a multiple of vector_width (16)}}
  "hwprim.dot_i8_microkernel"(%a, %b, %c) {vector_width = 16 : i64} : (memref<4x8xi8>, memref<2x80xi8>, memref<4x20xi32>) -> ()
  return
}

// -----

// vpdpbusd: N i32 lanes and 4N bytes.
func.func @dot_i8_vector(%acc: vector<16xi32>, %x: vector<32xi8>) -> vector<16xi32> {
  // expected-error@+1 {{hwprim.dot_i8 takes vector<N x i32> and two vector<4N x i8>, found vector<16xi32> and vector<32xi8>}}
  %r = "hwprim.dot_i8"(%acc, %x, %x) : (vector<16xi32>, vector<32xi8>, vector<32xi8>) -> vector<16xi32>
  return %r : vector<16xi32>
}

// -----

// A vector load moves the memref's element type.
func.func @vload_type(%m: memref<4x16xf32>, %i: index) -> vector<16xi32> {
  // expected-error@+1 {{hwprim.vload moves a 1-D vector of the memref's elements, found vector<16xi32> and memref<4x16xf32>}}
  %v = "hwprim.vload"(%m, %i, %i) : (memref<4x16xf32>, index, index) -> vector<16xi32>
  return %v : vector<16xi32>
}

// -----

// One index per memref dimension.
func.func @vstore_indices(%m: memref<4x16xf32>, %v: vector<16xf32>, %i: index) {
  // expected-error@+1 {{hwprim.vstore takes 2 indices for memref<4x16xf32>, found 1}}
  "hwprim.vstore"(%v, %m, %i) : (vector<16xf32>, memref<4x16xf32>, index) -> ()
  return
}

// -----

// Broadcasts keep the element type.
func.func @vbroadcast_type(%s: f16) -> vector<16xf32> {
  // expected-error@+1 {{hwprim.vbroadcast fills a 1-D vector of its operand's type, found f16 to vector<16xf32>}}
  %v = "hwprim.vbroadcast"(%s) : (f16) -> vector<16xf32>
  return %v : vector<16xf32>
}

// -----

// vfma is a float instruction.
func.func @vfma_int(%v: vector<16xi32>) -> vector<16xi32> {
  // expected-error@+1 {{hwprim.vfma takes 1-D float vectors, found vector<16xi32>}}
  %r = "hwprim.vfma"(%v, %v, %v) : (vector<16xi32>, vector<16xi32>, vector<16xi32>) -> vector<16xi32>
  return %r : vector<16xi32>
}
