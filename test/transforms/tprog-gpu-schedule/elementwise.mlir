// RUN: strata-opt %s --split-input-file --graph-fuse-ops --convert-graph-to-tprog --tprog-gpu-schedule | FileCheck %s
// RUN: strata-opt %s --split-input-file --graph-fuse-ops --convert-graph-to-tprog --tprog-gpu-schedule=max-threads=64 | FileCheck %s --check-prefix=T64

// An elementwise chain becomes one kernel: add is inlined into relu (no temporary), whose loops
// are fused and split by 256 threads per block: 118 blocks cover the 30000 elements, the tail
// of the last one guarded by the block's domain.
// CHECK-LABEL: func.func private @fused_add_relu
// CHECK-NOT: memref.alloc
// CHECK: memref.load
// CHECK: memref.load
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: name = "relu"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "i0_1_i1_1_fused_1"}
// CHECK-NEXT: } {tprog.kind = "blockIdx.x", tprog.loop = "i0_1_i1_1_fused_0"}
// CHECK-NEXT: return
// T64-LABEL: func.func private @fused_add_relu
// T64: scf.for %{{.*}} = %{{.*}} to %c469
// T64: scf.for %{{.*}} = %{{.*}} to %c64
func.func @ew(%x: tensor<300x100xf32>, %y: tensor<100xf32>) -> tensor<300x100xf32> {
  %0 = "graph.add"(%x, %y) : (tensor<300x100xf32>, tensor<100xf32>) -> tensor<300x100xf32>
  %1 = "graph.relu"(%0) : (tensor<300x100xf32>) -> tensor<300x100xf32>
  return %1 : tensor<300x100xf32>
}

// -----

// A transpose (a layout copy) is elementwise too.
// CHECK-LABEL: func.func private @transpose
// CHECK: name = "transpose"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "i0_i1_fused_1"}
// CHECK-NEXT: } {tprog.kind = "blockIdx.x", tprog.loop = "i0_i1_fused_0"}
func.func @tr(%x: tensor<30x20xf32>) -> tensor<20x30xf32> {
  %0 = "graph.transpose"(%x) {permutation = array<i64: 1, 0>} : (tensor<30x20xf32>) -> tensor<20x30xf32>
  return %0 : tensor<20x30xf32>
}
