// RUN: strata-opt %s --split-input-file --graph-verify | FileCheck %s
// RUN: strata-opt %s --split-input-file --no-verify --graph-verify | FileCheck %s

// Well-typed graph ops pass through unchanged.
// CHECK-LABEL: func.func @valid
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>, %[[W:.*]]: tensor<4x3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[M:.*]] = "graph.matmul"(%[[X]], %[[W]])
// CHECK: %[[A:.*]] = "graph.add"(%[[M]], %[[B]])
// CHECK: %[[R:.*]] = "graph.relu"(%[[A]])
// CHECK: return %[[R]]
func.func @valid(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %m = "graph.matmul"(%x, %w) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %a = "graph.add"(%m, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %r = "graph.relu"(%a) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// Graph ops inside fused subgraphs are verified too.
// CHECK-LABEL: func.func private @fused
// CHECK: "graph.relu"
func.func private @fused(%x: tensor<3xf16>) -> tensor<3xf16> attributes {graph.fused} {
  %r = "graph.relu"(%x) : (tensor<3xf16>) -> tensor<3xf16>
  return %r : tensor<3xf16>
}
