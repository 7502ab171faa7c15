// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/gpu-cache.sched | FileCheck %s
// RUN: not strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/gpu-cache-thread.sched 2>&1 | FileCheck %s --check-prefix=THREAD
// RUN: not strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/gpu-cache-scope.sched 2>&1 | FileCheck %s --check-prefix=SCOPE

// cache_write local: each of the 4x4 threads accumulates its 4x4 micro-tile in a register
// buffer whose leading dimensions are the threads'; a write-back nest with the same thread
// loops follows the reduction. cache_read shared + compute_at at k_0: the 8x16 tile of the
// weights one k step reads, in shared memory, filled by all 16 threads between two barriers.
// CHECK-LABEL: func.func private @matmul
// CHECK-SAME: %{{.*}}: memref<16x64xf32>, %[[W:.*]]: memref<64x32xf32>, %[[OUT:.*]]: memref<16x32xf32>
// CHECK: %[[TILE:.*]] = memref.alloc() : memref<8x16xf32, #gpu.address_space<workgroup>>
// CHECK: %[[ACC:.*]] = memref.alloca() {tprog.thread_dims = ["threadIdx.y", "threadIdx.x"]} : memref<4x4x4x4xf32>
// CHECK: scf.for
// CHECK-NEXT: gpu.barrier
// CHECK: %[[V:.*]] = memref.load %[[W]]
// CHECK: memref.store %[[V]], %[[TILE]]
// CHECK: name = "matmul_read_cache_1"
// CHECK: tprog.kind = "threadIdx.x"
// CHECK: tprog.kind = "threadIdx.y"
// CHECK: gpu.barrier
// CHECK: memref.load %[[TILE]]
// CHECK: memref.store %{{.*}}, %[[ACC]]
// CHECK: name = "matmul"
// CHECK: } {tprog.loop = "k_0"}
// CHECK: %[[S:.*]] = memref.load %[[ACC]]
// CHECK: memref.store %[[S]], %[[OUT]]
// CHECK: name = "matmul_write_cache_0"
// CHECK: tprog.kind = "threadIdx.x", tprog.loop = "j_1_wb"
// CHECK: tprog.kind = "threadIdx.y", tprog.loop = "i_1_wb"

// A shared tile is filled by the whole thread block: not under a threadIdx loop.
// THREAD: gpu-cache-thread.sched:6:1: error: compute_at: shared cache 'matmul_read_cache_1' is filled by the whole thread block: compute it at a loop outside loop 'i_1' bound to threadIdx.x

// Scopes are checked by name.
// SCOPE: gpu-cache-scope.sched:2:1: error: cache_read: unknown scope 'local'; expected one of global, shared
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
