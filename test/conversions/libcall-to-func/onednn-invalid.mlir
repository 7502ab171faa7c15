// RUN: strata-opt %s --split-input-file --convert-libcall-to-func --verify-diagnostics

// onednn.conv2d takes f32 only.
func.func @f16(%x: memref<1x2x4x4xf16>, %w: memref<2x2x1x1xf16>, %y: memref<1x2x4x4xf16>) {
  // expected-error@+1 {{onednn.conv2d takes f32 operands, found input memref<1x2x4x4xf16>}}
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (memref<1x2x4x4xf16>, memref<2x2x1x1xf16>, memref<1x2x4x4xf16>) -> ()
  return
}

// -----

// The shim reads plain NCHW / OIHW buffers: strided views are refused.
func.func @strided(%x: memref<1x2x4x4xf32, strided<[64, 16, 4, 1]>>, %w: memref<2x2x1x1xf32>, %y: memref<1x2x4x4xf32>) {
  // expected-error@+1 {{onednn.conv2d needs contiguous operands, found input memref<1x2x4x4xf32, strided<[64, 16, 4, 1]>>}}
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (memref<1x2x4x4xf32, strided<[64, 16, 4, 1]>>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}

// -----

// The output shape follows from the input, weight and attributes.
func.func @out_shape(%x: memref<1x2x8x8xf32>, %w: memref<4x2x3x3xf32>, %y: memref<1x4x8x8xf32>) {
  // expected-error@+1 {{libcall.conv2d output must be [1, 4, 3, 3], found [1, 4, 8, 8]}}
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (memref<1x2x8x8xf32>, memref<4x2x3x3xf32>, memref<1x4x8x8xf32>) -> ()
  return
}

// -----

// The weight's input channels are the input's divided by the groups.
func.func @groups(%x: memref<1x4x4x4xf32>, %w: memref<4x4x1x1xf32>, %y: memref<1x4x4x4xf32>) {
  // expected-error@+1 {{libcall.conv2d weight [4, 4, 1, 1] does not fit input [1, 4, 4, 4] with 2 groups}}
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 2 : i64} : (memref<1x4x4x4xf32>, memref<4x4x1x1xf32>, memref<1x4x4x4xf32>) -> ()
  return
}

// -----

// Attributes have their sizes: 2 strides, 4 paddings, 2 dilations.
func.func @padding(%x: memref<1x2x4x4xf32>, %w: memref<2x2x1x1xf32>, %y: memref<1x2x4x4xf32>) {
  // expected-error@+1 {{libcall.conv2d: 'padding' needs 4 values, found 2}}
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}

// -----

// Strides are positive.
func.func @stride(%x: memref<1x2x4x4xf32>, %w: memref<2x2x1x1xf32>, %y: memref<1x2x4x4xf32>) {
  // expected-error@+1 {{libcall.conv2d needs positive strides, dilations and groups, paddings >= 0}}
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 0, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}

// -----

// A callee implementing another libcall op is refused.
func.func @callee(%x: memref<1x2x4x4xf32>, %w: memref<2x2x1x1xf32>, %y: memref<1x2x4x4xf32>) {
  // expected-error@+1 {{library function 'openblas.sgemm' implements 'libcall.matmul', not 'libcall.conv2d'}}
  "libcall.conv2d"(%x, %w, %y) {callee = "openblas.sgemm", strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}
