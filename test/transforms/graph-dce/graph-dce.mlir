// RUN: strata-opt %s --split-input-file --graph-dce | FileCheck %s

// Graph ops whose results are unused are erased, transitively.
// CHECK-LABEL: func.func @dead_chain
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %{{.*}}: tensor<4x4xf32>)
// CHECK-NOT: graph.
// CHECK: return %[[X]]
func.func @dead_chain(%x: tensor<4xf32>, %w: tensor<4x4xf32>) -> tensor<4xf32> {
  %m = "graph.matmul"(%w, %x) : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %a = "graph.add"(%m, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %r = "graph.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %x : tensor<4xf32>
}

// -----

// Ops that feed the result are kept; an unused constant is erased.
// CHECK-LABEL: func.func @live
// CHECK-NOT: graph.constant
// CHECK: %[[R:.*]] = "graph.relu"
// CHECK-NEXT: return %[[R]]
func.func @live(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = "graph.constant"() {value = dense<1.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// An unused call of a fused subgraph is erased, and then the uncalled subgraph itself.
// CHECK-LABEL: func.func @dead_call
// CHECK-NOT: call
// CHECK: return
// CHECK-NOT: @fused_add_relu
func.func @dead_call(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = func.call @fused_add_relu(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %x : tensor<4xf32>
}
func.func private @fused_add_relu(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> attributes {graph.fused} {
  %s = "graph.add"(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %r = "graph.relu"(%s) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// A called fused subgraph is kept, and so is an unused call of an ordinary function.
// CHECK-LABEL: func.func @live_call
// CHECK: call @opaque
// CHECK: %[[R:.*]] = call @fused_relu
// CHECK: return %[[R]]
// CHECK-LABEL: func.func private @opaque
// CHECK-LABEL: func.func private @fused_relu
// CHECK: "graph.relu"
func.func @live_call(%x: tensor<4xf32>) -> tensor<4xf32> {
  %u = func.call @opaque(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %r = func.call @fused_relu(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func private @opaque(tensor<4xf32>) -> tensor<4xf32>
func.func private @fused_relu(%x: tensor<4xf32>) -> tensor<4xf32> attributes {graph.fused} {
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
