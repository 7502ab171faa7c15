// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/sample-perfect-tile.sched | FileCheck %s

// A recorded decision [4, 8] of sample_perfect_tile on j (32) is replayed and feeds the split.
// CHECK: #[[MAP:.*]] = affine_map<(d0, d1) -> (d0 * 8 + d1)>
// CHECK-LABEL: func.func private @matmul
// CHECK: scf.for %[[I:[a-z0-9_]+]] = %{{.*}} to %c16{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[J0:[a-z0-9_]+]] = %{{.*}} to %c4{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[J1:[a-z0-9_]+]] = %{{.*}} to %c8{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[K:[a-z0-9_]+]] = %{{.*}} to %c64{{(_[0-9]+)?}} step
// CHECK-NEXT: %[[J:.*]] = affine.apply #[[MAP]](%[[J0]], %[[J1]])
// CHECK-NEXT: "tprog.block"(%[[I]], %[[J]], %[[K]])
// CHECK: } {tprog.loop = "k"}
// CHECK-NEXT: } {tprog.loop = "j_1"}
// CHECK-NEXT: } {tprog.loop = "j_0"}
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
