// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/parallel.sched | FileCheck %s

// parallel("i") marks the spatial loop i; the other loops stay serial.
// CHECK-LABEL: func.func private @matmul
// CHECK: } {tprog.loop = "k"}
// CHECK-NEXT: } {tprog.loop = "j"}
// CHECK-NEXT: } {tprog.kind = "parallel", tprog.loop = "i"}
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
