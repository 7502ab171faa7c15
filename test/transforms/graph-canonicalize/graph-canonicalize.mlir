// RUN: strata-opt %s --split-input-file --graph-canonicalize | FileCheck %s

// A transpose that only moves unit dimensions is a reshape; the reshape chain then merges.
// CHECK-LABEL: func.func @unit_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<1x128x256xf32>)
// CHECK-NEXT: %[[R:.*]] = "graph.reshape"(%[[X]]) : (tensor<1x128x256xf32>) -> tensor<128x256xf32>
// CHECK-NEXT: return %[[R]]
func.func @unit_transpose(%x: tensor<1x128x256xf32>) -> tensor<128x256xf32> {
  %0 = "graph.transpose"(%x) {permutation = array<i64: 1, 0, 2>} : (tensor<1x128x256xf32>) -> tensor<128x1x256xf32>
  %1 = "graph.reshape"(%0) : (tensor<128x1x256xf32>) -> tensor<128x256xf32>
  return %1 : tensor<128x256xf32>
}

// -----

// A transpose that reorders non-unit dimensions stays.
// CHECK-LABEL: func.func @real_transpose
// CHECK: "graph.transpose"(%{{.*}}) {permutation = array<i64: 1, 0, 2>}
func.func @real_transpose(%x: tensor<4x128x64xf32>) -> tensor<128x4x64xf32> {
  %0 = "graph.transpose"(%x) {permutation = array<i64: 1, 0, 2>} : (tensor<4x128x64xf32>) -> tensor<128x4x64xf32>
  return %0 : tensor<128x4x64xf32>
}

// -----

// Two transposes compose; composing to the identity leaves the input.
// CHECK-LABEL: func.func @transposes
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[T:.*]] = "graph.transpose"(%[[X]]) {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// CHECK-NEXT: return %[[T]], %[[X]]
func.func @transposes(%x: tensor<2x3x4xf32>) -> (tensor<4x2x3xf32>, tensor<2x3x4xf32>) {
  %0 = "graph.transpose"(%x) {permutation = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %1 = "graph.transpose"(%0) {permutation = array<i64: 2, 1, 0>} : (tensor<3x2x4xf32>) -> tensor<4x2x3xf32>
  %2 = "graph.transpose"(%x) {permutation = array<i64: 0, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x4x3xf32>
  %3 = "graph.transpose"(%2) {permutation = array<i64: 0, 2, 1>} : (tensor<2x4x3xf32>) -> tensor<2x3x4xf32>
  return %1, %3 : tensor<4x2x3xf32>, tensor<2x3x4xf32>
}

// -----

// A unary op after a view moves before it, next to the matmul whose group it can join.
// CHECK-LABEL: func.func @relu_before_view
// CHECK: %[[M:.*]] = "graph.matmul"
// CHECK-NEXT: %[[R:.*]] = "graph.relu"(%[[M]]) : (tensor<128x512xf32>) -> tensor<128x512xf32>
// CHECK-NEXT: %[[V:.*]] = "graph.reshape"(%[[R]]) : (tensor<128x512xf32>) -> tensor<1x128x512xf32>
// CHECK-NEXT: return %[[V]]
func.func @relu_before_view(%x: tensor<128x256xf32>, %w: tensor<256x512xf32>) -> tensor<1x128x512xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<128x256xf32>, tensor<256x512xf32>) -> tensor<128x512xf32>
  %1 = "graph.reshape"(%0) : (tensor<128x512xf32>) -> tensor<1x128x512xf32>
  %2 = "graph.relu"(%1) : (tensor<1x128x512xf32>) -> tensor<1x128x512xf32>
  return %2 : tensor<1x128x512xf32>
}

// -----

// A view with another user keeps the unary op after it.
// CHECK-LABEL: func.func @shared_view
// CHECK: %[[V:.*]] = "graph.reshape"
// CHECK-NEXT: "graph.gelu"(%[[V]]) {approximate = "tanh"}
func.func @shared_view(%x: tensor<4x6xf32>) -> (tensor<24xf32>, tensor<24xf32>) {
  %0 = "graph.reshape"(%x) : (tensor<4x6xf32>) -> tensor<24xf32>
  %1 = "graph.gelu"(%0) {approximate = "tanh"} : (tensor<24xf32>) -> tensor<24xf32>
  return %1, %0 : tensor<24xf32>, tensor<24xf32>
}

// -----

// Identity reshapes and transposes vanish.
// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]]
func.func @identities(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = "graph.reshape"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = "graph.transpose"(%0) {permutation = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// A reshape that only adds or drops unit dimensions of a transpose becomes a transpose of a
// reshape, and that reshape merges with the view before it: one reshape, one transpose.
// CHECK-LABEL: func.func @view_transpose_view
// CHECK-SAME: (%[[X:.*]]: tensor<6x4xf32>)
// CHECK-NEXT: %[[R:.*]] = "graph.reshape"(%[[X]]) : (tensor<6x4xf32>) -> tensor<2x3x4x1xf32>
// CHECK-NEXT: %[[T:.*]] = "graph.transpose"(%[[R]]) {permutation = array<i64: 3, 1, 0, 2>} : (tensor<2x3x4x1xf32>) -> tensor<1x3x2x4xf32>
// CHECK-NEXT: return %[[T]]
func.func @view_transpose_view(%x: tensor<6x4xf32>) -> tensor<1x3x2x4xf32> {
  %0 = "graph.reshape"(%x) : (tensor<6x4xf32>) -> tensor<2x3x4xf32>
  %1 = "graph.transpose"(%0) {permutation = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %2 = "graph.reshape"(%1) : (tensor<3x2x4xf32>) -> tensor<1x3x2x4xf32>
  return %2 : tensor<1x3x2x4xf32>
}

// -----

// A transpose with another user is not rewritten (that would add a copy).
// CHECK-LABEL: func.func @shared_transpose
// CHECK: %[[T:.*]] = "graph.transpose"
// CHECK-NEXT: %[[R:.*]] = "graph.reshape"(%[[T]])
func.func @shared_transpose(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<1x3x2xf32>) {
  %0 = "graph.transpose"(%x) {permutation = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %1 = "graph.reshape"(%0) : (tensor<3x2xf32>) -> tensor<1x3x2xf32>
  return %0, %1 : tensor<3x2xf32>, tensor<1x3x2xf32>
}
