// RUN: not strata-opt %s --split-input-file --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/tensorize-mismatch.sched 2>&1 | FileCheck %s --check-prefix=TYPES
// RUN: not strata-opt %s --split-input-file --graph-fuse-ops --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/tensorize-relu.sched 2>&1 | FileCheck %s --check-prefix=SHAPE

// tensorize refuses a block that does not match the primitive's description, at the trace line.
// TYPES: {{.*}}tensorize-mismatch.sched:2:1: error: tensorize: block 'matmul' computes f32 but dot_i8 (hwprim.dot_i8_microkernel) takes i8 x i8 into i32; use intrinsic='fma_f32'
// SHAPE: {{.*}}tensorize-relu.sched:2:1: error: tensorize: block 'relu' does not match fma_f32 (hwprim.fma_microkernel, C[i, j] += A[i, k] * B[k, j] from C = 0): its iterators are not spatial ones followed by one reduction (i, j, k)
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  %1 = "graph.relu"(%0) : (tensor<16x32xf32>) -> tensor<16x32xf32>
  return %1 : tensor<16x32xf32>
}
