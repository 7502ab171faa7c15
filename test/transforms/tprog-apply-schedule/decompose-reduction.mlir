// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/decompose-reduction.sched | FileCheck %s

// decompose_reduction at k moves the init into block matmul_init, before k, under a copy of the
// spatial loop i_1 inside k; the matmul block keeps only its body.
// CHECK: #[[MAP:.*]] = affine_map<(d0, d1) -> (d0 * 8 + d1)>
// CHECK-LABEL: func.func private @matmul
// CHECK-SAME: %[[OUT:[a-z0-9_]+]]: memref<16x32xf32>)
// CHECK: scf.for %[[I0:[a-z0-9_]+]] = %{{.*}} to %c2{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[J:[a-z0-9_]+]] = %{{.*}} to %c32{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[I1I:[a-z0-9_]+]] = %{{.*}} to %c8{{(_[0-9]+)?}} step
// CHECK-NEXT: %[[II:.*]] = affine.apply #[[MAP]](%[[I0]], %[[I1I]])
// CHECK-NEXT: "tprog.block"(%[[II]], %[[J]]) ({
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: omp.terminator
// CHECK-NEXT: }, {
// CHECK-NEXT: ^bb0(%[[A:.*]]: index, %[[B:.*]]: index):
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: memref.store %[[ZERO]], %[[OUT]][%[[A]], %[[B]]]
// CHECK: iter_types = ["spatial", "spatial"], name = "matmul_init"
// CHECK-NEXT: } {tprog.loop = "i_1_init"}
// CHECK-NEXT: scf.for %[[K:[a-z0-9_]+]] = %{{.*}} to %c64{{(_[0-9]+)?}} step
// CHECK-NEXT: scf.for %[[I1:[a-z0-9_]+]] = %{{.*}} to %c8{{(_[0-9]+)?}} step
// CHECK-NEXT: %[[I:.*]] = affine.apply #[[MAP]](%[[I0]], %[[I1]])
// CHECK-NEXT: "tprog.block"(%[[I]], %[[J]], %[[K]]) ({
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: omp.terminator
// CHECK-NEXT: }, {
// CHECK: name = "matmul"}
// CHECK-NEXT: } {tprog.loop = "i_1"}
// CHECK-NEXT: } {tprog.loop = "k"}
// CHECK-NEXT: } {tprog.loop = "j"}
// CHECK-NEXT: } {tprog.loop = "i_0"}
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
