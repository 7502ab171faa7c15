// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog | FileCheck %s

// Weights become arith.constant with the same value attribute.
// CHECK-LABEL: func.func @weight
// CHECK: arith.constant dense_resource<{{.*}}> : tensor<2xf32>
func.func @weight() -> tensor<2xf32> {
  %0 = "graph.constant"() {value = dense_resource<w> : tensor<2xf32>} : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
{-#
  dialect_resources: { builtin: { w: "0x040000000000803F00000040" } }
#-}

// -----

// A rank-0 resource becomes a dense scalar (upstream finalize-memref-to-llvm aborts on a rank-0
// resource global).
// CHECK-LABEL: func.func @scalar
// CHECK: arith.constant dense<2.000000e+00> : tensor<f32>
func.func @scalar() -> tensor<f32> {
  %0 = "graph.constant"() {value = dense_resource<s> : tensor<f32>} : () -> tensor<f32>
  return %0 : tensor<f32>
}
{-#
  dialect_resources: { builtin: { s: "0x0400000000000040" } }
#-}
