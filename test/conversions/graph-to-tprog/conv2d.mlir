// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog | FileCheck %s
// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog --convert-tprog-to-hwprim=vector-width=16 | FileCheck %s --check-prefix=TENSORIZED

// A padded 3x3 convolution: zero-padded copy, im2col, then a batched matmul of the collapsed
// weight (O x C*KH*KW) with the columns into the collapsed output; the matmul is what
// convert-tprog-to-hwprim tensorizes.
// CHECK-LABEL: func.func private @conv2d
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: memref<1x8x16x16xf32>, %[[W:[a-z0-9_]+]]: memref<32x8x3x3xf32>, %[[OUT:[a-z0-9_]+]]: memref<1x32x16x16xf32>)
// CHECK: %[[PADDED:.*]] = memref.alloc() : memref<1x8x18x18xf32>
// CHECK: name = "conv2d_pad_zero"
// CHECK: name = "conv2d_pad"
// CHECK: %[[COL:.*]] = memref.alloc() : memref<1x72x256xf32>
// CHECK: memref.load %[[PADDED]]
// CHECK: memref.store %{{.*}}, %[[COL]]
// CHECK: name = "conv2d_im2col"
// CHECK: %[[W2:.*]] = memref.collapse_shape %[[W]] {{\[\[}}0], [1, 2, 3]] : memref<32x8x3x3xf32> into memref<32x72xf32>
// CHECK: %[[OUT3:.*]] = memref.collapse_shape %[[OUT]] {{\[\[}}0], [1], [2, 3]] : memref<1x32x16x16xf32> into memref<1x32x256xf32>
// CHECK: memref.load %[[W2]]
// CHECK: memref.load %[[COL]]
// CHECK: iter_types = ["spatial", "spatial", "spatial", "reduction"], name = "conv2d"

// TENSORIZED-LABEL: func.func private @conv2d
// TENSORIZED: "hwprim.fma_microkernel"
func.func @conv(%x: tensor<1x8x16x16xf32>, %w: tensor<32x8x3x3xf32>) -> tensor<1x32x16x16xf32> {
  %0 = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x16x16xf32>, tensor<32x8x3x3xf32>) -> tensor<1x32x16x16xf32>
  return %0 : tensor<1x32x16x16xf32>
}

// -----

// A depthwise convolution (groups = channels) is one direct block reducing over (ci, kh, kw).
// CHECK-LABEL: func.func private @conv2d
// CHECK-NOT: im2col
// CHECK: arith.divui
// CHECK: iter_types = ["spatial", "spatial", "spatial", "spatial", "reduction", "reduction", "reduction"], name = "conv2d"
// TENSORIZED-LABEL: func.func private @conv2d
// TENSORIZED-NOT: hwprim
func.func @depthwise(%x: tensor<1x8x10x10xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x8x8xf32> {
  %0 = "graph.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 8 : i64} : (tensor<1x8x10x10xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x8x8xf32>
  return %0 : tensor<1x8x8x8xf32>
}
