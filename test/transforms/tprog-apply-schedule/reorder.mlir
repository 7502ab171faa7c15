// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/reorder.sched | FileCheck %s

// reorder("k", "i") swaps the outermost and innermost loops; j stays between them and the block
// still gets (i, j, k).
// CHECK-LABEL: func.func private @matmul
// CHECK: scf.for %[[K:[a-z0-9_]+]] = %{{.*}} to %c64{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[J:[a-z0-9_]+]] = %{{.*}} to %c32{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[I:[a-z0-9_]+]] = %{{.*}} to %c16{{(_[0-9]+)?}} step
// CHECK-NEXT: "tprog.block"(%[[I]], %[[J]], %[[K]])
// CHECK: } {tprog.loop = "i"}
// CHECK-NEXT: } {tprog.loop = "j"}
// CHECK-NEXT: } {tprog.loop = "k"}
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
