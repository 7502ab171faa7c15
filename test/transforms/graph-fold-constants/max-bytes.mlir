// RUN: strata-opt %s --graph-fold-constants=max-bytes=8 | FileCheck %s

// max-bytes bounds each folded result: 2 x f32 (8 bytes) folds, 4 x f32 (16 bytes) does not.
// CHECK-LABEL: func.func @limit
// CHECK-DAG: "graph.constant"() {value = dense_resource<folded_neg> : tensor<2xf32>}
// CHECK-DAG: "graph.neg"(%{{.*}}) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NOT: "graph.neg"(%{{.*}}) : (tensor<2xf32>)
func.func @limit() -> (tensor<2xf32>, tensor<4xf32>) {
  %a = "graph.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %b = "graph.constant"() {value = dense<1.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %na = "graph.neg"(%a) : (tensor<2xf32>) -> tensor<2xf32>
  %nb = "graph.neg"(%b) : (tensor<4xf32>) -> tensor<4xf32>
  return %na, %nb : tensor<2xf32>, tensor<4xf32>
}
