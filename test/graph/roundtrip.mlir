// RUN: strata-opt %s --split-input-file --verify-diagnostics | FileCheck %s
// RUN: strata-opt %s --split-input-file | strata-opt --split-input-file | FileCheck %s

// A dense constant keeps its value and type.
// CHECK-LABEL: func.func @constant
func.func @constant() -> tensor<2xf32> {
  // CHECK: %[[C:.*]] = "graph.constant"() {value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>} : () -> tensor<2xf32>
  // CHECK: return %[[C]]
  %c = "graph.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  return %c : tensor<2xf32>
}

// -----

// A 2-D matmul.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: tensor<2x4xf32>, %[[B:.*]]: tensor<4x3xf32>)
func.func @matmul(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) -> tensor<2x3xf32> {
  // CHECK: "graph.matmul"(%[[A]], %[[B]]) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %r = "graph.matmul"(%a, %b) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// A batched matmul broadcasts the batch dimensions and promotes a 1-D rhs.
// CHECK-LABEL: func.func @matmul_batch_vector
func.func @matmul_batch_vector(%a: tensor<5x2x4xf16>, %b: tensor<4xf16>) -> tensor<5x2xf16> {
  // CHECK: "graph.matmul"(%{{.*}}, %{{.*}}) : (tensor<5x2x4xf16>, tensor<4xf16>) -> tensor<5x2xf16>
  %r = "graph.matmul"(%a, %b) : (tensor<5x2x4xf16>, tensor<4xf16>) -> tensor<5x2xf16>
  return %r : tensor<5x2xf16>
}

// -----

// An add broadcasts a bias over the rows.
// CHECK-LABEL: func.func @add_broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xbf16>, %[[B:.*]]: tensor<3xbf16>)
func.func @add_broadcast(%x: tensor<2x3xbf16>, %b: tensor<3xbf16>) -> tensor<2x3xbf16> {
  // CHECK: "graph.add"(%[[X]], %[[B]]) : (tensor<2x3xbf16>, tensor<3xbf16>) -> tensor<2x3xbf16>
  %r = "graph.add"(%x, %b) : (tensor<2x3xbf16>, tensor<3xbf16>) -> tensor<2x3xbf16>
  return %r : tensor<2x3xbf16>
}

// -----

// A relu keeps its operand's type.
// CHECK-LABEL: func.func @relu
func.func @relu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // CHECK: %[[R:.*]] = "graph.relu"(%{{.*}}) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: return %[[R]]
  %r = "graph.relu"(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// A fused subgraph is a private func.func marked graph.fused, called with func.call.
// CHECK-LABEL: func.func @caller
// CHECK: call @fused_add_relu(
func.func @caller(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %r = func.call @fused_add_relu(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
// CHECK-LABEL: func.func private @fused_add_relu
// CHECK-SAME: attributes {graph.fused}
func.func private @fused_add_relu(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> attributes {graph.fused} {
  %s = "graph.add"(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %r = "graph.relu"(%s) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// A sub broadcasts a row vector over the rows.
// CHECK-LABEL: func.func @sub_broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<3xf32>)
func.func @sub_broadcast(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> tensor<2x3xf32> {
  // CHECK: %[[R:.*]] = "graph.sub"(%[[X]], %[[Y]]) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: return %[[R]]
  %r = "graph.sub"(%x, %y) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// A mul broadcasts size-1 dimensions of both operands.
// CHECK-LABEL: func.func @mul_broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<2x1x5xf16>, %[[Y:.*]]: tensor<3x1xf16>)
func.func @mul_broadcast(%x: tensor<2x1x5xf16>, %y: tensor<3x1xf16>) -> tensor<2x3x5xf16> {
  // CHECK: "graph.mul"(%[[X]], %[[Y]]) : (tensor<2x1x5xf16>, tensor<3x1xf16>) -> tensor<2x3x5xf16>
  %r = "graph.mul"(%x, %y) : (tensor<2x1x5xf16>, tensor<3x1xf16>) -> tensor<2x3x5xf16>
  return %r : tensor<2x3x5xf16>
}

// -----

// A softmax keeps its (possibly negative) axis and its operand's type.
// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x5xf32>)
func.func @softmax(%x: tensor<2x3x5xf32>) -> (tensor<2x3x5xf32>, tensor<2x3x5xf32>) {
  // CHECK: %[[A:.*]] = "graph.softmax"(%[[X]]) {axis = -1 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  // CHECK: %[[B:.*]] = "graph.softmax"(%[[X]]) {axis = 0 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  // CHECK: return %[[A]], %[[B]]
  %a = "graph.softmax"(%x) {axis = -1 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %b = "graph.softmax"(%x) {axis = 0 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return %a, %b : tensor<2x3x5xf32>, tensor<2x3x5xf32>
}

// -----

// A layer_norm over the two trailing dimensions keeps its epsilon.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xf32>, %[[W:.*]]: tensor<3x8xf32>, %[[B:.*]]: tensor<3x8xf32>)
func.func @layer_norm(%x: tensor<2x3x8xf32>, %w: tensor<3x8xf32>, %b: tensor<3x8xf32>) -> tensor<2x3x8xf32> {
  // CHECK: %[[R:.*]] = "graph.layer_norm"(%[[X]], %[[W]], %[[B]]) {epsilon = 1.000000e-05 : f64} : (tensor<2x3x8xf32>, tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<2x3x8xf32>
  // CHECK: return %[[R]]
  %r = "graph.layer_norm"(%x, %w, %b) {epsilon = 1.0e-05 : f64} : (tensor<2x3x8xf32>, tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<2x3x8xf32>
  return %r : tensor<2x3x8xf32>
}

// -----

// A strided, padded, dilated, grouped convolution round-trips with its attributes.
// CHECK-LABEL: func.func @conv2d
// CHECK: "graph.conv2d"(%{{.*}}, %{{.*}}) {dilation = array<i64: 2, 1>, groups = 2 : i64, padding = array<i64: 1, 0, 2, 1>, strides = array<i64: 2, 1>} : (tensor<1x4x16x16xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x8x15xf32>
func.func @conv2d(%x: tensor<1x4x16x16xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x8x15xf32> {
  %0 = "graph.conv2d"(%x, %w) {strides = array<i64: 2, 1>, padding = array<i64: 1, 0, 2, 1>, dilation = array<i64: 2, 1>, groups = 2 : i64} : (tensor<1x4x16x16xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x8x15xf32>
  return %0 : tensor<1x6x8x15xf32>
}

// -----

// reshape and transpose round-trip.
// CHECK-LABEL: func.func @layout
// CHECK: %[[R:.*]] = "graph.reshape"(%{{.*}}) : (tensor<128x256xf32>) -> tensor<128x4x64xf32>
// CHECK: "graph.transpose"(%[[R]]) {permutation = array<i64: 1, 0, 2>} : (tensor<128x4x64xf32>) -> tensor<4x128x64xf32>
func.func @layout(%x: tensor<128x256xf32>) -> tensor<4x128x64xf32> {
  %0 = "graph.reshape"(%x) : (tensor<128x256xf32>) -> tensor<128x4x64xf32>
  %1 = "graph.transpose"(%0) {permutation = array<i64: 1, 0, 2>} : (tensor<128x4x64xf32>) -> tensor<4x128x64xf32>
  return %1 : tensor<4x128x64xf32>
}
