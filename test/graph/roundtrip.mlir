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
