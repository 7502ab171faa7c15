// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/blockize.sched | FileCheck %s

// blockize("i_1"): the nest from i_1 down, with the matmul block, becomes the body of an outer
// block over i_0 (one variable per 4-row tile).
// CHECK-LABEL: func.func private @matmul
// CHECK: scf.for %[[I0:[a-z0-9_]+]] =
// CHECK-NEXT: "tprog.block"(%[[I0]]) ({
// CHECK: scf.for
// CHECK: name = "matmul"}
// CHECK: } {tprog.loop = "i_1"}
// CHECK: {dom = array<i64: 4>, iter_types = ["spatial"], name = "matmul_o"}
// CHECK-NEXT: } {tprog.loop = "i_0"}
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
