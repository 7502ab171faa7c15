// RUN: strata-opt %s --split-input-file --graph-cse | FileCheck %s

// Two ops with the same name, operands, attributes and result type merge into the first.
// CHECK-LABEL: func.func @same_ops
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>)
// CHECK: %[[A:.*]] = "graph.add"(%[[X]], %[[Y]])
// CHECK-NOT: "graph.add"
// CHECK: %[[R:.*]] = "graph.relu"(%[[A]])
// CHECK-NOT: "graph.relu"
// CHECK: return %[[R]], %[[R]]
func.func @same_ops(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %a = "graph.add"(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = "graph.add"(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %r = "graph.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  %s = "graph.relu"(%b) : (tensor<4xf32>) -> tensor<4xf32>
  return %r, %s : tensor<4xf32>, tensor<4xf32>
}

// -----

// Different operands, operand order or attributes keep ops apart.
// CHECK-LABEL: func.func @different
// CHECK-COUNT-2: "graph.sub"
// CHECK-COUNT-2: "graph.softmax"
func.func @different(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %a = "graph.sub"(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = "graph.sub"(%y, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %c = "graph.softmax"(%x) {axis = 0 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  %d = "graph.softmax"(%x) {axis = -1 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %a, %b, %c, %d : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Constants with equal data merge, whatever their attribute's form; then their users do.
// CHECK-LABEL: func.func @duplicated_weights
// CHECK-SAME: (%[[X:.*]]: tensor<2xf32>)
// CHECK: %[[C:.*]] = "graph.constant"() {value = dense<[1.000000e+00, 2.000000e+00]>
// CHECK-NOT: "graph.constant"
// CHECK: %[[A:.*]] = "graph.add"(%[[X]], %[[C]])
// CHECK-NOT: "graph.add"
// CHECK: return %[[A]], %[[A]], %[[C]]
module {
func.func @duplicated_weights(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %c = "graph.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %d = "graph.constant"() {value = dense_resource<w> : tensor<2xf32>} : () -> tensor<2xf32>
  %e = "graph.constant"() {value = dense_resource<w_copy> : tensor<2xf32>} : () -> tensor<2xf32>
  %a = "graph.add"(%x, %c) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %b = "graph.add"(%x, %d) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %a, %b, %e : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F00000040",
      w_copy: "0x040000000000803F00000040"
    }
  }
#-}

// -----

// Constants that differ in one element, or only in type, stay apart.
// CHECK-LABEL: func.func @different_constants
// CHECK-COUNT-3: "graph.constant"
module {
func.func @different_constants() -> (tensor<2xf32>, tensor<2xf32>, tensor<1x2xf32>) {
  %c = "graph.constant"() {value = dense_resource<a> : tensor<2xf32>} : () -> tensor<2xf32>
  %d = "graph.constant"() {value = dense_resource<b> : tensor<2xf32>} : () -> tensor<2xf32>
  %e = "graph.constant"() {value = dense<[[1.0, 2.0]]> : tensor<1x2xf32>} : () -> tensor<1x2xf32>
  return %c, %d, %e : tensor<2xf32>, tensor<2xf32>, tensor<1x2xf32>
}
}
{-#
  dialect_resources: {
    builtin: {
      a: "0x040000000000803F00000040",
      b: "0x040000000000803F00004040"
    }
  }
#-}

// -----

// Calls of the same fused subgraph on the same operands merge; ordinary calls do not.
// CHECK-LABEL: func.func @calls
// CHECK: %[[A:.*]] = call @fused_relu
// CHECK-NOT: call @fused_relu
// CHECK-COUNT-2: call @opaque
// CHECK: return %[[A]], %[[A]]
func.func @calls(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %a = func.call @fused_relu(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %b = func.call @fused_relu(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %c = func.call @opaque(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %d = func.call @opaque(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %a, %b, %c, %d : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
func.func private @opaque(tensor<4xf32>) -> tensor<4xf32>
func.func private @fused_relu(%x: tensor<4xf32>) -> tensor<4xf32> attributes {graph.fused} {
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Ops in different functions never merge.
// CHECK-LABEL: func.func @f
// CHECK: "graph.relu"
// CHECK-LABEL: func.func @g
// CHECK: "graph.relu"
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func @g(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = "graph.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
