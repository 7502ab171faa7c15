// The graph IRDL file loads in upstream mlir-opt, and graph ops round-trip there.
// RUN: mlir-opt --irdl-file=%strata_dialects/graph.irdl.mlir %s | mlir-opt --irdl-file=%strata_dialects/graph.irdl.mlir | FileCheck %s

// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>, %[[W:.*]]: tensor<4x3xf32>)
// CHECK: %[[B:.*]] = "graph.constant"() {value = dense<1.000000e+00> : tensor<3xf32>} : () -> tensor<3xf32>
// CHECK: %[[M:.*]] = "graph.matmul"(%[[X]], %[[W]]) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[A:.*]] = "graph.add"(%[[M]], %[[B]])
// CHECK: "graph.relu"(%[[A]])
func.func @mlp(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>) -> tensor<2x3xf32> {
  %b = "graph.constant"() {value = dense<1.0> : tensor<3xf32>} : () -> tensor<3xf32>
  %m = "graph.matmul"(%x, %w) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %a = "graph.add"(%m, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %r = "graph.relu"(%a) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}
