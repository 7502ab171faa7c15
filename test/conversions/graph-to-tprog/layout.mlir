// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog | FileCheck %s

// A transpose is a copy block reading the input at the permuted index.
// CHECK-LABEL: func.func private @transpose
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: memref<2x3x4xf32>, %[[OUT:[a-z0-9_]+]]: memref<3x2x4xf32>)
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[I:.*]]: index, %[[J:.*]]: index, %[[K:.*]]: index):
// CHECK-NEXT: %[[V:.*]] = memref.load %[[X]][%[[J]], %[[I]], %[[K]]]
// CHECK-NEXT: memref.store %[[V]], %[[OUT]][%[[I]], %[[J]], %[[K]]]
// CHECK: name = "transpose"
func.func @t(%x: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  %0 = "graph.transpose"(%x) {permutation = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return %0 : tensor<3x2x4xf32>
}

// -----

// A reshape in graph-level code is a view: collapse to one dimension, expand to the new shape
// (both bufferize to views of the same buffer); no tensor program is made.
// CHECK-LABEL: func.func @r
// CHECK-SAME: (%[[X:.*]]: tensor<2x6xf32>)
// CHECK-NEXT: %[[F:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1]] : tensor<2x6xf32> into tensor<12xf32>
// CHECK-NEXT: %[[R:.*]] = tensor.expand_shape %[[F]] {{\[}}[0, 1]] output_shape [3, 4] : tensor<12xf32> into tensor<3x4xf32>
// CHECK-NEXT: return %[[R]]
// CHECK-NOT: prim_func
func.func @r(%x: tensor<2x6xf32>) -> tensor<3x4xf32> {
  %0 = "graph.reshape"(%x) : (tensor<2x6xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// Inside a fused subgraph a reshape is a copy block reading the input at the row-major
// position of each output element.
// CHECK-LABEL: func.func private @fused_reshape_relu
// CHECK: arith.muli
// CHECK: arith.divui
// CHECK: arith.remui
// CHECK: name = "reshape"
// CHECK: name = "relu"
func.func @r2(%x: tensor<2x6xf32>) -> tensor<3x4xf32> {
  %0 = call @fused_reshape_relu(%x) : (tensor<2x6xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
func.func private @fused_reshape_relu(%x: tensor<2x6xf32>) -> tensor<3x4xf32> attributes {graph.fused} {
  %0 = "graph.reshape"(%x) : (tensor<2x6xf32>) -> tensor<3x4xf32>
  %1 = "graph.relu"(%0) : (tensor<3x4xf32>) -> tensor<3x4xf32>
  return %1 : tensor<3x4xf32>
}
