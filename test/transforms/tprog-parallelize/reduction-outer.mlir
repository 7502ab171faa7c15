// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/k-outer.sched --tprog-parallelize | FileCheck %s

// Under a reduction loop of several iterations nothing is made parallel: threads would start
// once per iteration of k (here a schedule moves k outermost).
// CHECK-LABEL: func.func private @matmul
// CHECK-NOT: tprog.kind = "parallel"
// CHECK: } {tprog.loop = "k"}
func.func @k_outer(%x: tensor<256x128xf32>, %w: tensor<128x256xf32>) -> tensor<256x256xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<256x128xf32>, tensor<128x256xf32>) -> tensor<256x256xf32>
  return %0 : tensor<256x256xf32>
}
