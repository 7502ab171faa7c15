// RUN: strata-opt %s --split-input-file --verify-diagnostics

// Operands are memrefs (IRDL).
func.func @tensor(%x: tensor<1x2x4x4xf32>, %w: memref<2x2x1x1xf32>, %y: memref<1x2x4x4xf32>) {
  // expected-error@+1 {{expected base type 'builtin.memref' but got 'builtin.tensor'}}
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}


// -----

// Every attribute is required (IRDL).
func.func @missing(%x: memref<1x2x4x4xf32>, %w: memref<2x2x1x1xf32>, %y: memref<1x2x4x4xf32>) {
  // expected-error@+1 {{attribute "groups" is expected but not provided}}
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>} : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}
