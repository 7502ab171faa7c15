// RUN: strata-opt %s --split-input-file --graph-fuse-ops --convert-graph-to-tprog --tprog-parallelize | FileCheck %s
// RUN: strata-opt %s --split-input-file --graph-fuse-ops --convert-graph-to-tprog --tprog-parallelize=min-iterations=1000000000 | FileCheck %s --check-prefix=SMALL
// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog --convert-tprog-to-hwprim --tprog-parallelize | FileCheck %s --check-prefix=TILED

// A large elementwise nest runs its outermost loop on threads.
// CHECK-LABEL: func.func private @fused_add_relu
// CHECK: } {tprog.loop = "i1"}
// CHECK-NEXT: } {tprog.kind = "parallel", tprog.loop = "i0"}
// SMALL-LABEL: func.func private @fused_add_relu
// SMALL-NOT: tprog.kind
func.func @f(%x: tensor<512x256xf32>, %y: tensor<256xf32>) -> tensor<512x256xf32> {
  %0 = "graph.add"(%x, %y) : (tensor<512x256xf32>, tensor<256xf32>) -> tensor<512x256xf32>
  %1 = "graph.relu"(%0) : (tensor<512x256xf32>) -> tensor<512x256xf32>
  return %1 : tensor<512x256xf32>
}

// -----

// A reduction loop is never made parallel: for a matmul the outermost spatial loop is, and the
// reduction loop k stays serial.
// CHECK-LABEL: func.func private @matmul
// CHECK: } {tprog.loop = "k"}
// CHECK-NEXT: } {tprog.loop = "j"}
// CHECK-NEXT: } {tprog.kind = "parallel", tprog.loop = "i"}
// A tensorized matmul keeps its own thread schedule (parallel column panels, serial row tiles);
// only the separate init nest gets threads.
// TILED-LABEL: func.func private @matmul
// TILED: name = "matmul_init"
// TILED: } {tprog.kind = "parallel", tprog.loop = "i"}
// TILED: } {tprog.loop = "i_1"}
// TILED-NEXT: } {tprog.kind = "parallel", tprog.loop = "j_1"}
func.func @mm(%x: tensor<256x128xf32>, %w: tensor<128x256xf32>) -> tensor<256x256xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<256x128xf32>, tensor<128x256xf32>) -> tensor<256x256xf32>
  return %0 : tensor<256x256xf32>
}
