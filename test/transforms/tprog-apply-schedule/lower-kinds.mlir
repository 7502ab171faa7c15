// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/kinds.sched --convert-tprog-to-scf | FileCheck %s
// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/non-divisible.sched --convert-tprog-to-scf | FileCheck %s --check-prefix=GUARD

// Loop kinds become upstream forms: parallel i_0 an scf.forall, vectorized i_1 and unrolled k
// LLVM loop annotations.
// CHECK-DAG: #[[VEC:.*]] = #llvm.loop_vectorize<disable = false>
// CHECK-DAG: #[[UNR:.*]] = #llvm.loop_unroll<full = true>
// CHECK-DAG: #[[VECA:.*]] = #llvm.loop_annotation<vectorize = #[[VEC]]>
// CHECK-DAG: #[[UNRA:.*]] = #llvm.loop_annotation<unroll = #[[UNR]]>
// CHECK-LABEL: func.func private @matmul
// CHECK-NOT: tprog.block
// CHECK: scf.forall (%{{.*}}) in (%c2{{(_[0-9]+)?}}) {
// CHECK-NOT: tprog.kind
// CHECK: } {llvm.loop_annotation = #[[VECA]], tprog.loop = "i_1"}
// CHECK-NEXT: } {llvm.loop_annotation = #[[UNRA]], tprog.loop = "k"}
// CHECK-NEXT: } {tprog.loop = "j"}
// CHECK-NEXT: } {tprog.loop = "i_0"}

// A split of i (16) by [None, 5] covers 20 iterations: the block runs under i < 16.
// GUARD: #[[MAP:.*]] = affine_map<(d0, d1) -> (d0 * 5 + d1)>
// GUARD-LABEL: func.func private @matmul
// GUARD: scf.for %[[I0:[a-z0-9_]+]] = %{{.*}} to %c4{{(_[0-9]+)?}} step
// GUARD-NEXT: scf.for %[[I1:[a-z0-9_]+]] = %{{.*}} to %c5{{(_[0-9]+)?}} step
// GUARD: %[[I:.*]] = affine.apply #[[MAP]](%[[I0]], %[[I1]])
// GUARD-NEXT: %[[N:.*]] = arith.constant 16 : index
// GUARD-NEXT: %[[IN:.*]] = arith.cmpi ult, %[[I]], %[[N]] : index
// GUARD-NEXT: scf.if %[[IN]] {
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
