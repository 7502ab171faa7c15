// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/fuse.sched | FileCheck %s

// fuse("i", "j") makes one loop of 16 * 32 iterations; i and j are its quotient and remainder by 32.
// CHECK-DAG: #[[DIV:.*]] = affine_map<(d0) -> (d0 floordiv 32)>
// CHECK-DAG: #[[MOD:.*]] = affine_map<(d0) -> (d0 mod 32)>
// CHECK-LABEL: func.func private @matmul
// CHECK: scf.for %[[F:[a-z0-9_]+]] = %{{.*}} to %c512{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[K:[a-z0-9_]+]] = %{{.*}} to %c64{{(_[0-9]+)?}} step
// CHECK-NEXT: %[[I:.*]] = affine.apply #[[DIV]](%[[F]])
// CHECK-NEXT: %[[J:.*]] = affine.apply #[[MOD]](%[[F]])
// CHECK-NEXT: "tprog.block"(%[[I]], %[[J]], %[[K]])
// CHECK: } {tprog.loop = "k"}
// CHECK-NEXT: } {tprog.loop = "i_j_fused"}
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
