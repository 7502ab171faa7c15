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

// A reshape reads the input at the row-major position of each output element.
// CHECK-LABEL: func.func private @reshape
// CHECK: arith.muli
// CHECK: arith.divui
// CHECK: arith.remui
// CHECK: name = "reshape"
func.func @r(%x: tensor<2x6xf32>) -> tensor<3x4xf32> {
  %0 = "graph.reshape"(%x) : (tensor<2x6xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
