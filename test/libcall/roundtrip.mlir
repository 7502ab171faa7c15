// RUN: strata-opt %s --split-input-file --verify-diagnostics | FileCheck %s
// RUN: strata-opt %s --split-input-file | strata-opt --split-input-file | FileCheck %s

// A library matmul in destination-passing style.
// CHECK-LABEL: func.func private @sgemm
// CHECK-SAME: (%[[A:.*]]: memref<16x64xf32>, %[[B:.*]]: memref<64x32xf32>, %[[C:.*]]: memref<16x32xf32>)
func.func private @sgemm(%a: memref<16x64xf32>, %b: memref<64x32xf32>, %c: memref<16x32xf32>) attributes {tprog.prim_func} {
  // CHECK: "libcall.matmul"(%[[A]], %[[B]], %[[C]]) {callee = "openblas.sgemm"} : (memref<16x64xf32>, memref<64x32xf32>, memref<16x32xf32>) -> ()
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<16x64xf32>, memref<64x32xf32>, memref<16x32xf32>) -> ()
  return
}

// -----

// Strided rows (subviews) are accepted as long as the innermost stride is 1.
// CHECK-LABEL: func.func @strided
func.func @strided(%a: memref<4x8xf32, strided<[16, 1], offset: ?>>, %b: memref<8x4xf32>, %c: memref<4x4xf32>) {
  // CHECK: "libcall.matmul"(%{{.*}}, %{{.*}}, %{{.*}}) {callee = "openblas.sgemm"} : (memref<4x8xf32, strided<[16, 1], offset: ?>>, memref<8x4xf32>, memref<4x4xf32>) -> ()
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<4x8xf32, strided<[16, 1], offset: ?>>, memref<8x4xf32>, memref<4x4xf32>) -> ()
  return
}

// -----

// Batched operands broadcast like numpy's; a transposed view is a strided layout.
// CHECK-LABEL: func.func @batched
func.func @batched(%a: memref<2x4x8xf32>, %b: memref<8x4xf32, strided<[1, 8]>>, %c: memref<2x4x4xf32>) {
  // CHECK: "libcall.matmul"(%{{.*}}, %{{.*}}, %{{.*}}) {callee = "openblas.sgemm"} : (memref<2x4x8xf32>, memref<8x4xf32, strided<[1, 8]>>, memref<2x4x4xf32>) -> ()
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<2x4x8xf32>, memref<8x4xf32, strided<[1, 8]>>, memref<2x4x4xf32>) -> ()
  return
}
