// RUN: strata-opt %s --split-input-file --convert-libcall-to-func | FileCheck %s

// onednn.conv2d becomes a call of the shim's strata_onednn_conv2d: pointers to the input, weight
// and output (aligned base plus offset), then n c h w, o kh kw, oh ow, the strides, the padding
// (top, left, bottom, right), the dilations, the groups and the weight id, all i64. A tensor
// program called from nowhere has no constant weight: id 0 (the shim reorders it every call).
// CHECK-LABEL: func.func private @strata_onednn_conv2d(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i32
// CHECK-LABEL: func.func private @conv
// CHECK-SAME: (%[[X:.*]]: memref<1x8x12x12xf32>, %[[W:.*]]: memref<16x4x3x3xf32>, %[[Y:.*]]: memref<1x16x7x9xf32>)
// CHECK-NOT: libcall.conv2d
// CHECK: memref.extract_strided_metadata %[[X]]
// CHECK: memref.extract_aligned_pointer_as_index %[[X]]
// CHECK: %[[PX:.*]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[W]]
// CHECK: %[[PW:.*]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[Y]]
// CHECK: %[[PY:.*]] = llvm.inttoptr
// CHECK: call @strata_onednn_conv2d(%[[PX]], %[[PW]], %[[PY]], %c1_i64{{[_0-9]*}}, %c8_i64{{[_0-9]*}}, %c12_i64{{[_0-9]*}}, %c12_i64{{[_0-9]*}}, %c16_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c7_i64{{[_0-9]*}}, %c9_i64{{[_0-9]*}}, %c2_i64{{[_0-9]*}}, %c1_i64{{[_0-9]*}}, %c1_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}}, %c2_i64{{[_0-9]*}}, %c1_i64{{[_0-9]*}}, %c1_i64{{[_0-9]*}}, %c2_i64{{[_0-9]*}}, %c2_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}}) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i32
// CHECK-NEXT: return
func.func private @conv(%x: memref<1x8x12x12xf32>, %w: memref<16x4x3x3xf32>, %y: memref<1x16x7x9xf32>) attributes {tprog.prim_func} {
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 2, 1>, padding = array<i64: 1, 0, 2, 1>, dilation = array<i64: 1, 2>, groups = 2 : i64} : (memref<1x8x12x12xf32>, memref<16x4x3x3xf32>, memref<1x16x7x9xf32>) -> ()
  return
}

// -----

// Constant weights (every call passes the same arith.constant) get a nonzero id, a hash of their
// contents: equal weights, equal ids, whatever their address. A weight that is a function
// argument keeps id 0. Two calls share one declaration.
// CHECK-LABEL: func.func private @strata_onednn_conv2d
// CHECK-NOT: func.func private @strata_onednn_conv2d
// CHECK-LABEL: func.func private @first
// CHECK: call @strata_onednn_conv2d({{.*}}, %c[[ID:[1-9][0-9]*]]_i64) :
// CHECK-LABEL: func.func private @same_weights
// CHECK: call @strata_onednn_conv2d({{.*}}, %c[[ID]]_i64) :
// CHECK-LABEL: func.func private @argument_weights
// CHECK: call @strata_onednn_conv2d({{.*}}, %c0_i64{{[_0-9]*}}) :
func.func @model(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>) {
  %cst = arith.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>
  %cst_0 = arith.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>
  %0 = bufferization.to_buffer %x read_only : tensor<1x2x4x4xf32> to memref<1x2x4x4xf32>
  %1 = bufferization.to_buffer %cst read_only : tensor<2x2x1x1xf32> to memref<2x2x1x1xf32>
  %2 = bufferization.to_buffer %cst_0 read_only : tensor<2x2x1x1xf32> to memref<2x2x1x1xf32>
  %3 = bufferization.to_buffer %w read_only : tensor<2x2x1x1xf32> to memref<2x2x1x1xf32>
  %alloc = memref.alloc() : memref<1x2x4x4xf32>
  call @first(%0, %1, %alloc) : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  call @same_weights(%0, %2, %alloc) : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  call @argument_weights(%0, %3, %alloc) : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}
func.func private @first(%x: memref<1x2x4x4xf32>, %w: memref<2x2x1x1xf32>, %y: memref<1x2x4x4xf32>) attributes {tprog.prim_func} {
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}
func.func private @same_weights(%x: memref<1x2x4x4xf32>, %w: memref<2x2x1x1xf32>, %y: memref<1x2x4x4xf32>) attributes {tprog.prim_func} {
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}
func.func private @argument_weights(%x: memref<1x2x4x4xf32>, %w: memref<2x2x1x1xf32>, %y: memref<1x2x4x4xf32>) attributes {tprog.prim_func} {
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}

// -----

// Different constants through one tensor program: no single id, so 0.
// CHECK-LABEL: func.func private @shared
// CHECK: call @strata_onednn_conv2d({{.*}}, %c0_i64{{[_0-9]*}}) :
func.func @two_weights(%x: memref<1x2x4x4xf32>, %y: memref<1x2x4x4xf32>) {
  %cst = arith.constant dense<1.0> : tensor<2x2x1x1xf32>
  %cst_0 = arith.constant dense<2.0> : tensor<2x2x1x1xf32>
  %0 = bufferization.to_buffer %cst read_only : tensor<2x2x1x1xf32> to memref<2x2x1x1xf32>
  %1 = bufferization.to_buffer %cst_0 read_only : tensor<2x2x1x1xf32> to memref<2x2x1x1xf32>
  call @shared(%x, %0, %y) : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  call @shared(%x, %1, %y) : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}
func.func private @shared(%x: memref<1x2x4x4xf32>, %w: memref<2x2x1x1xf32>, %y: memref<1x2x4x4xf32>) attributes {tprog.prim_func} {
  "libcall.conv2d"(%x, %w, %y) {callee = "onednn.conv2d", strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (memref<1x2x4x4xf32>, memref<2x2x1x1xf32>, memref<1x2x4x4xf32>) -> ()
  return
}
