// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/tensorize.sched | FileCheck %s

// tensorize with a sampled 4-row tile, 16 columns, packed rhs panels, on one thread.
// CHECK-LABEL: func.func private @matmul
// CHECK: name = "matmul_init"
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: %[[PANEL:.*]] = memref.subview %{{.*}}[0, %[[J]]] [64, 16] [1, 1]
// CHECK: %[[PACKED:.*]] = memref.alloc() : memref<64x16xf32>
// CHECK: name = "matmul_pack_rhs"
// CHECK: "hwprim.fma_microkernel"(%{{.*}}, %[[PACKED]], %{{.*}}) {vector_width = 8 : i64} : (memref<4x64xf32, {{.*}}>, memref<64x16xf32>, memref<4x16xf32, {{.*}}>) -> ()
// CHECK-NOT: tprog.kind = "parallel"
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
