// RUN: strata-opt %s --split-input-file --graph-fuse-ops --convert-graph-to-tprog --tprog-gpu-schedule | FileCheck %s

// softmax over rows of 100 (>= 64): one kernel, a thread block per row (blockIdx.x) of 64
// threads. Each reduction: rfactor over the threads (partials in a register, written to shared
// memory), a tree of log2(64) steps with a barrier after each but the last (thread 0 runs it
// and the final combination), then a barrier before anyone reads the result. exp and divide
// stride the row over the same threads; merge puts a barrier between the merged nests.
// CHECK-LABEL: func.func private @softmax
// CHECK-NOT: memref<4x64xf32>
// CHECK: scf.for
// CHECK-NEXT: %[[MAX:.*]] = memref.alloc() : memref<64xf32, #gpu.address_space<workgroup>>
// CHECK-NEXT: scf.for
// CHECK-NEXT: %[[ACC:.*]] = memref.alloca() : memref<f32>
// CHECK: memref.store %{{.*}}, %[[ACC]][]
// CHECK: scf.if
// CHECK: name = "softmax_max_rf"
// CHECK: memref.store %{{.*}}, %[[MAX]][%{{.*}}]
// CHECK: name = "softmax_max_rf_write_cache_0"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "[[LANES:.*]]"}
// CHECK-NEXT: gpu.barrier
// CHECK: arith.maximumf
// CHECK: name = "softmax_max_tree32"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "softmax_max_tree32"}
// CHECK-NEXT: gpu.barrier
// CHECK: name = "softmax_max_tree16"
// CHECK: name = "softmax_max_tree1"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "softmax_max_tree1"}
// CHECK-NEXT: scf.for %{{.*}} = %{{.*}} to %c1
// CHECK: name = "softmax_max"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "[[LANES]]_c"}
// CHECK-NEXT: gpu.barrier
// CHECK: name = "softmax_exp"
// CHECK-NEXT: } {tprog.loop = "{{.*}}"}
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "{{.*}}"}
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: memref.alloc() : memref<64xf32, #gpu.address_space<workgroup>>
// CHECK: name = "softmax_sum_rf"
// CHECK: name = "softmax_sum_tree1"
// CHECK: name = "softmax_sum"
// CHECK: gpu.barrier
// CHECK: name = "softmax_div"
// CHECK-NEXT: } {tprog.loop = "{{.*}}"}
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "{{.*}}"}
// CHECK-NEXT: } {tprog.kind = "blockIdx.x", tprog.loop = "i0"}
// CHECK-NEXT: return
func.func @sm(%x: tensor<4x100xf32>) -> tensor<4x100xf32> {
  %0 = "graph.softmax"(%x) {axis = 1 : i64} : (tensor<4x100xf32>) -> tensor<4x100xf32>
  return %0 : tensor<4x100xf32>
}

// -----

// A mean over the middle axis: the rows are the outer and inner axes fused (6 thread blocks);
// the division by the count, a nest without a loop of its own, runs on thread 0 of the row.
// CHECK-LABEL: func.func private @reduce_mean
// CHECK: name = "reduce_mean_rf"
// CHECK: name = "reduce_mean_tree32"
// CHECK: name = "reduce_mean"
// CHECK: gpu.barrier
// CHECK: name = "reduce_mean_div"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "unit"}
// CHECK-NEXT: } {tprog.kind = "blockIdx.x", tprog.loop = "i0_i2_fused"}
func.func @mid(%x: tensor<2x64x3xf32>) -> tensor<2x3xf32> {
  %0 = "graph.reduce_mean"(%x) {axes = array<i64: 1>, keepdim = false} : (tensor<2x64x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A full reduction of 128 elements: one thread block (a unit loop on blockIdx.x) of 128 threads.
// CHECK-LABEL: func.func private @reduce_max
// CHECK: memref.alloc() : memref<128xf32, #gpu.address_space<workgroup>>
// CHECK: name = "reduce_max_tree64"
// CHECK: name = "reduce_max"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "{{.*}}"}
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: } {tprog.kind = "blockIdx.x", tprog.loop = "unit"}
func.func @total(%x: tensor<8x16xf32>) -> tensor<f32> {
  %0 = "graph.reduce_max"(%x) {axes = array<i64: 0, 1>, keepdim = false} : (tensor<8x16xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// A matmul with a long k keeps its schedule (threads along k would not read coalesced).
// CHECK-LABEL: func.func private @matmul
// CHECK-NOT: gpu.barrier
// CHECK: name = "matmul"
// CHECK-NEXT: } {tprog.loop = "k"}
func.func @gemv(%x: tensor<2x300xf32>, %w: tensor<300x8xf32>) -> tensor<2x8xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<2x300xf32>, tensor<300x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}
