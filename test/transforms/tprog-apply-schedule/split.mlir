// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/split.sched | FileCheck %s
// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/split3.sched | FileCheck %s --check-prefix=THREE

// split of i (16) by [None, 8]: i_0 (2) outside i_1 (8) in place of i, bound as i_0 * 8 + i_1.
// CHECK: #[[MAP:.*]] = affine_map<(d0, d1) -> (d0 * 8 + d1)>
// CHECK-LABEL: func.func private @matmul
// CHECK: scf.for %[[I0:[a-z0-9_]+]] = %{{.*}} to %c2{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[I1:[a-z0-9_]+]] = %{{.*}} to %c8{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[J:[a-z0-9_]+]] = %{{.*}} to %c32{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[K:[a-z0-9_]+]] = %{{.*}} to %c64{{(_[0-9]+)?}} step
// CHECK-NEXT: %[[I:.*]] = affine.apply #[[MAP]](%[[I0]], %[[I1]])
// CHECK-NEXT: "tprog.block"(%[[I]], %[[J]], %[[K]])
// CHECK: } {tprog.loop = "k"}
// CHECK-NEXT: } {tprog.loop = "j"}
// CHECK-NEXT: } {tprog.loop = "i_1"}
// CHECK-NEXT: } {tprog.loop = "i_0"}

// A 3-way split of k (64) by [2, None, 4] infers 8 and binds k as k_0 * 32 + k_1 * 4 + k_2.
// THREE: #[[MAP:.*]] = affine_map<(d0, d1, d2) -> (d0 * 32 + d1 * 4 + d2)>
// THREE-LABEL: func.func private @matmul
// THREE: scf.for %[[I:[a-z0-9_]+]] = %{{.*}} to %c16{{(_[0-9]+)?}} step
// THREE-NEXT: scf.for %[[J:[a-z0-9_]+]] = %{{.*}} to %c32{{(_[0-9]+)?}} step
// THREE-NEXT: scf.for %[[K0:[a-z0-9_]+]] = %{{.*}} to %c2{{(_[0-9]+)?}} step
// THREE-NEXT: scf.for %[[K1:[a-z0-9_]+]] = %{{.*}} to %c8{{(_[0-9]+)?}} step
// THREE-NEXT: scf.for %[[K2:[a-z0-9_]+]] = %{{.*}} to %c4{{(_[0-9]+)?}} step
// THREE-NEXT: %[[K:.*]] = affine.apply #[[MAP]](%[[K0]], %[[K1]], %[[K2]])
// THREE-NEXT: "tprog.block"(%[[I]], %[[J]], %[[K]])
// THREE: } {tprog.loop = "k_2"}
// THREE-NEXT: } {tprog.loop = "k_1"}
// THREE-NEXT: } {tprog.loop = "k_0"}
// THREE-NEXT: } {tprog.loop = "j"}
// THREE-NEXT: } {tprog.loop = "i"}
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
