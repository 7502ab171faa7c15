// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/gpu-bind.sched | FileCheck %s
// RUN: not strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/gpu-bind-reduction.sched 2>&1 | FileCheck %s --check-prefix=REDUCTION
// RUN: not strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/gpu-bind-axis.sched 2>&1 | FileCheck %s --check-prefix=AXIS
// RUN: not strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/gpu-bind-order.sched 2>&1 | FileCheck %s --check-prefix=ORDER
// RUN: not strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/gpu-bind-split.sched 2>&1 | FileCheck %s --check-prefix=SPLIT

// bind sets each loop's tprog.kind to its GPU axis: 8x8 threads per block tile, the reduction
// loop serial inside.
// CHECK-LABEL: func.func private @matmul
// CHECK: name = "matmul"
// CHECK-NEXT: } {tprog.loop = "k"}
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "j_1"}
// CHECK-NEXT: } {tprog.kind = "threadIdx.y", tprog.loop = "i_1"}
// CHECK-NEXT: } {tprog.kind = "blockIdx.x", tprog.loop = "j_0"}
// CHECK-NEXT: } {tprog.kind = "blockIdx.y", tprog.loop = "i_0"}

// Threads cannot share a reduction.
// REDUCTION: gpu-bind-reduction.sched:3:1: error: bind: loop 'k' carries a reduction variable of block 'matmul': threads cannot share a reduction

// Axes are checked by name.
// AXIS: gpu-bind-axis.sched:2:1: error: bind: loop 'i': unknown thread axis 'threadIdx.w'; expected one of blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z

// blockIdx loops enclose the threadIdx loops.
// ORDER: gpu-bind-order.sched:3:1: error: bind: loop 'j' is inside loop 'i' bound to threadIdx.x: blockIdx loops enclose the threadIdx loops

// Bound loops are not restructured any more.
// SPLIT: gpu-bind-split.sched:3:1: error: split: loop 'i' is bound to blockIdx.x; restructure loops before binding them
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
