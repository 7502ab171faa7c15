// RUN: strata-opt %s --convert-graph-to-tprog --convert-tprog-to-hwprim=vector-width=16 | FileCheck %s

// A batched matmul whose rhs is broadcast over the batch: the batch dimension stays a loop
// (parallel: 4 batches of 128x40x96 are worth threads), tiles take rank-reduced subviews, and the
// broadcast rhs is read at batch offset 0.
// CHECK-LABEL: func.func private @matmul
// CHECK-SAME: (%[[A:[a-z0-9_]+]]: memref<4x128x96xf32>, %[[B:[a-z0-9_]+]]: memref<96x40xf32>, %[[C:[a-z0-9_]+]]: memref<4x128x40xf32>)
// CHECK: name = "matmul_init"
// CHECK: scf.for %[[BATCH:[a-z0-9_]+]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: memref.subview %[[B]][0, %{{.*}}] [96, 32] [1, 1]
// CHECK: memref.subview %[[A]][%[[BATCH]], %{{.*}}, 0] [1, 8, 96] [1, 1, 1] : memref<4x128x96xf32> to memref<8x96xf32, strided<[96, 1], offset: ?>>
// CHECK: memref.subview %[[C]][%[[BATCH]], %{{.*}}, %{{.*}}] [1, 8, 32] [1, 1, 1] : memref<4x128x40xf32> to memref<8x32xf32, strided<[40, 1], offset: ?>>
// CHECK: "hwprim.fma_microkernel"
// CHECK: } {tprog.kind = "parallel", tprog.loop = "b0_1"}
// CHECK-NOT: "tprog.block"{{.*}}name = "matmul"}
func.func @bmm(%x: tensor<4x128x96xf32>, %w: tensor<96x40xf32>) -> tensor<4x128x40xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<4x128x96xf32>, tensor<96x40xf32>) -> tensor<4x128x40xf32>
  return %0 : tensor<4x128x40xf32>
}
