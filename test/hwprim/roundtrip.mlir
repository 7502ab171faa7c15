// RUN: strata-opt %s --split-input-file --verify-diagnostics | FileCheck %s
// RUN: strata-opt %s --split-input-file | strata-opt --split-input-file | FileCheck %s

// A micro-kernel on subviews of the operands.
// CHECK-LABEL: func.func @tile
// CHECK-SAME: (%[[A:.*]]: memref<8x64xf32, strided<[64, 1], offset: ?>>, %[[B:.*]]: memref<64x32xf32, strided<[32, 1], offset: ?>>, %[[C:.*]]: memref<8x32xf32, strided<[32, 1], offset: ?>>)
func.func @tile(%a: memref<8x64xf32, strided<[64, 1], offset: ?>>, %b: memref<64x32xf32, strided<[32, 1], offset: ?>>, %c: memref<8x32xf32, strided<[32, 1], offset: ?>>) {
  // CHECK: "hwprim.fma_microkernel"(%[[A]], %[[B]], %[[C]]) {vector_width = 16 : i64} : (memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<64x32xf32, strided<[32, 1], offset: ?>>, memref<8x32xf32, strided<[32, 1], offset: ?>>) -> ()
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 16 : i64} : (memref<8x64xf32, strided<[64, 1], offset: ?>>, memref<64x32xf32, strided<[32, 1], offset: ?>>, memref<8x32xf32, strided<[32, 1], offset: ?>>) -> ()
  return
}

// -----

// Identity-layout memrefs, AVX2 width.
// CHECK-LABEL: func.func @avx2
func.func @avx2(%a: memref<4x2xf32>, %b: memref<2x8xf32>, %c: memref<4x8xf32>) {
  // CHECK: "hwprim.fma_microkernel"(%{{.*}}, %{{.*}}, %{{.*}}) {vector_width = 8 : i64} : (memref<4x2xf32>, memref<2x8xf32>, memref<4x8xf32>) -> ()
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 8 : i64} : (memref<4x2xf32>, memref<2x8xf32>, memref<4x8xf32>) -> ()
  return
}

// -----

// The int8 VNNI micro-kernel and its vector instruction.
// CHECK-LABEL: func.func @dot_i8
func.func @dot_i8(%a: memref<4x8xi8>, %b: memref<2x128xi8>, %c: memref<4x32xi32>, %acc: vector<16xi32>, %x: vector<64xi8>) -> vector<16xi32> {
  // CHECK: "hwprim.dot_i8_microkernel"(%{{.*}}, %{{.*}}, %{{.*}}) {vector_width = 16 : i64} : (memref<4x8xi8>, memref<2x128xi8>, memref<4x32xi32>) -> ()
  "hwprim.dot_i8_microkernel"(%a, %b, %c) {vector_width = 16 : i64} : (memref<4x8xi8>, memref<2x128xi8>, memref<4x32xi32>) -> ()
  // CHECK: "hwprim.dot_i8"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
  %r = "hwprim.dot_i8"(%acc, %x, %x) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
  return %r : vector<16xi32>
}

// -----

// The register instructions micro-kernels expand into.
// CHECK-LABEL: func.func @registers
func.func @registers(%m: memref<4x16xf32>, %i: index, %s: f32) {
  // CHECK: "hwprim.vload"(%{{.*}}, %{{.*}}, %{{.*}}) : (memref<4x16xf32>, index, index) -> vector<16xf32>
  %v = "hwprim.vload"(%m, %i, %i) : (memref<4x16xf32>, index, index) -> vector<16xf32>
  // CHECK: "hwprim.vbroadcast"(%{{.*}}) : (f32) -> vector<16xf32>
  %b = "hwprim.vbroadcast"(%s) : (f32) -> vector<16xf32>
  // CHECK: "hwprim.vfma"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
  %r = "hwprim.vfma"(%b, %v, %v) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
  // CHECK: "hwprim.vstore"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xf32>, memref<4x16xf32>, index, index) -> ()
  "hwprim.vstore"(%r, %m, %i, %i) : (vector<16xf32>, memref<4x16xf32>, index, index) -> ()
  return
}
