// RUN: strata-opt %s --split-input-file --graph-fuse-ops --convert-graph-to-tprog --tprog-gpu-schedule | FileCheck %s

// softmax: each reduction (max, then sum) puts its rows on threads, each thread reducing its row
// serially in a register written back after the loop; the elementwise steps are kernels of
// their own over all elements.
// CHECK-LABEL: func.func private @softmax
// CHECK: memref.alloca() : memref<f32>
// CHECK: name = "softmax_max"
// CHECK-NEXT: } {tprog.kind = "vectorized", tprog.loop = "r1"}
// CHECK: name = "softmax_max_write_cache_0"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "i0_5"}
// CHECK-NEXT: } {tprog.kind = "blockIdx.x", tprog.loop = "i0_4"}
// CHECK: name = "softmax_exp"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x"
// CHECK-NEXT: } {tprog.kind = "blockIdx.x"
// CHECK: name = "softmax_sum_write_cache_0"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x"
// CHECK-NEXT: } {tprog.kind = "blockIdx.x"
// CHECK: name = "softmax_div"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x"
// CHECK-NEXT: } {tprog.kind = "blockIdx.x"
// CHECK-NEXT: return
func.func @sm(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %0 = "graph.softmax"(%x) {axis = 1 : i64} : (tensor<4x10xf32>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// A reduction over the leading axis: its spatial loop moves outside the reduction loop.
// CHECK-LABEL: func.func private @reduce_sum
// CHECK: name = "reduce_sum"
// CHECK-NEXT: } {tprog.loop = "r0"}
// CHECK: name = "reduce_sum_write_cache_0"
// CHECK-NEXT: } {tprog.kind = "threadIdx.x", tprog.loop = "i1_1"}
// CHECK-NEXT: } {tprog.kind = "blockIdx.x", tprog.loop = "i1_0"}
func.func @colsum(%x: tensor<8x6xf32>) -> tensor<6xf32> {
  %0 = "graph.reduce_sum"(%x) {axes = array<i64: 0>, keepdim = false} : (tensor<8x6xf32>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// A full reduction has no spatial loop: it runs on one thread, under a unit loop bound to
// blockIdx.x (grid 1, block 1).
// CHECK-LABEL: func.func private @reduce_sum
// CHECK: scf.for %{{.*}} = %{{.*}} to %c1
// CHECK-NEXT: memref.alloca() : memref<f32>
// CHECK: name = "reduce_sum"
// CHECK: name = "reduce_sum_write_cache_0"
// CHECK-NEXT: } {tprog.kind = "blockIdx.x", tprog.loop = "unit"}
// CHECK-NOT: threadIdx
func.func @total(%x: tensor<8x6xf32>) -> tensor<f32> {
  %0 = "graph.reduce_sum"(%x) {axes = array<i64: 0, 1>, keepdim = false} : (tensor<8x6xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
