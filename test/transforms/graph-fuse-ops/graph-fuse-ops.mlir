// RUN: strata-opt %s --split-input-file --graph-fuse-ops | FileCheck %s

// matmul + bias add + relu become one fused subgraph called in their place.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>, %[[W:.*]]: tensor<4x3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK-NOT: graph.
// CHECK: %[[R:.*]] = call @fused_matmul_add_relu(%[[X]], %[[W]], %[[B]]) : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: return %[[R]]
// CHECK-LABEL: func.func private @fused_matmul_add_relu
// CHECK-SAME: (%[[FX:.*]]: tensor<2x4xf32>, %[[FW:.*]]: tensor<4x3xf32>, %[[FB:.*]]: tensor<3xf32>) -> tensor<2x3xf32> attributes {graph.fused}
// CHECK-NEXT: %[[M:.*]] = "graph.matmul"(%[[FX]], %[[FW]])
// CHECK-NEXT: %[[A:.*]] = "graph.add"(%[[M]], %[[FB]])
// CHECK-NEXT: %[[FR:.*]] = "graph.relu"(%[[A]])
// CHECK-NEXT: return %[[FR]]
func.func @mlp(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %1 = "graph.add"(%0, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %2 = "graph.relu"(%1) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %2 : tensor<2x3xf32>
}

// -----

// An elementwise add + relu chain is fused; a value used twice is passed once.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK: %[[R:.*]] = call @fused_add_relu(%[[X]]) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-LABEL: func.func private @fused_add_relu
// CHECK-SAME: (%[[FX:.*]]: tensor<4xf32>) -> tensor<4xf32> attributes {graph.fused}
// CHECK: "graph.add"(%[[FX]], %[[FX]])
// CHECK: "graph.relu"
func.func @chain(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = "graph.add"(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %r = "graph.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// A matmul whose result has two users is not fused with either.
// CHECK-LABEL: func.func @two_users
// CHECK: %[[M:.*]] = "graph.matmul"
// CHECK: "graph.add"(%[[M]]
// CHECK: "graph.add"(%[[M]]
// CHECK-NOT: call
// CHECK-NOT: graph.fused
func.func @two_users(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %b: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %m = "graph.matmul"(%x, %w) : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %a = "graph.add"(%m, %b) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %c = "graph.add"(%m, %b) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %a, %c : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A single op is not outlined.
// CHECK-LABEL: func.func @single
// CHECK: "graph.matmul"
// CHECK-NOT: graph.fused
func.func @single(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>) -> tensor<2x3xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A whole elementwise chain is one group, whatever its length.
// CHECK-LABEL: func.func @long_chain
// CHECK: call @fused_add_relu_relu_add(
// CHECK-LABEL: func.func private @fused_add_relu_relu_add
func.func @long_chain(%x: tensor<4xf32>, %y: tensor<4xf32>, %z: tensor<4xf32>) -> tensor<4xf32> {
  %a = "graph.add"(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = "graph.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  %c = "graph.relu"(%b) : (tensor<4xf32>) -> tensor<4xf32>
  %e = "graph.add"(%c, %z) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----

// Two groups of the same ops get distinct names.
// CHECK-LABEL: func.func @first
// CHECK: call @fused_add_relu(
// CHECK-LABEL: func.func private @fused_add_relu(
// CHECK-LABEL: func.func @second
// CHECK: call @fused_add_relu_1(
// CHECK-LABEL: func.func private @fused_add_relu_1(
func.func @first(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = "graph.add"(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = "graph.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %b : tensor<4xf32>
}
func.func @second(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = "graph.add"(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = "graph.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %b : tensor<4xf32>
}

// -----

// A reduction takes the elementwise chain producing its input (scale, mask) and the chain
// consuming its result: attention's softmax is one group.
// CHECK-LABEL: func.func @softmax_neighbours
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[M:.*]]: tensor<4x8xf32>, %[[S:.*]]: tensor<f32>)
// CHECK: %[[R:.*]] = call @fused_mul_add_softmax_exp(%[[X]], %[[S]], %[[M]])
// CHECK-NEXT: return %[[R]]
// CHECK-LABEL: func.func private @fused_mul_add_softmax_exp
// CHECK-NEXT: "graph.mul"
// CHECK-NEXT: "graph.add"
// CHECK-NEXT: "graph.softmax"
// CHECK-NEXT: "graph.exp"
func.func @softmax_neighbours(%x: tensor<4x8xf32>, %m: tensor<4x8xf32>, %s: tensor<f32>) -> tensor<4x8xf32> {
  %a = "graph.mul"(%x, %s) : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %b = "graph.add"(%a, %m) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %c = "graph.softmax"(%b) {axis = -1 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %d = "graph.exp"(%c) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}

// -----

// Anchors are grouped first: the residual add after a matmul joins the matmul, not the
// layer_norm it feeds; the layer_norm keeps its consumers (gelu, tanh).
// CHECK-LABEL: func.func @anchor_first
// CHECK: %[[A:.*]] = call @fused_matmul_add(
// CHECK: call @fused_layer_norm_gelu_tanh(%[[A]],
// CHECK-LABEL: func.func private @fused_layer_norm_gelu_tanh
// CHECK-LABEL: func.func private @fused_matmul_add
func.func @anchor_first(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %r: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %a = "graph.matmul"(%x, %w) : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %b = "graph.add"(%a, %r) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %c = "graph.layer_norm"(%b, %g, %g) {epsilon = 1.0e-05 : f64} : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %d = "graph.gelu"(%c) {approximate = "none"} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %e = "graph.tanh"(%d) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %e : tensor<4x8xf32>
}

// -----

// conv2d + per-channel bias + batch_norm + residual add + relu: one group.
// CHECK-LABEL: func.func @conv_epilogue
// CHECK: %[[R:.*]] = call @fused_conv2d_add_batch_norm_add_relu(
// CHECK-NEXT: return %[[R]]
func.func @conv_epilogue(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>, %b: tensor<4x1x1xf32>, %p: tensor<4xf32>, %r: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %c = "graph.conv2d"(%x, %w) {dilation = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  %a = "graph.add"(%c, %b) : (tensor<1x4x8x8xf32>, tensor<4x1x1xf32>) -> tensor<1x4x8x8xf32>
  %n = "graph.batch_norm"(%a, %p, %p, %p, %p) {epsilon = 1.0e-05 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %s = "graph.add"(%n, %r) : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %y = "graph.relu"(%s) : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

// A producer whose result is also used elsewhere stays outside the reduction's group.
// CHECK-LABEL: func.func @shared_producer
// CHECK: %[[A:.*]] = "graph.exp"
// CHECK: call @fused_reduce_sum_sqrt(%[[A]])
// CHECK: return
func.func @shared_producer(%x: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4x8xf32>) {
  %a = "graph.exp"(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = "graph.reduce_sum"(%a) {axes = array<i64: 1>, keepdim = false} : (tensor<4x8xf32>) -> tensor<4xf32>
  %r = "graph.sqrt"(%s) : (tensor<4xf32>) -> tensor<4xf32>
  return %r, %a : tensor<4xf32>, tensor<4x8xf32>
}
