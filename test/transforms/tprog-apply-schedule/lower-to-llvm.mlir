// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/kinds.sched --strata-lower-to-llvm | FileCheck %s

// A scheduled program (split, reorder, decompose_reduction, vectorize, unroll, parallel) lowers to
// the LLVM dialect: the parallel loop becomes OpenMP, the annotations ride on the loop latches.
// CHECK-DAG: #[[VECA:.*]] = #llvm.loop_annotation<vectorize = #{{.*}}>
// CHECK-DAG: #[[UNRA:.*]] = #llvm.loop_annotation<unroll = #{{.*}}>
// CHECK: llvm.func @mm(
// CHECK: llvm.func @matmul(
// CHECK-NOT: tprog.block
// CHECK-NOT: scf.
// CHECK: omp.parallel
// CHECK: omp.wsloop
// CHECK: llvm.br {{.*}} {llvm.loop_annotation = #[[VECA]]}
// CHECK: llvm.br {{.*}} {llvm.loop_annotation = #[[UNRA]]}
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
