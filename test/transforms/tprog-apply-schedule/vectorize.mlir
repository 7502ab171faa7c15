// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/vectorize.sched | FileCheck %s

// vectorize("j") marks the spatial loop j once reorder made it innermost.
// CHECK-LABEL: func.func private @matmul
// CHECK: scf.for %[[I:[a-z0-9_]+]] =
// CHECK-NEXT: scf.for %[[K:[a-z0-9_]+]] =
// CHECK-NEXT: scf.for %[[J:[a-z0-9_]+]] =
// CHECK-NEXT: "tprog.block"(%[[I]], %[[J]], %[[K]])
// CHECK: } {tprog.kind = "vectorized", tprog.loop = "j"}
// CHECK-NEXT: } {tprog.loop = "k"}
// CHECK-NEXT: } {tprog.loop = "i"}
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
