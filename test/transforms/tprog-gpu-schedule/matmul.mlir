// RUN: strata-opt %s --split-input-file --graph-fuse-ops --convert-graph-to-tprog --tprog-gpu-schedule | FileCheck %s

// An f32 matmul with its bias and relu: 64x64 block tiles on blockIdx.y/x, 16x16 threads each
// accumulating a 4x4 micro-tile in registers (an alloca whose leading dimensions are the
// threads'), the 64x8 A and 8x64 B tiles of each k step in shared memory, fetched by all threads
// between barriers; the epilogue runs in the write-back. 100 rows and 70 columns are not tile
// multiples: the blocks' domains guard the tails.
// CHECK-LABEL: func.func private @fused_matmul_add_relu
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<100x48xf32>, %[[B:[a-z0-9]+]]: memref<48x70xf32>, %[[BIAS:[a-z0-9]+]]: memref<70xf32>, %[[C:[a-z0-9]+]]: memref<100x70xf32>
// CHECK-NOT: memref.alloc()
// CHECK: scf.for
// CHECK: scf.for
// CHECK-DAG: %[[BS:.*]] = memref.alloc() : memref<8x64xf32, #gpu.address_space<workgroup>>
// CHECK-DAG: %[[AS:.*]] = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
// CHECK-DAG: %[[ACC:.*]] = memref.alloca() {tprog.thread_dims = ["threadIdx.y", "threadIdx.x"]} : memref<16x16x4x4xf32>
// CHECK: scf.for
// CHECK-NEXT: gpu.barrier
// CHECK: memref.load %[[B]]
// CHECK: memref.store %{{.*}}, %[[BS]]
// CHECK: tprog.kind = "threadIdx.x"
// CHECK: tprog.kind = "threadIdx.y"
// CHECK: memref.load %[[A]]
// CHECK: memref.store %{{.*}}, %[[AS]]
// CHECK: tprog.kind = "threadIdx.x"
// CHECK: tprog.kind = "threadIdx.y"
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[ACC]]
// CHECK: memref.load %[[AS]]
// CHECK: memref.load %[[BS]]
// CHECK: memref.load %[[ACC]]
// CHECK: memref.store %{{.*}}, %[[ACC]]
// CHECK: name = "matmul"
// CHECK: tprog.kind = "unrolled", tprog.loop = "j_2"
// CHECK: tprog.kind = "unrolled", tprog.loop = "i_2"
// CHECK: tprog.kind = "unrolled", tprog.loop = "k_1"
// CHECK: tprog.kind = "threadIdx.x", tprog.loop = "j_1"
// CHECK: tprog.kind = "threadIdx.y", tprog.loop = "i_1"
// CHECK: } {tprog.loop = "k_0"}
// CHECK: %[[SUM:.*]] = memref.load %[[ACC]]
// CHECK: memref.load %[[BIAS]]
// CHECK: arith.addf %[[SUM]]
// CHECK: %[[R:.*]] = arith.maximumf
// CHECK: memref.store %[[R]], %[[C]]
// CHECK: name = "matmul_write_cache_0"
// CHECK: tprog.kind = "threadIdx.x", tprog.loop = "j_1_wb"
// CHECK: tprog.kind = "threadIdx.y", tprog.loop = "i_1_wb"
// CHECK: tprog.kind = "blockIdx.x", tprog.loop = "j_0"
// CHECK: tprog.kind = "blockIdx.y", tprog.loop = "i_0"
// CHECK-NOT: scf.for
// CHECK: return
func.func @f(%x: tensor<100x48xf32>, %w: tensor<48x70xf32>, %b: tensor<70xf32>) -> tensor<100x70xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<100x48xf32>, tensor<48x70xf32>) -> tensor<100x70xf32>
  %1 = "graph.add"(%0, %b) : (tensor<100x70xf32>, tensor<70xf32>) -> tensor<100x70xf32>
  %2 = "graph.relu"(%1) : (tensor<100x70xf32>) -> tensor<100x70xf32>
  return %2 : tensor<100x70xf32>
}

// -----

// A batched matmul: the batch loops fused onto blockIdx.z, above the row and column tiles.
// CHECK-LABEL: func.func private @matmul
// CHECK: memref<1x1x64x8xf32, #gpu.address_space<workgroup>>
// CHECK: tprog.kind = "blockIdx.x", tprog.loop = "j_0"
// CHECK: tprog.kind = "blockIdx.y", tprog.loop = "i_0"
// CHECK: tprog.kind = "blockIdx.z", tprog.loop = "b0_b1_fused"
func.func @batched(%x: tensor<2x3x40x16xf32>, %w: tensor<2x3x16x48xf32>) -> tensor<2x3x40x48xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<2x3x40x16xf32>, tensor<2x3x16x48xf32>) -> tensor<2x3x40x48xf32>
  return %0 : tensor<2x3x40x48xf32>
}

// -----

// A matmul with few rows (an MLP layer at batch 4) gets the simpler schedule: its 512 outputs
// on threads, each reducing over k serially in a register; relu runs in the write-back.
// CHECK-LABEL: func.func private @fused_matmul_relu
// CHECK-NOT: workgroup
// CHECK: memref.alloca() : memref<f32>
// CHECK: name = "matmul"
// CHECK: } {tprog.loop = "k"}
// CHECK: arith.maximumf
// CHECK: name = "matmul_write_cache_0"
// CHECK: } {tprog.kind = "threadIdx.x", tprog.loop = "i_j_fused_1"}
// CHECK: } {tprog.kind = "blockIdx.x", tprog.loop = "i_j_fused_0"}
// CHECK-NOT: scf.for
// CHECK: return
func.func @rows(%x: tensor<4x784xf32>, %w: tensor<784x128xf32>) -> tensor<4x128xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<4x784xf32>, tensor<784x128xf32>) -> tensor<4x128xf32>
  %1 = "graph.relu"(%0) : (tensor<4x128xf32>) -> tensor<4x128xf32>
  return %1 : tensor<4x128xf32>
}
