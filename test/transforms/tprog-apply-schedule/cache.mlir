// RUN: strata-opt %s --graph-fuse-ops --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/cache.sched | FileCheck %s

// cache_read copies the weights into a local buffer before the matmul; cache_write makes the
// matmul accumulate into a local buffer that a copy block writes back after it.
// CHECK-LABEL: func.func private @fused_matmul_relu
// CHECK-SAME: %[[W:[a-z0-9]+]]: memref<64x32xf32>
// CHECK: %[[READ:.*]] = memref.alloc() : memref<64x32xf32>
// CHECK: %[[V:.*]] = memref.load %[[W]]
// CHECK: memref.store %[[V]], %[[READ]]
// CHECK: name = "matmul_read_cache_1"
// CHECK: %[[WRITE:.*]] = memref.alloc() : memref<16x32xf32>
// CHECK: memref.load %[[READ]]
// CHECK: memref.store %{{.*}}, %[[WRITE]]
// CHECK: name = "matmul"
// CHECK: memref.load %[[WRITE]]
// CHECK: name = "matmul_write_cache_0"
// CHECK: name = "relu"
func.func @f(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  %1 = "graph.relu"(%0) : (tensor<16x32xf32>) -> tensor<16x32xf32>
  return %1 : tensor<16x32xf32>
}
