// RUN: strata-opt %s --split-input-file --graph-fold-constants | FileCheck %s

// A chain of ops on constants folds to one constant holding the result as a resource blob;
// the constants it consumed are erased.
// relu([1, -2, 3, -4] + 1) = [2, 0, 4, 0]
// CHECK-LABEL: func.func @chain
// CHECK-NEXT: %[[C:.*]] = "graph.constant"() {value = dense_resource<folded_relu> : tensor<4xf32>}
// CHECK-NEXT: return %[[C]]
// CHECK: folded_relu: "0x04000000000000400000000000008040
// CHECK-SAME: 00000000"
func.func @chain() -> tensor<4xf32> {
  %c = "graph.constant"() {value = dense<[1.0, -2.0, 3.0, -4.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %d = "graph.constant"() {value = dense<1.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %a = "graph.add"(%c, %d) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %r = "graph.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// An op with a non-constant operand is not folded, and its constant stays.
// CHECK-LABEL: func.func @not_constant
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK: %[[C:.*]] = "graph.constant"() {value = dense<2.000000e+00> : tensor<4xf32>}
// CHECK: %[[A:.*]] = "graph.add"(%[[X]], %[[C]])
// CHECK: return %[[A]]
func.func @not_constant(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = "graph.constant"() {value = dense<2.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %a = "graph.add"(%x, %c) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %a : tensor<4xf32>
}

// -----

// A constant weight's transpose folds; the matmul of the input stays and reads the new constant.
// transpose([[1, 2], [3, 4]]) = [[1, 3], [2, 4]]
// CHECK-LABEL: func.func @linear_weight
// CHECK-SAME: (%[[X:.*]]: tensor<3x2xf32>)
// CHECK-NOT: graph.transpose
// CHECK: %[[T:.*]] = "graph.constant"() {value = dense_resource<folded_transpose> : tensor<2x2xf32>}
// CHECK: "graph.matmul"(%[[X]], %[[T]])
// CHECK: folded_transpose: "0x040000000000803F000040400000004000008040"
func.func @linear_weight(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = "graph.constant"() {value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>} : () -> tensor<2x2xf32>
  %t = "graph.transpose"(%w) {permutation = array<i64: 1, 0>} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = "graph.matmul"(%x, %t) : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A constant used by a folded op and by an op that stays is kept for the latter.
// CHECK-LABEL: func.func @shared
// CHECK-SAME: (%[[X:.*]]: tensor<2xf32>)
// CHECK-DAG: %[[C:.*]] = "graph.constant"() {value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>}
// CHECK-DAG: %[[N:.*]] = "graph.constant"() {value = dense_resource<folded_neg> : tensor<2xf32>}
// CHECK: %[[A:.*]] = "graph.add"(%[[X]], %[[C]])
// CHECK: return %[[N]], %[[A]]
func.func @shared(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  %c = "graph.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %n = "graph.neg"(%c) : (tensor<2xf32>) -> tensor<2xf32>
  %a = "graph.add"(%x, %c) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %n, %a : tensor<2xf32>, tensor<2xf32>
}

// -----

// Integer operands and rank-0 results fold.
// gather([10, 20, 30], [2, 0]) = [30, 10]; 2 * 3 = 6
// CHECK-LABEL: func.func @types
// CHECK-DAG: "graph.constant"() {value = dense_resource<folded_gather> : tensor<2xf32>} : () -> tensor<2xf32>
// CHECK-DAG: "graph.constant"() {value = dense_resource<folded_mul> : tensor<f32>} : () -> tensor<f32>
// CHECK-NOT: "graph.gather"
// CHECK-NOT: "graph.mul"
// CHECK-DAG: folded_gather: "0x040000000000F04100002041"
// CHECK-DAG: folded_mul: "0x040000000000C040"
func.func @types() -> (tensor<2xf32>, tensor<f32>) {
  %t = "graph.constant"() {value = dense<[10.0, 20.0, 30.0]> : tensor<3xf32>} : () -> tensor<3xf32>
  %i = "graph.constant"() {value = dense<[2, 0]> : tensor<2xi64>} : () -> tensor<2xi64>
  %g = "graph.gather"(%t, %i) {axis = 0 : i64} : (tensor<3xf32>, tensor<2xi64>) -> tensor<2xf32>
  %x = "graph.constant"() {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
  %y = "graph.constant"() {value = dense<3.0> : tensor<f32>} : () -> tensor<f32>
  %p = "graph.mul"(%x, %y) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %g, %p : tensor<2xf32>, tensor<f32>
}

// -----

// A result larger than max-bytes (default 16 MiB) is not materialised: broadcasting a scalar
// to 2048 x 4096 f32 (32 MiB) stays an op.
// CHECK-LABEL: func.func @too_large
// CHECK: %[[S:.*]] = "graph.constant"
// CHECK: "graph.broadcast_to"(%[[S]])
func.func @too_large() -> tensor<2048x4096xf32> {
  %s = "graph.constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
  %b = "graph.broadcast_to"(%s) : (tensor<f32>) -> tensor<2048x4096xf32>
  return %b : tensor<2048x4096xf32>
}

// -----

// bf16 has no numpy type: its ops are not folded.
// CHECK-LABEL: func.func @bf16
// CHECK: "graph.add"
func.func @bf16() -> tensor<2xbf16> {
  %a = "graph.constant"() {value = dense<1.0> : tensor<2xbf16>} : () -> tensor<2xbf16>
  %s = "graph.add"(%a, %a) : (tensor<2xbf16>, tensor<2xbf16>) -> tensor<2xbf16>
  return %s : tensor<2xbf16>
}

// -----

// Ops inside fused subgraphs fold too.
// CHECK-LABEL: func.func private @fused_exp_relu
// CHECK-SAME: (%[[X:.*]]: tensor<2xf32>)
// CHECK-DAG: %[[C:.*]] = "graph.constant"() {value = dense_resource<folded_exp> : tensor<2xf32>}
// CHECK-DAG: "graph.add"(%[[X]], %[[C]])
func.func private @fused_exp_relu(%x: tensor<2xf32>) -> tensor<2xf32> attributes {graph.fused} {
  %c = "graph.constant"() {value = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %e = "graph.exp"(%c) : (tensor<2xf32>) -> tensor<2xf32>
  %a = "graph.add"(%x, %e) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %a : tensor<2xf32>
}
