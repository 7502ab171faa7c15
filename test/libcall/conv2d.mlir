// RUN: strata-opt %s --split-input-file --verify-diagnostics | FileCheck %s
// RUN: strata-opt %s --split-input-file | strata-opt --split-input-file | FileCheck %s

// A library convolution in destination-passing style, with graph.conv2d's attributes.
// CHECK-LABEL: func.func private @conv
// CHECK-SAME: (%[[X:.*]]: memref<1x8x12x12xf32>, %[[W:.*]]: memref<16x4x3x3xf32>, %[[Y:.*]]: memref<1x16x7x9xf32>)
func.func private @conv(%x: memref<1x8x12x12xf32>, %w: memref<16x4x3x3xf32>, %y: memref<1x16x7x9xf32>) attributes {tprog.prim_func} {
  // CHECK: "libcall.conv2d"(%[[X]], %[[W]], %[[Y]]) {callee = "onednn.conv2d", dilation = array<i64: 1, 2>, groups = 2 : i64, padding = array<i64: 1, 0, 2, 1>, strides = array<i64: 2, 1>} : (memref<1x8x12x12xf32>, memref<16x4x3x3xf32>, memref<1x16x7x9xf32>) -> ()
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 2, 1>, padding = array<i64: 1, 0, 2, 1>, dilation = array<i64: 1, 2>, groups = 2 : i64} : (memref<1x8x12x12xf32>, memref<16x4x3x3xf32>, memref<1x16x7x9xf32>) -> ()
  return
}
